import { div, fromU16Proportion, mul, ONE, toU16Proportion } from './fixed.ts'
import { type LiquidAlphaParams, liquidAlpha } from './liquid-alpha.ts'
import { colMaxUpscale, colNormalize, matmulTranspose, rowHadamard, rowSums } from './sparse.ts'
import type { SparseMatrix, SparseRow } from './types.ts'

/** Result of a bonds step: EMA bonds (I32F32), dividends (normalised), and the u16 rows to store. */
export type BondsResult = {
  ema: SparseMatrix
  dividends: number[]
  stored: SparseRow[]
}

/**
 * The fixed EMA rate 1 − BondsMovingAverage/1e6: the ratio is an I64F64 (trunc(bma·2^64/1e6)),
 * narrowed to I32F32 by dropping the low 32 bits, then subtracted from 1.
 */
export function movingAverageAlpha(bondsMovingAverage: number): number {
  const q64 = (BigInt(bondsMovingAverage) << 64n) / 1_000_000n
  return ONE - Number(q64 >> 32n)
}

/**
 * `mat_ema_sparse`: α·new + (1 − α)·old over a dense accumulator per row; every column present
 * in either matrix survives if positive.
 */
export function emaSparse(
  next: SparseMatrix,
  old: SparseMatrix,
  alpha: number,
  columns: number,
): SparseMatrix {
  const oneMinus = ONE - alpha
  return next.map((row, i) => {
    const acc = new Float64Array(columns)
    for (const [j, v] of row) acc[j]! += mul(alpha, v)
    for (const [j, v] of old[i] ?? []) acc[j]! += mul(oneMinus, v)
    const out: SparseRow = []
    for (let j = 0; j < columns; j++) if (acc[j]! > 0) out.push([j, acc[j]!])
    return out
  })
}

/**
 * Drops stored bonds on miners registered since the last tempo (last_tempo ≤ registered_j).
 */
export function maskRecentlyRegistered(
  bonds: SparseMatrix,
  lastTempo: number,
  blockAtRegistration: readonly number[],
): SparseMatrix {
  return bonds.map((row) => row.filter(([j]) => !(lastTempo <= blockAtRegistration[j]!)))
}

/**
 * Classic (Yuma 2) bonds: stored u16 read as raw integers, masked, column-normalised;
 * ΔB = Wb ◦ A column-normalised; B_ema = α·ΔB + (1 − α)·B column-normalised;
 * D = B_ema · I normalised; stored column-max-upscaled as floor(x·65535).
 */
export function classicBonds(
  stored: SparseMatrix,
  weightsForBonds: SparseMatrix,
  activeStake: readonly number[],
  incentive: readonly number[],
  lastTempo: number,
  blockAtRegistration: readonly number[],
  bondsMovingAverage: number,
  columns: number,
): BondsResult {
  // `u16_to_fixed` gives u·2^32; column normalisation only depends on ratios, so the raw u16
  // integers can be normalised directly (div(u, Σu) = div(u·2^32, Σu·2^32)).
  const masked = maskRecentlyRegistered(stored, lastTempo, blockAtRegistration)
  const bonds = colNormalizeRaw(masked, columns)
  const delta = colNormalize(rowHadamard(weightsForBonds, activeStake), columns)
  const ema = colNormalize(
    emaSparse(delta, bonds, movingAverageAlpha(bondsMovingAverage), columns),
    columns,
  )
  const dividends = normalizeVec(matmulTranspose(ema, incentive))
  const upscaled = colMaxUpscale(ema, columns)
  return { ema, dividends, stored: upscaled.map(toU16Row) }
}

/** Column normalisation of raw u16 integers; a column with sum 0 keeps u·2^32 as it is. */
function colNormalizeRaw(m: SparseMatrix, columns: number): SparseMatrix {
  const sums = new Float64Array(columns)
  for (const row of m) for (const [j, v] of row) if (j < columns) sums[j]! += v
  return m.map((row) =>
    row.map(([j, v]): [number, number] => {
      const s = sums[j] ?? 0
      return [j, s !== 0 ? div(v, s) : v * ONE]
    }),
  )
}

/**
 * `mat_ema_alpha_sparse`: per-pair α; only the columns present in the validator's current Wb row
 * are written (the Yuma3 sparse quirk), each min(1, (1 − α)·old + max(0, α·new)) and kept if > 0.
 */
export function emaAlphaSparse(
  next: SparseMatrix,
  old: SparseMatrix,
  alphaAt: (i: number, j: number) => number,
  columns: number,
): SparseMatrix {
  return next.map((row, i) => {
    const decayed = new Map<number, number>()
    for (const [j, v] of old[i] ?? []) {
      if (j < columns) decayed.set(j, mul(ONE - alphaAt(i, j), v))
    }
    const out: SparseRow = []
    for (const [j, v] of row) {
      if (j >= columns) continue
      const inc = Math.max(mul(alphaAt(i, j), v), 0)
      const val = Math.min((decayed.get(j) ?? 0) + inc, ONE)
      if (val > 0) out.push([j, val])
    }
    return out
  })
}

/**
 * Yuma3 bonds: stored u16 as proportions u/65535, masked; EMA with liquid alpha (when on and some
 * C_j ≠ 0) or the fixed rate; D_i = A_i · Σ_j Bn_ij·I_j with Bn the column-normalised EMA,
 * normalised; stored as floor(x·65535) without upscaling.
 */
export function yuma3Bonds(
  stored: SparseMatrix,
  weightsForBonds: SparseMatrix,
  activeStake: readonly number[],
  incentive: readonly number[],
  consensus: readonly number[],
  lastTempo: number,
  blockAtRegistration: readonly number[],
  bondsMovingAverage: number,
  liquid: LiquidAlphaParams | null,
  columns: number,
): BondsResult {
  const asProportion = stored.map((row) =>
    row.map(([j, u]): [number, number] => [j, fromU16Proportion(u)]),
  )
  const bonds = maskRecentlyRegistered(asProportion, lastTempo, blockAtRegistration)
  let ema: SparseMatrix
  if (liquid && consensus.some((c) => c !== 0)) {
    // The dense alpha matrix is a pure function of (C_j, W_ij, B_ij); computing only the cells
    // the EMA reads gives the same result without n² sigmoid evaluations.
    const wAt = weightsForBonds.map((row) => mergeLookup(row, columns))
    const bAt = bonds.map((row) => mergeLookup(row, columns))
    const alphaAt = (i: number, j: number) =>
      liquidAlpha(consensus[j]!, wAt[i]!.get(j) ?? 0, bAt[i]!.get(j) ?? 0, liquid)
    ema = emaAlphaSparse(weightsForBonds, bonds, alphaAt, columns)
  } else {
    ema = emaSparse(weightsForBonds, bonds, movingAverageAlpha(bondsMovingAverage), columns)
  }
  const norm = colNormalize(ema, columns)
  const perValidator = rowSums(
    norm.map((row) => row.map(([j, v]): [number, number] => [j, mul(v, incentive[j]!)])),
  )
  const dividends = normalizeVec(perValidator.map((t, i) => mul(t, activeStake[i]!)))
  return { ema, dividends, stored: ema.map(toU16Row) }
}

/**
 * The cells `liquid_alpha_matrix_sparse` finds with its peekable merge over j = 0..columns−1:
 * identical to a plain lookup for ascending rows; for an unsorted row it misses entries the
 * same way subtensor does.
 */
function mergeLookup(row: SparseRow, columns: number): Map<number, number> {
  const found = new Map<number, number>()
  let p = 0
  for (let j = 0; j < columns && p < row.length; j++) {
    while (p < row.length && row[p]![0] < j) p++
    if (p < row.length && row[p]![0] === j) found.set(j, row[p]![1])
  }
  return found
}

function normalizeVec(xs: number[]): number[] {
  let s = 0
  for (const x of xs) s += x
  return s === 0 ? xs : xs.map((x) => div(x, s))
}

function toU16Row(row: SparseRow): SparseRow {
  return row.map(([j, v]): [number, number] => [j, toU16Proportion(v)])
}
