import { describe, expect, it } from 'vitest'
import { ONE } from './fixed.ts'
import { isTopkNonzero, stakeWeights } from './stake.ts'

describe('stake weight and permits', () => {
  it('normalises in I64F64 and narrows to I32F32', () => {
    expect(stakeWeights([1n, 2n, 3n, 4n], 0n, null)).toEqual([
      429496729, 858993459, 1288490188, 1717986918,
    ])
    expect(stakeWeights([0n, 0n], 0n, null)).toEqual([0, 0])
  })
  it('applies the threshold except for the owner', () => {
    expect(stakeWeights([5n, 50n], 10n, null)).toEqual([0, ONE])
    expect(stakeWeights([5n, 50n], 10n, 0)[0]).toBe(390451572)
  })
  it('top-k: zeros never get a permit, the lower uid loses a tie', () => {
    expect(isTopkNonzero([5, 5, 5, 0], 2)).toEqual([false, true, true, false])
    expect(isTopkNonzero([0, 3], 5)).toEqual([false, true])
  })
})
