import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { EXP2_TABLE, expQ30, LN2_Q26, LOG2E_Q30 } from './exp.ts'
import {
  bitLength,
  floorDiv,
  isqrt,
  pow2,
  roundDiv,
  roundDivSym,
  roundShift,
  sat32,
} from './int.ts'

const big = (n: number) => BigInt(n)
const bigFloorDiv = (a: bigint, b: bigint) => {
  const q = a / b
  return a % b !== 0n && a < 0n !== b < 0n ? q - 1n : q
}

describe('integer primitives', () => {
  it('floorDiv matches BigInt floor division near 2^53', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: -(2 ** 52), max: 2 ** 52 }),
        fc.integer({ min: 1, max: 2 ** 40 }),
        (a, b) => big(floorDiv(a, b)) === bigFloorDiv(big(a), big(b)),
      ),
      { seed: 1, numRuns: 5000 },
    )
  })

  it('roundDiv rounds ties up, roundDivSym away from zero', () => {
    expect([roundDiv(5, 2), roundDiv(-5, 2), roundDiv(7, 3), roundDiv(-7, 3)]).toEqual([
      3, -2, 2, -2,
    ])
    expect([roundDivSym(5, 2), roundDivSym(-5, 2), roundDivSym(-7, 3)]).toEqual([3, -3, -2])
  })

  it('roundShift is floor((v + 2^(s-1)) / 2^s) and a left shift for s < 0', () => {
    expect([roundShift(3, 1), roundShift(-3, 1), roundShift(5, 2), roundShift(-6, 2)]).toEqual([
      2, -1, 1, -1,
    ])
    expect(roundShift(3, -4)).toBe(48)
    expect(roundShift(2 ** 51, 60)).toBe(0)
    fc.assert(
      fc.property(
        fc.integer({ min: -(2 ** 51), max: 2 ** 51 }),
        fc.integer({ min: 1, max: 53 }),
        (v, s) => {
          const want = bigFloorDiv(big(v) + (1n << big(s - 1)), 1n << big(s))
          return big(roundShift(v, s)) === want
        },
      ),
      { seed: 2, numRuns: 5000 },
    )
  })

  it('isqrt is the exact floor square root', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 2 ** 53 - 1 }), (v) => {
        const s = isqrt(v)
        return big(s) * big(s) <= big(v) && (big(s) + 1n) ** 2n > big(v)
      }),
      { seed: 3, numRuns: 5000 },
    )
    expect(isqrt(2 ** 52)).toBe(2 ** 26)
    expect(isqrt(2 ** 52 - 1)).toBe(2 ** 26 - 1)
  })

  it('bitLength, pow2 and sat32', () => {
    expect([
      bitLength(0),
      bitLength(1),
      bitLength(255),
      bitLength(256),
      bitLength(2 ** 40),
    ]).toEqual([0, 1, 8, 9, 41])
    expect(pow2(52)).toBe(4503599627370496)
    expect(pow2(1023)).toBe(2 ** 1023)
    expect(() => pow2(1024)).toThrow(RangeError)
    expect(() => pow2(-1)).toThrow(RangeError)
    expect(() => pow2(2.5)).toThrow(RangeError)
    expect([sat32(2 ** 40), sat32(-(2 ** 40)), sat32(-5)]).toEqual([0x7fffffff, -0x7fffffff, -5])
  })
})

describe('expQ30', () => {
  it('uses the constants log2(e) and ln(2) rounded', () => {
    expect(LOG2E_Q30).toBe(Math.round(Math.LOG2E * 2 ** 30))
    expect(LN2_Q26).toBe(Math.round(Math.LN2 * 2 ** 26))
  })

  it('is exact at 0 and within 3e-8 of e^x over [-32, 0]', () => {
    expect(expQ30(0)).toBe(2 ** 30)
    let worst = 0
    for (let d = 0; d >= -32 * 65536; d -= 977) {
      // Math.exp only checks accuracy here; it never decides an output.
      const err = Math.abs(expQ30(d) / 2 ** 30 - Math.exp(d / 65536))
      worst = Math.max(worst, err)
    }
    expect(worst).toBeLessThan(3e-8)
    expect(expQ30(-33 * 65536)).toBe(0)
  })

  it('is monotone non-decreasing in d, and its table is pinned', () => {
    let prev = 0
    for (let d = -20 * 65536; d <= 0; d += 131) {
      const v = expQ30(d)
      expect(v).toBeGreaterThanOrEqual(prev)
      prev = v
    }
    expect(EXP2_TABLE[0]).toBe(2 ** 26)
    expect(Array.from(EXP2_TABLE.subarray(1, 4))).toEqual([66927405, 66746437, 66565959]) // round(2^(26 - i/256)), computed independently
    expect(EXP2_TABLE[255]).toBe(Math.round(2 ** (26 - 255 / 256)))
  })
})
