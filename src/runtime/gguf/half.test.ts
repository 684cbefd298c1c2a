import { describe, expect, it } from 'vitest'
import { floatBitsToHalf, floatToHalf, halfToFloat, halfToFloatBitsTable } from './half.ts'

const f32 = new Float32Array(1)
const u32 = new Uint32Array(f32.buffer)
const bitsOf = (x: number) => {
  f32[0] = x
  return u32[0]!
}
const fromBits = (b: number) => {
  u32[0] = b
  return f32[0]!
}

describe('halfToFloat', () => {
  it('decodes hand-picked halves exactly', () => {
    expect(halfToFloat(0x0000)).toBe(0)
    expect(Object.is(halfToFloat(0x8000), -0)).toBe(true)
    expect(halfToFloat(0x3c00)).toBe(1)
    expect(halfToFloat(0xc000)).toBe(-2)
    expect(halfToFloat(0x3555)).toBe(0.333251953125)
    expect(halfToFloat(0x7bff)).toBe(65504)
    expect(halfToFloat(0x0400)).toBe(2 ** -14) // smallest normal
    expect(halfToFloat(0x0001)).toBe(2 ** -24) // smallest subnormal
    expect(halfToFloat(0x03ff)).toBe(1023 * 2 ** -24) // largest subnormal
    expect(halfToFloat(0x8001)).toBe(-(2 ** -24))
    expect(halfToFloat(0x7c00)).toBe(Number.POSITIVE_INFINITY)
    expect(halfToFloat(0xfc00)).toBe(Number.NEGATIVE_INFINITY)
    expect(halfToFloat(0x7e00)).toBeNaN()
    expect(halfToFloat(0x7c01)).toBeNaN()
  })

  it('matches the defining formula for all 65536 halves', () => {
    const table = halfToFloatBitsTable()
    for (let h = 0; h < 65536; h++) {
      const sign = h & 0x8000 ? -1 : 1
      const e = (h >> 10) & 0x1f
      const m = h & 0x3ff
      const expected =
        e === 0
          ? sign * m * 2 ** -24
          : e === 31
            ? m
              ? Number.NaN
              : sign * Infinity
            : sign * (1 + m / 1024) * 2 ** (e - 15)
      const got = fromBits(table[h]!)
      if (Number.isNaN(expected)) {
        expect(got).toBeNaN()
        // The payload travels into the float32 mantissa unchanged.
        expect(table[h]! & 0x7fffff).toBe(m << 13)
      } else {
        expect(Object.is(got, expected)).toBe(true)
      }
    }
  })
})

describe('floatToHalf', () => {
  it('encodes hand-picked floats', () => {
    expect(floatToHalf(0)).toBe(0x0000)
    expect(floatToHalf(-0)).toBe(0x8000)
    expect(floatToHalf(1)).toBe(0x3c00)
    expect(floatToHalf(-2)).toBe(0xc000)
    expect(floatToHalf(65504)).toBe(0x7bff)
    expect(floatToHalf(65519.99)).toBe(0x7bff) // just below the rounding boundary
    expect(floatToHalf(65520)).toBe(0x7c00) // the tie rounds to even: inf
    expect(floatToHalf(1e6)).toBe(0x7c00)
    expect(floatToHalf(-1e6)).toBe(0xfc00)
    expect(floatToHalf(Infinity)).toBe(0x7c00)
    expect(floatToHalf(-Infinity)).toBe(0xfc00)
    expect(floatToHalf(Number.NaN) & 0x7e00).toBe(0x7e00)
    expect(floatToHalf(2 ** -14)).toBe(0x0400)
    expect(floatToHalf(2 ** -24)).toBe(0x0001)
    expect(floatToHalf(2 ** -25)).toBe(0x0000) // tie between 0 and 2^-24: even is 0
    expect(floatToHalf(1.5 * 2 ** -25)).toBe(0x0001)
    expect(floatToHalf(3 * 2 ** -25)).toBe(0x0002) // tie between 1 and 2 ulps: even is 2
    expect(floatToHalf(2 ** -26)).toBe(0x0000)
    expect(floatToHalf(-(2 ** -30))).toBe(0x8000)
    expect(floatToHalf(0.1)).toBe(0x2e66)
    expect(floatToHalf(1 / 3)).toBe(0x3555)
    expect(floatToHalf(1 + 2 ** -11)).toBe(0x3c00) // tie: even mantissa 0
    expect(floatToHalf(1 + 3 * 2 ** -11)).toBe(0x3c02) // tie: even mantissa 2
    expect(floatToHalf(1 - 2 ** -12)).toBe(0x3c00) // tie above 0x3bff (odd): carries into the exponent
    expect(floatToHalf(1.401298464324817e-45)).toBe(0x0000) // smallest float32 subnormal
  })

  it('rounds to nearest even around every midpoint between finite halves', () => {
    // Midpoints between consecutive halves have 12 significant bits, so they are exact float32.
    // (The last gap, 65504 to inf, is covered by the 65520 case above.)
    const wrong: string[] = []
    const check = (bits: number, expected: number) => {
      const got = floatBitsToHalf(bits >>> 0)
      if (got !== expected) wrong.push(`0x${(bits >>> 0).toString(16)} -> 0x${got.toString(16)}`)
    }
    for (let h = 0; h < 0x7bff; h++) {
      const a = halfToFloat(h)
      const mid = (a + halfToFloat(h + 1)) / 2
      const even = h % 2 === 0 ? h : h + 1
      const midBits = bitsOf(mid)
      for (const sign of [0, 0x8000]) {
        const s = sign ? 0x80000000 : 0
        check(midBits | s, even | sign)
        check((midBits - 1) | s, h | sign)
        check((midBits + 1) | s, (h + 1) | sign)
        check(bitsOf(a) | s, h | sign)
      }
    }
    expect(wrong).toEqual([])
  })
})
