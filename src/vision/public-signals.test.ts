import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { ProofError } from '../errors/vision.ts'
import {
  circuitInput,
  packPixels,
  packScores,
  parsePublicSignals,
  publicSignals,
  unpackPixels,
  unpackScores,
} from './public-signals.ts'

const pixelsArb = fc.array(fc.integer({ min: 0, max: 16 }), { minLength: 64, maxLength: 64 })
const scoresArb = fc.array(fc.integer({ min: -(2 ** 22), max: 2 ** 22 - 1 }), {
  minLength: 10,
  maxLength: 10,
})

describe('public signal packing', () => {
  it('round-trips pixels and scores and stays below 160 / 230 bits', () => {
    fc.assert(
      fc.property(pixelsArb, scoresArb, (px, sc) => {
        const p = packPixels(px)
        expect(unpackPixels(p)).toEqual(px)
        expect(p.every((v) => v < 1n << 160n)).toBe(true)
        const s = packScores(sc)
        expect(unpackScores(s)).toEqual(sc)
        expect(s < 1n << 230n).toBe(true)
      }),
    )
  })

  it('packs pixel i at bits 5i of its element', () => {
    const px = new Array(64).fill(0)
    px[33] = 16
    expect(packPixels(px)).toEqual([0n, 16n << 5n])
    expect(packScores([1, 0, 0, 0, 0, 0, 0, 0, 0, -1])).toBe(
      ((1n << 22n) + 1n) * 1n +
        [1, 2, 3, 4, 5, 6, 7, 8].reduce((a, k) => a + ((1n << 22n) << BigInt(23 * k)), 0n) +
        (((1n << 22n) - 1n) << 207n),
    )
  })

  it('refuses out-of-range scores, pixels and malformed signals', () => {
    expect(() => packScores([2 ** 22, 0, 0, 0, 0, 0, 0, 0, 0, 0])).toThrow(ProofError)
    expect(() => packScores([-(2 ** 22) - 1, 0, 0, 0, 0, 0, 0, 0, 0, 0])).toThrow(ProofError)
    expect(() => packScores([0])).toThrow(ProofError)
    expect(() => unpackPixels([17n, 0n])).toThrow(ProofError)
    expect(() => unpackPixels([1n << 160n, 0n])).toThrow(ProofError)
    expect(() => unpackScores(1n << 230n)).toThrow(ProofError)
    expect(() => parsePublicSignals(['1', '2', '3'])).toThrow(ProofError)
    expect(() => parsePublicSignals(['1', '2', '3', '10'])).toThrow(/label/)
    expect(() => parsePublicSignals(['1', '2', '-3', '1'])).toThrow(ProofError)
    expect(() => parsePublicSignals(['1', '2', '0x3', '1'])).toThrow(ProofError)
    const p = { pixelsPacked: [5n, 6n] as [bigint, bigint], scoresPacked: 7n, label: 8 }
    expect(parsePublicSignals(publicSignals(p))).toEqual(p)
  })

  it('circuit input carries the public signals and the private pixels as decimal strings', () => {
    const px = Array.from({ length: 64 }, (_, i) => i % 17)
    const input = circuitInput(px, [0, 1, 2, 3, 4, 5, 6, 7, 8, -9], 8)
    expect(input.pixels).toEqual(px.map(String))
    expect(input.label).toBe('8')
    expect(input.pixelsPacked).toEqual(packPixels(px).map(String))
  })
})
