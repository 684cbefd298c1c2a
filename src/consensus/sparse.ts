import { div, mul } from './fixed.ts'
import type { SparseMatrix, SparseRow } from './types.ts'

/** Row sums (`row_sum_sparse`). */
export function rowSums(m: SparseMatrix): number[] {
  return m.map((row) => {
    let s = 0
    for (const [, v] of row) s += v
    return s
  })
}

/** Divides each row by its sum when the sum is positive (`inplace_row_normalize_sparse`). */
export function rowNormalize(m: SparseMatrix): SparseMatrix {
  return m.map((row) => {
    let s = 0
    for (const [, v] of row) s += v
    if (s <= 0) return row.slice()
    return row.map(([j, v]): [number, number] => [j, div(v, s)])
  })
}

/** Divides each entry by its column sum when that sum is non-zero (`inplace_col_normalize_sparse`). */
export function colNormalize(m: SparseMatrix, columns: number): SparseMatrix {
  const sums = new Float64Array(columns)
  for (const row of m) for (const [j, v] of row) if (j < columns) sums[j]! += v
  return m.map((row) =>
    row.map(([j, v]): [number, number] => {
      const s = sums[j] ?? 0
      return [j, s !== 0 ? div(v, s) : v]
    }),
  )
}

/** Divides each entry by its column maximum when non-zero (`inplace_col_max_upscale_sparse`). */
export function colMaxUpscale(m: SparseMatrix, columns: number): SparseMatrix {
  const max = new Float64Array(columns)
  for (const row of m) for (const [j, v] of row) if (j < columns && max[j]! < v) max[j] = v
  return m.map((row) =>
    row.map(([j, v]): [number, number] => {
      const c = max[j] ?? 0
      return [j, c !== 0 ? div(v, c) : v]
    }),
  )
}

/** r_j = Σ_i v_i · m_ij (`matmul_sparse`). */
export function matmul(m: SparseMatrix, v: readonly number[], columns: number): number[] {
  const out = new Float64Array(columns)
  m.forEach((row, i) => {
    const vi = v[i]!
    for (const [j, x] of row) out[j]! += mul(vi, x)
  })
  return Array.from(out)
}

/** d_i = Σ_j v_j · m_ij (`matmul_transpose_sparse`). */
export function matmulTranspose(m: SparseMatrix, v: readonly number[]): number[] {
  return m.map((row) => {
    let s = 0
    for (const [j, x] of row) s += mul(v[j]!, x)
    return s
  })
}

/** m_ij · v_i (`row_hadamard_sparse`). */
export function rowHadamard(m: SparseMatrix, v: readonly number[]): SparseMatrix {
  return m.map((row, i) => row.map(([j, x]): [number, number] => [j, mul(x, v[i]!)]))
}

/**
 * `col_clip_sparse`: min(w_ij, c_j), but an entry above a non-positive c_j is dropped.
 */
export function colClip(m: SparseMatrix, threshold: readonly number[]): SparseMatrix {
  return m.map((row) => {
    const out: SparseRow = []
    for (const [j, v] of row) {
      const c = threshold[j]!
      if (c < v) {
        if (c > 0) out.push([j, c])
      } else out.push([j, v])
    }
    return out
  })
}

/**
 * `interpolate_sparse`: a + ratio·(b − a). Returns a at ratio 0 and b at ratio 1 unchanged;
 * otherwise works on dense rows and keeps only entries > 0.
 */
export function interpolate(
  a: SparseMatrix,
  b: SparseMatrix,
  columns: number,
  ratio: number,
  one: number,
): SparseMatrix {
  if (ratio === 0) return a.map((r) => r.slice())
  if (ratio === one) return b.map((r) => r.slice())
  return a.map((rowA, i) => {
    const r1 = new Float64Array(columns)
    const r2 = new Float64Array(columns)
    for (const [j, v] of rowA) r1[j] = v
    for (const [j, v] of b[i] ?? []) r2[j] = v
    const out: SparseRow = []
    for (let j = 0; j < columns; j++) {
      const x = r1[j]! + mul(ratio, r2[j]! - r1[j]!)
      if (x > 0) out.push([j, x])
    }
    return out
  })
}

/** Keeps the cells (i, j) for which `keep(i, j)` is true (`vec_mask_sparse_matrix`). */
export function maskCells(m: SparseMatrix, keep: (i: number, j: number) => boolean): SparseMatrix {
  return m.map((row, i) => row.filter(([j]) => keep(i, j)))
}
