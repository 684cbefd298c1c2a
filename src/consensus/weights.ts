import { div, mul, ONE, roundToInt } from './fixed.ts'
import type { SparseRow } from './types.ts'

/**
 * `vec_u16_max_upscale_to_u16`: how set_weights stores a row, max-upscaled so the largest value
 * becomes 65535. With m the largest submitted value (I32F32 integers):
 *   m = 0      → every value 0;
 *   m > 32768  → round(v · q) with q = 65535/m as an I32F32 quotient;
 *   otherwise  → round((v · 65535) / m).
 * round is half away from zero; the result saturates at 65535.
 */
export function maxUpscaleToU16(values: readonly number[]): number[] {
  let m = 0
  for (const v of values) if (v > m) m = v
  if (m === 0) return values.map(() => 0)
  const sat = (x: number) => Math.min(Math.max(x, 0), 65535)
  if (m > 32768) {
    const q = div(65535, m)
    return values.map((v) => sat(roundToInt(mul(v * ONE, q))))
  }
  return values.map((v) => sat(roundToInt(div(v * 65535, m))))
}

/** Stores a submitted weight row: uids kept as given, values max-upscaled; zeros kept as (j, 0). */
export function storeWeights(row: ReadonlyArray<readonly [number, number]>): SparseRow {
  const stored = maxUpscaleToU16(row.map(([, v]) => v))
  return row.map(([j], k): [number, number] => [j, stored[k]!])
}

/**
 * `check_vec_max_limited`: the normalised row's maximum must not exceed limit/65535
 * (I32F32 throughout). Always true for a limit of 65535.
 */
export function isMaxLimited(values: readonly number[], limit: number): boolean {
  let total = 0
  let m = 0
  for (const v of values) {
    total += v
    if (v > m) m = v
  }
  if (values.length === 0) return true
  const maxNorm = total === 0 ? m * ONE : div(m, total)
  return maxNorm <= div(limit, 65535)
}
