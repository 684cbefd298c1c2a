import { normalize, sum } from './fixed.ts'
import { Csr, fromRows } from './sparse.ts'
import type { SparseMatrix } from './types.ts'

/**
 * Three index buffers for the median's partitions: the current list is one of them and the
 * lower/upper lists are written into the other two, so no round allocates.
 */
type Partitions = [Int32Array, Int32Array, Int32Array]

function partitions(size: number): Partitions {
  return [new Int32Array(size), new Int32Array(size), new Int32Array(size)]
}

/** medianColumns' buffers, kept across epochs (grown, never shrunk); runEpoch is synchronous. */
let pooledScores = new Float64Array(0)
let pooledStake = new Float64Array(0)
let pooledParts = partitions(0)

/**
 * subtensor's `weighted_median` over the first `len` indices of bufs[0], reading scores at
 * score[base + i]. The pivot is the score at position ⌊len/2⌋ of the current (unsorted) index
 * list; entries tied with the pivot are set aside. With lo/hi the stake bounds of the current
 * partition: go lower if minority < lo + lo_stake, else upper if hi − hi_stake ≤ minority, else
 * return the pivot. A safety stop returns 0 after len + 1 rounds.
 */
function medianOf(
  stake: Float64Array,
  score: Float64Array,
  base: number,
  bufs: Partitions,
  len: number,
  minority: number,
  lo: number,
  hi: number,
): number {
  let cur = 0
  const limit = len
  let rounds = 0
  for (;;) {
    if (len === 0) return 0
    const idx = bufs[cur]!
    if (len === 1) return score[base + idx[0]!]!
    const pivot = score[base + idx[len >> 1]!]!
    const lower = bufs[(cur + 1) % 3]!
    const upper = bufs[(cur + 2) % 3]!
    let loStake = 0
    let hiStake = 0
    let nLo = 0
    let nHi = 0
    for (let k = 0; k < len; k++) {
      const i = idx[k]!
      const s = score[base + i]!
      if (s === pivot) continue
      if (s < pivot) {
        loStake += stake[i]!
        lower[nLo++] = i
      } else {
        hiStake += stake[i]!
        upper[nHi++] = i
      }
    }
    if (minority < lo + loStake && nLo > 0) {
      cur = (cur + 1) % 3
      len = nLo
      hi = lo + loStake
    } else if (hi - hiStake <= minority && nHi > 0) {
      cur = (cur + 2) % 3
      len = nHi
      lo = hi - hiStake
    } else {
      return pivot
    }
    rounds += 1
    if (rounds > limit) return 0
  }
}

/** `weighted_median` on plain arrays (see medianOf), for callers outside the epoch. */
export function weightedMedian(
  stake: readonly number[],
  score: readonly number[],
  partition: readonly number[],
  minority: number,
  lo: number,
  hi: number,
): number {
  const bufs = partitions(partition.length)
  bufs[0].set(partition)
  return medianOf(
    Float64Array.from(stake),
    Float64Array.from(score),
    0,
    bufs,
    partition.length,
    minority,
    lo,
    hi,
  )
}

/**
 * `weighted_median_col_sparse`: consensus per column. Rows with active stake > 0 are kept and
 * their stakes renormalised; minority = Σ(kept stake) − κ; an absent entry scores 0.
 */
export function medianColumns(
  activeStake: readonly number[],
  weights: Csr,
  columns: number,
  kappa: number,
): number[] {
  const rows: number[] = []
  for (let r = 0; r < activeStake.length; r++) if (activeStake[r]! > 0) rows.push(r)
  const useStake = normalize(rows.map((r) => activeStake[r]!))
  const stakeSum = sum(useStake)
  const minority = stakeSum - kappa
  const K = rows.length
  // use_score[c][k], column-major in one buffer: column c's scores start at c·K. A later
  // duplicate entry in a row overwrites an earlier one, as in subtensor's dense fill.
  if (pooledScores.length < columns * K) pooledScores = new Float64Array(columns * K)
  const scores = pooledScores
  scores.fill(0, 0, columns * K)
  for (let k = 0; k < K; k++) {
    const r = rows[k]!
    if (r >= weights.rows) continue
    for (let p = weights.ptr[r]!, end = weights.ptr[r + 1]!; p < end; p++) {
      const c = weights.col[p]!
      if (c < columns) scores[c * K + k] = weights.val[p]!
    }
  }
  if (pooledStake.length < K) {
    pooledStake = new Float64Array(K)
    pooledParts = partitions(K)
  }
  const stake = pooledStake
  stake.set(useStake)
  const bufs = pooledParts
  const out: number[] = new Array(columns)
  for (let c = 0; c < columns; c++) {
    for (let k = 0; k < K; k++) bufs[0][k] = k
    out[c] = medianOf(stake, scores, c * K, bufs, K, minority, 0, stakeSum)
  }
  return out
}

/** `weighted_median_col_sparse` on tuple rows (the public form of medianColumns). */
export function weightedMedianColSparse(
  activeStake: readonly number[],
  weights: SparseMatrix,
  columns: number,
  kappa: number,
): number[] {
  return medianColumns(
    activeStake,
    fromRows(weights, Number.POSITIVE_INFINITY, new Csr()),
    columns,
    kappa,
  )
}
