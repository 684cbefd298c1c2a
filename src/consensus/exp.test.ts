import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { expSafe, expSafeExact } from './exp.ts'
import { ONE } from './fixed.ts'

describe('expSafe (substrate-fixed Taylor exp)', () => {
  it('handles the special cases exactly', () => {
    expect(expSafe(0)).toBe(ONE)
    expect(expSafe(ONE)).toBe(22802600 * 512) // the I9F23 constant e, widened
  })
  it('stays within 1e-7 relative of e^x on the sigmoid range [-5, 5]', () => {
    let worst = 0
    for (let k = -500; k <= 500; k += 7) {
      const x = (k / 100) * ONE
      const got = expSafe(Math.round(x)) / ONE
      const want = Math.exp(Math.round(x) / ONE) // reference only, in a test
      worst = Math.max(worst, Math.abs(got - want) / want)
    }
    // Measured: 2.5e-8, dominated by the 2^-32 quantum of small results (docs/CONSENSUS.md).
    expect(worst).toBeLessThan(1e-7)
  })
  it('the double fast path gives the BigInt bits for every input', () => {
    // Random raw inputs across and beyond the fast range [-13, 13], plus its edges.
    const edges = [-13, -5, -1, 1, 5, 13].flatMap((k) => [k * ONE - 1, k * ONE, k * ONE + 1])
    for (const x of [...edges, 1, -1, ONE / 2, -ONE / 2]) expect(expSafe(x)).toBe(expSafeExact(x))
    fc.assert(
      fc.property(fc.integer({ min: -21 * ONE, max: 21 * ONE }), (x) => {
        expect(expSafe(x)).toBe(expSafeExact(x))
      }),
      { seed: 20260630, numRuns: 3000 },
    )
  })
  it('clamps to [-20, 20]', () => {
    expect(expSafe(25 * ONE)).toBe(expSafe(20 * ONE))
    expect(expSafe(-25 * ONE)).toBe(expSafe(-20 * ONE))
  })
})
