import { describe, expect, it } from 'vitest'
import { visionScore, visionWeights } from './scoring.ts'

const tally = (o: Partial<Parameters<typeof visionScore>[0]> = {}) => ({
  sent: 4,
  answered: 4,
  valid: 4,
  convicted: 0,
  latenciesMs: [700, 800, 900, 1000],
  ...o,
})

describe('visionScore', () => {
  it('is 1 for every image proven within the target latency', () => {
    expect(visionScore(tally(), 2000)).toBe(1)
  })

  it('scales with valid proofs, availability and latency', () => {
    expect(visionScore(tally({ valid: 2 }), 2000)).toBe(0.5)
    // 3 of 4 answered, all valid: 0.75 valid × 0.75 available
    expect(visionScore(tally({ answered: 3, valid: 3, latenciesMs: [1, 2, 3] }), 2000)).toBe(0.5625)
    // median 4000 ms against a 2000 ms target: half
    expect(visionScore(tally({ latenciesMs: [4000, 4000, 5000, 9000] }), 2000)).toBe(0.5)
  })

  it('is 0 for one convicting answer, no valid answer, or nothing sent', () => {
    expect(visionScore(tally({ valid: 3, convicted: 1 }), 2000)).toBe(0)
    expect(visionScore(tally({ valid: 0 }), 2000)).toBe(0)
    expect(visionScore(tally({ sent: 0, answered: 0, valid: 0, latenciesMs: [] }), 2000)).toBe(0)
  })
})

describe('visionWeights', () => {
  it('puts the best at 65535 and the rest in proportion', () => {
    expect(visionWeights([1, 0.5, 0])).toEqual([65_535, 32_768, 0])
    expect(visionWeights([0, 0])).toEqual([0, 0])
    expect(visionWeights([])).toEqual([])
  })
})
