import { div, fromU16Proportion, mul, ONE, toU16Proportion } from './fixed.ts'
import { type LiquidAlphaParams, liquidAlpha } from './liquid-alpha.ts'
import {
  type Csr,
  colMaxUpscale,
  colNormalize,
  colNormalizeRaw,
  copyCsr,
  matmulTranspose,
  rowHadamard,
  toRows,
} from './sparse.ts'
import type { SparseRow } from './types.ts'

/** Result of a bonds step: dividends (normalised) and the u16 rows to store. */
export type BondsResult = {
  dividends: number[]
  stored: SparseRow[]
}

/**
 * Matrices the bonds step refills on every epoch (owned by the caller so they outlive a call).
 * `bonds` arrives holding the stored rows (raw u16, columns < n) and is overwritten.
 */
export type BondsScratch = { bonds: Csr; delta: Csr; ema: Csr }

/**
 * The fixed EMA rate 1 − BondsMovingAverage/1e6: the ratio is an I64F64 (trunc(bma·2^64/1e6)),
 * narrowed to I32F32 by dropping the low 32 bits, then subtracted from 1.
 */
export function movingAverageAlpha(bondsMovingAverage: number): number {
  const q64 = (BigInt(bondsMovingAverage) << 64n) / 1_000_000n
  return ONE - Number(q64 >> 32n)
}

/**
 * In place: drops stored bonds on miners registered since the last tempo
 * (last_tempo ≤ registered_j), keeping the order of the remaining entries.
 */
export function maskRecentlyRegistered(
  m: Csr,
  lastTempo: number,
  blockAtRegistration: readonly number[],
): void {
  let w = 0
  let start = 0
  for (let i = 0; i < m.rows; i++) {
    const end = m.ptr[i + 1]!
    for (let p = start; p < end; p++) {
      const j = m.col[p]!
      if (lastTempo <= blockAtRegistration[j]!) continue
      m.col[w] = j
      m.val[w] = m.val[p]!
      w++
    }
    start = end
    m.ptr[i + 1] = w
  }
  m.nnz = w
}

/**
 * `mat_ema_sparse` into dst: α·new + (1 − α)·old over a dense accumulator per row; every column
 * present in either matrix survives if positive, in ascending column order.
 */
export function emaSparse(next: Csr, old: Csr, alpha: number, columns: number, dst: Csr): Csr {
  const oneMinus = ONE - alpha
  const acc = new Float64Array(columns)
  dst.reset(next.rows)
  for (let i = 0; i < next.rows; i++) {
    const oStart = i < old.rows ? old.ptr[i]! : 0
    const oEnd = i < old.rows ? old.ptr[i + 1]! : 0
    // Two empty rows leave the accumulator at zero: nothing survives, skip the dense pass.
    if (next.ptr[i] === next.ptr[i + 1] && oStart === oEnd) {
      dst.endRow(i)
      continue
    }
    acc.fill(0)
    for (let p = next.ptr[i]!, end = next.ptr[i + 1]!; p < end; p++)
      acc[next.col[p]!]! += mul(alpha, next.val[p]!)
    for (let p = oStart; p < oEnd; p++) acc[old.col[p]!]! += mul(oneMinus, old.val[p]!)
    dst.reserve(dst.nnz + columns)
    for (let j = 0; j < columns; j++) if (acc[j]! > 0) dst.push(j, acc[j]!)
    dst.endRow(i)
  }
  return dst
}

/**
 * Classic (Yuma 2) bonds: stored u16 read as raw integers, masked, column-normalised;
 * ΔB = Wb ◦ A column-normalised; B_ema = α·ΔB + (1 − α)·B column-normalised;
 * D = B_ema · I normalised; stored column-max-upscaled as floor(x·65535).
 */
export function classicBonds(
  s: BondsScratch,
  weightsForBonds: Csr,
  activeStake: readonly number[],
  incentive: readonly number[],
  lastTempo: number,
  blockAtRegistration: readonly number[],
  bondsMovingAverage: number,
  columns: number,
): BondsResult {
  // `u16_to_fixed` gives u·2^32; column normalisation only depends on ratios, so the raw u16
  // integers can be normalised directly (div(u, Σu) = div(u·2^32, Σu·2^32)).
  maskRecentlyRegistered(s.bonds, lastTempo, blockAtRegistration)
  colNormalizeRaw(s.bonds, columns)
  const delta = copyCsr(weightsForBonds, s.delta)
  rowHadamard(delta, activeStake)
  colNormalize(delta, columns)
  const ema = emaSparse(delta, s.bonds, movingAverageAlpha(bondsMovingAverage), columns, s.ema)
  colNormalize(ema, columns)
  const dividends = normalizeVec(matmulTranspose(ema, incentive))
  colMaxUpscale(ema, columns)
  return { dividends, stored: toRows(ema, toU16Proportion) }
}

/**
 * `mat_ema_alpha_sparse` with liquid alpha, into dst: per pair α = liquidAlpha(C_j, W_ij, B_ij)
 * with W and B looked up as `liquid_alpha_matrix_sparse` finds them (see mergeInto); only the
 * columns present in the validator's current Wb row are written (the Yuma3 sparse quirk), each
 * min(1, (1 − α)·old + max(0, α·new)) and kept if > 0.
 */
export function emaLiquidAlpha(
  next: Csr,
  old: Csr,
  consensus: readonly number[],
  liquid: LiquidAlphaParams,
  columns: number,
  dst: Csr,
): Csr {
  // Dense per-row scratch, all zero between rows (each row clears what it set). A cell's α is
  // a pure function of (C_j, W_ij, B_ij), so it is computed once per row (stamp i + 1) and
  // reused when the column is in both the old and the new row.
  const wAt = new Float64Array(columns)
  const bAt = new Float64Array(columns)
  const decayed = new Float64Array(columns)
  const alphaAt = new Float64Array(columns)
  const alphaRow = new Int32Array(columns)
  dst.reset(next.rows)
  for (let i = 0; i < next.rows; i++) {
    const nStart = next.ptr[i]!
    const nEnd = next.ptr[i + 1]!
    const oStart = i < old.rows ? old.ptr[i]! : 0
    const oEnd = i < old.rows ? old.ptr[i + 1]! : 0
    mergeInto(next, nStart, nEnd, columns, wAt)
    mergeInto(old, oStart, oEnd, columns, bAt)
    // decayed_j = mul(1 − α_ij, B_ij); a later duplicate overwrites, absent reads as 0.
    for (let p = oStart; p < oEnd; p++) {
      const j = old.col[p]!
      if (j < columns) {
        if (alphaRow[j] !== i + 1) {
          alphaAt[j] = liquidAlpha(consensus[j]!, wAt[j]!, bAt[j]!, liquid)
          alphaRow[j] = i + 1
        }
        decayed[j] = mul(ONE - alphaAt[j]!, old.val[p]!)
      }
    }
    for (let p = nStart; p < nEnd; p++) {
      const j = next.col[p]!
      if (j >= columns) continue
      if (alphaRow[j] !== i + 1) {
        alphaAt[j] = liquidAlpha(consensus[j]!, wAt[j]!, bAt[j]!, liquid)
        alphaRow[j] = i + 1
      }
      const inc = Math.max(mul(alphaAt[j]!, next.val[p]!), 0)
      const val = Math.min(decayed[j]! + inc, ONE)
      if (val > 0) dst.push(j, val)
    }
    dst.endRow(i)
    clearCols(next, nStart, nEnd, columns, wAt)
    clearCols(old, oStart, oEnd, columns, bAt)
    clearCols(old, oStart, oEnd, columns, decayed)
  }
  return dst
}

/**
 * Writes into `dense` the cells `liquid_alpha_matrix_sparse` finds with its peekable merge over
 * j = 0..columns−1 (entries start..end of m): for an ascending row that is every entry; for an
 * unsorted row it misses entries the same way subtensor does, and of duplicates it takes the first.
 * The walk jumps j to the next entry's column, which skips only j's where nothing can match.
 */
function mergeInto(m: Csr, start: number, end: number, columns: number, dense: Float64Array): void {
  let p = start
  let j = 0
  while (j < columns && p < end) {
    while (p < end && m.col[p]! < j) p++
    if (p >= end) break
    const c = m.col[p]!
    if (c === j) {
      dense[j] = m.val[p]!
      j++
    } else j = c
  }
}

function clearCols(m: Csr, start: number, end: number, columns: number, dense: Float64Array): void {
  for (let p = start; p < end; p++) {
    const j = m.col[p]!
    if (j < columns) dense[j] = 0
  }
}

/**
 * Yuma3 bonds: stored u16 as proportions u/65535, masked; EMA with liquid alpha (when on and some
 * C_j ≠ 0) or the fixed rate; D_i = A_i · Σ_j Bn_ij·I_j with Bn the column-normalised EMA,
 * normalised; stored as floor(x·65535) without upscaling.
 */
export function yuma3Bonds(
  s: BondsScratch,
  weightsForBonds: Csr,
  activeStake: readonly number[],
  incentive: readonly number[],
  consensus: readonly number[],
  lastTempo: number,
  blockAtRegistration: readonly number[],
  bondsMovingAverage: number,
  liquid: LiquidAlphaParams | null,
  columns: number,
): BondsResult {
  const bonds = s.bonds
  for (let p = 0; p < bonds.nnz; p++) bonds.val[p] = fromU16Proportion(bonds.val[p]!)
  maskRecentlyRegistered(bonds, lastTempo, blockAtRegistration)
  let ema: Csr
  if (liquid && consensus.some((c) => c !== 0)) {
    // The dense alpha matrix is a pure function of (C_j, W_ij, B_ij); computing only the cells
    // the EMA reads gives the same result without n² sigmoid evaluations.
    ema = emaLiquidAlpha(weightsForBonds, bonds, consensus, liquid, columns, s.ema)
  } else {
    ema = emaSparse(weightsForBonds, bonds, movingAverageAlpha(bondsMovingAverage), columns, s.ema)
  }
  const stored = toRows(ema, toU16Proportion)
  // Bn = column-normalised EMA (in place: the stored rows are already taken).
  colNormalize(ema, columns)
  const perValidator = new Array<number>(ema.rows)
  for (let i = 0; i < ema.rows; i++) {
    let t = 0
    for (let p = ema.ptr[i]!, end = ema.ptr[i + 1]!; p < end; p++)
      t += mul(ema.val[p]!, incentive[ema.col[p]!]!)
    perValidator[i] = mul(t, activeStake[i]!)
  }
  return { dividends: normalizeVec(perValidator), stored }
}

function normalizeVec(xs: number[]): number[] {
  let s = 0
  for (let i = 0; i < xs.length; i++) s += xs[i]!
  if (s === 0) return xs
  for (let i = 0; i < xs.length; i++) xs[i] = div(xs[i]!, s)
  return xs
}
