import { describe, expect, it } from 'vitest'
import { expSafe } from './exp.ts'
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
  it('clamps to [-20, 20]', () => {
    expect(expSafe(25 * ONE)).toBe(expSafe(20 * ONE))
    expect(expSafe(-25 * ONE)).toBe(expSafe(-20 * ONE))
  })
})
