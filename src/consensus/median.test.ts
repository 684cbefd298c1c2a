import { describe, expect, it } from 'vitest'
import { div, ONE } from './fixed.ts'
import { weightedMedian, weightedMedianColSparse } from './median.ts'

const kappa = div(32767, 65535)

describe('weighted median', () => {
  it('returns the score held by the stake majority', () => {
    const stake = [ONE / 4, ONE / 4, ONE / 2]
    const score = [ONE / 10, ONE / 5, ONE / 2]
    expect(weightedMedian(stake, score, [0, 1, 2], ONE - kappa, 0, ONE)).toBe(ONE / 2)
  })
  it('clips a minority that over-weights a column to the majority level', () => {
    // 60% stake gives 0.1, 40% gives 0.9: consensus is 0.1.
    const A = [div(6, 10), div(4, 10)]
    const W = [[[2, ONE / 10]], [[2, (ONE * 9) / 10]]] as Array<Array<[number, number]>>
    expect(weightedMedianColSparse(A, W, 3, kappa)[2]).toBe(ONE / 10)
  })
  it('empty partitions give 0, a single index its score', () => {
    expect(weightedMedian([ONE], [123], [], 0, 0, ONE)).toBe(0)
    expect(weightedMedian([ONE], [123], [0], 0, 0, ONE)).toBe(123)
  })
})
