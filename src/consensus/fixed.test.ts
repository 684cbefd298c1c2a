import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { div, fromU16Proportion, mul, ONE, roundToInt, toU16Proportion } from './fixed.ts'

const SEED = 20260630

describe('I32F32 arithmetic', () => {
  it('multiplies with floor, divides with truncation', () => {
    expect(mul(ONE / 2, ONE / 2)).toBe(ONE / 4)
    expect(mul(3, 1)).toBe(0) // 3·2^-32 · 2^-32 floors to 0
    expect(mul(-1, 1)).toBe(-1) // floor, not truncation, for negatives
    expect(div(1, 3)).toBe(1431655765) // trunc(2^32 / 3)
    expect(div(-1, 3)).toBe(-1431655765) // truncation toward zero
    expect(div(5, 0)).toBe(0) // safe_div
  })
  it('converts u16 proportions like subtensor', () => {
    expect(fromU16Proportion(32767)).toBe(2147450879) // kappa default
    expect(fromU16Proportion(65535)).toBe(ONE)
    expect(toU16Proportion(ONE)).toBe(65535)
    expect(toU16Proportion(ONE / 2)).toBe(32767)
    expect(toU16Proportion(2 * ONE)).toBe(65535) // saturates
    expect(roundToInt(ONE + ONE / 2)).toBe(2) // ties away from zero
    expect(roundToInt(-(ONE + ONE / 2))).toBe(-2)
  })
  it('mul and div agree with BigInt on random operands', () => {
    const operand = fc.integer({ min: 0, max: 2 ** 40 })
    fc.assert(
      fc.property(operand, operand, (a, b) => {
        expect(mul(a, b)).toBe(Number((BigInt(a) * BigInt(b)) >> 32n))
        const q = b > 0 ? (BigInt(a) << 32n) / BigInt(b) : 0n
        if (b > 0 && q < 2n ** 53n) expect(div(a, b)).toBe(Number(q))
      }),
      { seed: SEED, numRuns: 2000 },
    )
  })
  it('signed mul and large-divisor div take exact double paths that agree with BigInt', () => {
    // Reference: the saturating BigInt formulas (BigInt >> floors, / truncates).
    const refMul = (a: number, b: number) => Number((BigInt(a) * BigInt(b)) >> 32n)
    const refDiv = (a: number, b: number) => Number((BigInt(a) << 32n) / BigInt(b))
    const signed = fc.oneof(
      fc.integer({ min: -(2 ** 40), max: 2 ** 40 }),
      fc.integer({ min: -(2 ** 36), max: 2 ** 36 }).map((x) => x * 2 ** 4), // low bits zero
      fc.constantFrom(0, -1, 1, -ONE, ONE, -(ONE / 2), -42949672960),
    )
    fc.assert(
      fc.property(signed, signed, (a, b) => {
        expect(Object.is(mul(a, b), refMul(a, b))).toBe(true)
      }),
      { seed: SEED, numRuns: 4000 },
    )
    const small = fc.integer({ min: 0, max: 2 ** 21 })
    const divisor = fc.oneof(
      fc.integer({ min: 1, max: 2 ** 24 }),
      fc.integer({ min: 1, max: 2 ** 52 }),
    )
    fc.assert(
      fc.property(small, divisor, (a, b) => {
        if (a / b < 2 ** 20) expect(div(a, b)).toBe(refDiv(a, b))
      }),
      { seed: SEED, numRuns: 4000 },
    )
    const big = fc.integer({ min: 2 ** 36, max: 2 ** 46 })
    const num = fc.integer({ min: 0, max: 2 ** 51 })
    fc.assert(
      fc.property(num, big, (a, b) => {
        if (a / b < 2 ** 20) expect(div(a, b)).toBe(refDiv(a, b))
      }),
      { seed: SEED, numRuns: 4000 },
    )
    for (const x of [0, 1, ONE - 1, ONE, 2 ** 37 - 1, 2 ** 37, 2 ** 40, 2 ** 50])
      expect(toU16Proportion(x)).toBe(Math.min(Math.floor(refMul(x, 65535 * ONE) / ONE), 65535))
  })
})
