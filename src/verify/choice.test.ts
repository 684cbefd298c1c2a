import { createHash } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { choiceRequests, choiceSeed, MAX_CHOICES } from './choice.ts'

describe('choiceSeed', () => {
  it('keeps the seed for choice 0 and derives distinct 53-bit seeds for the others', () => {
    expect(choiceSeed(42, 0)).toBe(42)
    const seeds = Array.from({ length: MAX_CHOICES }, (_, i) => choiceSeed(42, i))
    expect(new Set(seeds).size).toBe(MAX_CHOICES)
    for (const s of seeds) expect(Number.isSafeInteger(s) && s >= 0).toBe(true)
    // another request seed gives other choice seeds
    expect(choiceSeed(43, 1)).not.toBe(choiceSeed(42, 1))
    expect(choiceSeed(Number.MAX_SAFE_INTEGER, 7)).toBeLessThanOrEqual(Number.MAX_SAFE_INTEGER)
  })

  it('is sha256("verity/choice" || seed as 8 bytes || index as 4 bytes), top 53 bits', () => {
    for (const [seed, i] of [
      [11, 1],
      [11, 7],
      [2 ** 40 + 3, 2],
    ] as const) {
      const buf = Buffer.alloc(25)
      buf.write('verity/choice')
      buf.writeBigUInt64BE(BigInt(seed), 13)
      buf.writeUInt32BE(i, 21)
      const top = createHash('sha256').update(buf).digest().readBigUInt64BE(0) >> 11n
      expect(choiceSeed(seed, i)).toBe(Number(top))
    }
    expect(choiceSeed(11, 1)).toBe(2335858637136357) // pinned: old answers must stay verifiable
  })

  it('refuses bad seeds and indices', () => {
    expect(() => choiceSeed(-1, 1)).toThrow(/seed/)
    expect(() => choiceSeed(1.5, 1)).toThrow(/seed/)
    expect(() => choiceSeed(1, MAX_CHOICES)).toThrow(/index/)
    expect(() => choiceSeed(1, -1)).toThrow(/index/)
  })

  it('choiceRequests changes only the seed', () => {
    const base = {
      modelRoot: `0x${'00'.repeat(32)}`,
      promptTokens: [1],
      maxTokens: 1,
      params: { temperatureMilli: 1000, topK: 0, topPMilli: 1000 },
      seed: 5,
      stopTokens: [],
      stop: [],
    } as const
    const reqs = choiceRequests({ ...base, promptTokens: [1], stopTokens: [], stop: [] }, 3)
    expect(reqs.map((r) => r.seed)).toEqual([5, choiceSeed(5, 1), choiceSeed(5, 2)])
    expect(reqs[2]).toEqual({ ...base, seed: choiceSeed(5, 2) })
  })
})
