import { normalize, sum } from './fixed.ts'
import type { SparseMatrix } from './types.ts'

/**
 * subtensor's `weighted_median`: a deterministic mid-pivot selection over `idx`.
 * The pivot is the score at position ⌊len/2⌋ of the current (unsorted) index list; entries tied
 * with the pivot are set aside. With lo/hi the stake bounds of the current partition:
 * go lower if minority < lo + lo_stake, else upper if hi − hi_stake ≤ minority, else return the
 * pivot. A safety stop returns 0 after len(idx) + 1 rounds.
 */
export function weightedMedian(
  stake: readonly number[],
  score: readonly number[],
  partition: readonly number[],
  minority: number,
  lo: number,
  hi: number,
): number {
  let current = partition
  const limit = partition.length
  let rounds = 0
  for (;;) {
    const n = current.length
    if (n === 0) return 0
    if (n === 1) return score[current[0]!]!
    const pivot = score[current[n >> 1]!]!
    let loStake = 0
    let hiStake = 0
    const lower: number[] = []
    const upper: number[] = []
    for (const i of current) {
      const s = score[i]!
      if (s === pivot) continue
      if (s < pivot) {
        loStake += stake[i]!
        lower.push(i)
      } else {
        hiStake += stake[i]!
        upper.push(i)
      }
    }
    if (minority < lo + loStake && lower.length > 0) {
      current = lower
      hi = lo + loStake
    } else if (hi - hiStake <= minority && upper.length > 0) {
      current = upper
      lo = hi - hiStake
    } else {
      return pivot
    }
    rounds += 1
    if (rounds > limit) return 0
  }
}

/**
 * `weighted_median_col_sparse`: consensus per column. Rows with active stake > 0 are kept and
 * their stakes renormalised; minority = Σ(kept stake) − κ; an absent entry scores 0.
 */
export function weightedMedianColSparse(
  activeStake: readonly number[],
  weights: SparseMatrix,
  columns: number,
  kappa: number,
): number[] {
  const rows: number[] = []
  for (let r = 0; r < activeStake.length; r++) if (activeStake[r]! > 0) rows.push(r)
  const useStake = normalize(rows.map((r) => activeStake[r]!))
  const stakeSum = sum(useStake)
  const minority = stakeSum - kappa
  const idx = useStake.map((_, k) => k)
  // use_score[c][k]: column-major, prefilled with zeros.
  const scores: number[][] = Array.from({ length: columns }, () => new Array(rows.length).fill(0))
  rows.forEach((r, k) => {
    for (const [c, v] of weights[r] ?? []) if (c < columns) scores[c]![k] = v
  })
  return scores.map((col) => weightedMedian(useStake, col, idx, minority, 0, stakeSum))
}
