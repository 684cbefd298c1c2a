import { describe, expect, it } from 'vitest'
import { cosSin, expNonPositive, F, fromDouble, LN2, ln, ONE, PI, toFixed } from './bigmath.ts'
import { ROPE_BITS, ropeInverseFrequencies, ropeRow } from './rope.ts'

// Math.* here only measures accuracy; it never decides an output.
const toNumber = (x: bigint) => Number(x) / Number(ONE)

describe('BigInt fixed-point math', () => {
  it('has ln2 and pi to within 2^-90', () => {
    expect(Number(LN2 - 54916777467707473351141471128n)).toBeLessThan(64) // floor(ln 2 * 2^96), independently known
    expect(LN2).toBe(54916777467707473351141471098n) // pinned: the series' own truncation
    expect(toNumber(PI)).toBe(Math.PI)
    expect(Math.abs(Number(PI - 248902613312231085230521944622n))).toBeLessThan(64) // floor(pi * 2^96)
  })

  it('ln, exp, cos and sin agree with float math to double precision', () => {
    for (const x of [0.001, 0.5, 1, 2, 10000, 500000]) {
      expect(toNumber(ln(fromDouble(x)))).toBeCloseTo(Math.log(x), 12)
    }
    for (const y of [0, -0.3, -1, -9.2, -40]) {
      expect(toNumber(expNonPositive(BigInt(Math.round(y * 1e6)) * (ONE / 1000000n)))).toBeCloseTo(
        Math.exp(y),
        12,
      )
    }
    for (const a of [0, 1, -2.5, Math.PI, 100, 12345.678]) {
      const [c, s] = cosSin(a === 0 ? 0n : fromDouble(Math.abs(a)) * (a < 0 ? -1n : 1n))
      expect(toNumber(c)).toBeCloseTo(Math.cos(a), 9)
      expect(toNumber(s)).toBeCloseTo(Math.sin(a), 9)
    }
  })

  it('rounds to fixed point with ties up', () => {
    expect(toFixed(ONE / 2n, 0n)).toBe(1)
    expect(toFixed(-ONE / 2n, 0n)).toBe(0)
    expect(toFixed(ONE * 3n, 20n)).toBe(3 * 2 ** 20)
    expect(F).toBe(96n)
  })
})

describe('RoPE tables', () => {
  it('are within one Q20 step of float cos/sin and pinned at a golden entry', () => {
    const inv = ropeInverseFrequencies(10000, 48)
    const row = new Int32Array(48)
    for (const pos of [0, 1, 7, 100, 2047]) {
      ropeRow(inv, pos, row)
      for (let i = 0; i < 24; i++) {
        const angle = pos * 10000 ** (-(2 * i) / 48)
        expect(Math.abs(row[2 * i]! - Math.cos(angle) * 2 ** ROPE_BITS)).toBeLessThanOrEqual(1)
        expect(Math.abs(row[2 * i + 1]! - Math.sin(angle) * 2 ** ROPE_BITS)).toBeLessThanOrEqual(1)
      }
    }
    ropeRow(inv, 100, row)
    expect(Array.from(row.subarray(0, 6))).toMatchInlineSnapshot(`
      [
        904207,
        -530963,
        578992,
        -874231,
        -796564,
        681907,
      ]
    `)
  })
})
