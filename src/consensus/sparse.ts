import { div, mul, ONE } from './fixed.ts'
import type { SparseMatrix, SparseRow } from './types.ts'

/**
 * A sparse matrix in compressed rows: row i holds entries ptr[i] .. ptr[i+1]−1, column uids in
 * `col`, I32F32 raw bits (or raw u16 integers) in `val`. Every value in the epoch is an integer
 * below 2^53, so a Float64Array holds it exactly. Entries keep the order of the tuple rows they
 * came from (unsorted rows and duplicates included), and every operation below visits them in
 * that order, so it computes exactly what subtensor's per-row vectors compute.
 *
 * The epoch keeps a few of these alive across calls (see epoch.ts) and refills them, which is
 * what removes the per-entry [j, v] tuple allocations the garbage collector used to spend its
 * time on.
 */
export class Csr {
  rows = 0
  nnz = 0
  ptr = new Int32Array(1)
  col = new Int32Array(0)
  val = new Float64Array(0)

  /** Empties the matrix for `rows` rows, keeping its buffers. */
  reset(rows: number): this {
    if (this.ptr.length < rows + 1) this.ptr = new Int32Array(rows + 1)
    this.rows = rows
    this.nnz = 0
    this.ptr[0] = 0
    return this
  }

  /** Room for `cap` entries in total (contents up to nnz are kept). */
  reserve(cap: number): void {
    if (this.col.length >= cap) return
    const size = Math.max(cap, this.col.length * 2, 16)
    const col = new Int32Array(size)
    const val = new Float64Array(size)
    col.set(this.col.subarray(0, this.nnz))
    val.set(this.val.subarray(0, this.nnz))
    this.col = col
    this.val = val
  }

  /** Appends an entry to the row being built; call endRow(i) after each row, in order. */
  push(j: number, v: number): void {
    if (this.nnz === this.col.length) this.reserve(this.nnz + 1)
    this.col[this.nnz] = j
    this.val[this.nnz] = v
    this.nnz++
  }

  endRow(i: number): void {
    this.ptr[i + 1] = this.nnz
  }
}

/** Makes dst an exact copy of src (dst's buffers are reused). */
export function copyCsr(src: Csr, dst: Csr): Csr {
  dst.reset(src.rows)
  dst.reserve(src.nnz)
  dst.ptr.set(src.ptr.subarray(0, src.rows + 1))
  dst.col.set(src.col.subarray(0, src.nnz))
  dst.val.set(src.val.subarray(0, src.nnz))
  dst.nnz = src.nnz
  return dst
}

/** Builds a Csr from tuple rows, keeping the columns below `columns` (the rest are ignored). */
export function fromRows(m: SparseMatrix, columns: number, dst: Csr): Csr {
  dst.reset(m.length)
  for (let i = 0; i < m.length; i++) {
    const row = m[i]!
    dst.reserve(dst.nnz + row.length)
    for (let k = 0; k < row.length; k++) {
      const e = row[k]!
      if (e[0] < columns) dst.push(e[0], e[1])
    }
    dst.endRow(i)
  }
  return dst
}

/** Converts each row back to [uid, value] tuples, mapping values through `f`. */
export function toRows(m: Csr, f: (v: number) => number): SparseRow[] {
  const out: SparseRow[] = new Array(m.rows)
  for (let i = 0; i < m.rows; i++) {
    const end = m.ptr[i + 1]!
    const row: SparseRow = []
    for (let p = m.ptr[i]!; p < end; p++) row.push([m.col[p]!, f(m.val[p]!)])
    out[i] = row
  }
  return out
}

/** Row sums (`row_sum_sparse`). */
export function rowSums(m: Csr): number[] {
  const out: number[] = new Array(m.rows)
  for (let i = 0; i < m.rows; i++) {
    let s = 0
    for (let p = m.ptr[i]!, end = m.ptr[i + 1]!; p < end; p++) s += m.val[p]!
    out[i] = s
  }
  return out
}

/** In place: divides each row by its sum when the sum is positive (`inplace_row_normalize_sparse`). */
export function rowNormalize(m: Csr): void {
  for (let i = 0; i < m.rows; i++) {
    const start = m.ptr[i]!
    const end = m.ptr[i + 1]!
    let s = 0
    for (let p = start; p < end; p++) s += m.val[p]!
    if (s <= 0) continue
    for (let p = start; p < end; p++) m.val[p] = div(m.val[p]!, s)
  }
}

function colSums(m: Csr, columns: number): Float64Array {
  const sums = new Float64Array(columns)
  for (let p = 0; p < m.nnz; p++) {
    const j = m.col[p]!
    if (j < columns) sums[j]! += m.val[p]!
  }
  return sums
}

/** In place: divides each entry by its column sum when non-zero (`inplace_col_normalize_sparse`). */
export function colNormalize(m: Csr, columns: number): void {
  const sums = colSums(m, columns)
  for (let p = 0; p < m.nnz; p++) {
    const j = m.col[p]!
    const s = j < columns ? sums[j]! : 0
    if (s !== 0) m.val[p] = div(m.val[p]!, s)
  }
}

/**
 * In place: column normalisation of raw u16 integers (the bonds as `u16_to_fixed` would give
 * them, u·2^32, divided by their column sum: only the ratio matters). A zero-sum column keeps u·2^32.
 */
export function colNormalizeRaw(m: Csr, columns: number): void {
  const sums = colSums(m, columns)
  for (let p = 0; p < m.nnz; p++) {
    const j = m.col[p]!
    const s = j < columns ? sums[j]! : 0
    m.val[p] = s !== 0 ? div(m.val[p]!, s) : m.val[p]! * ONE
  }
}

/** In place: divides each entry by its column maximum when non-zero (`inplace_col_max_upscale_sparse`). */
export function colMaxUpscale(m: Csr, columns: number): void {
  const max = new Float64Array(columns)
  for (let p = 0; p < m.nnz; p++) {
    const j = m.col[p]!
    if (j < columns && max[j]! < m.val[p]!) max[j] = m.val[p]!
  }
  for (let p = 0; p < m.nnz; p++) {
    const j = m.col[p]!
    const c = j < columns ? max[j]! : 0
    if (c !== 0) m.val[p] = div(m.val[p]!, c)
  }
}

/** r_j = Σ_i v_i · m_ij (`matmul_sparse`). */
export function matmul(m: Csr, v: readonly number[], columns: number): number[] {
  const out = new Float64Array(columns)
  for (let i = 0; i < m.rows; i++) {
    const vi = v[i]!
    for (let p = m.ptr[i]!, end = m.ptr[i + 1]!; p < end; p++) {
      const j = m.col[p]!
      if (j < columns) out[j]! += mul(vi, m.val[p]!)
    }
  }
  return Array.from(out)
}

/** d_i = Σ_j v_j · m_ij (`matmul_transpose_sparse`). */
export function matmulTranspose(m: Csr, v: readonly number[]): number[] {
  const out: number[] = new Array(m.rows)
  for (let i = 0; i < m.rows; i++) {
    let s = 0
    for (let p = m.ptr[i]!, end = m.ptr[i + 1]!; p < end; p++) s += mul(v[m.col[p]!]!, m.val[p]!)
    out[i] = s
  }
  return out
}

/** In place: m_ij · v_i (`row_hadamard_sparse`). */
export function rowHadamard(m: Csr, v: readonly number[]): void {
  for (let i = 0; i < m.rows; i++) {
    const vi = v[i]!
    for (let p = m.ptr[i]!, end = m.ptr[i + 1]!; p < end; p++) m.val[p] = mul(m.val[p]!, vi)
  }
}

/** `col_clip_sparse` into dst: min(w_ij, c_j), but an entry above a non-positive c_j is dropped. */
export function colClip(m: Csr, threshold: readonly number[], dst: Csr): Csr {
  dst.reset(m.rows)
  dst.reserve(m.nnz)
  for (let i = 0; i < m.rows; i++) {
    for (let p = m.ptr[i]!, end = m.ptr[i + 1]!; p < end; p++) {
      const j = m.col[p]!
      const v = m.val[p]!
      const c = threshold[j]!
      if (c < v) {
        if (c > 0) dst.push(j, c)
      } else dst.push(j, v)
    }
    dst.endRow(i)
  }
  return dst
}

/**
 * `interpolate_sparse` into dst: a + ratio·(b − a). Copies a at ratio 0 and b at ratio 1;
 * otherwise works on dense rows (a later duplicate overwrites) and keeps only entries > 0.
 */
export function interpolate(
  a: Csr,
  b: Csr,
  columns: number,
  ratio: number,
  one: number,
  dst: Csr,
): Csr {
  if (ratio === 0) return copyCsr(a, dst)
  if (ratio === one) return copyCsr(b, dst)
  const r1 = new Float64Array(columns)
  const r2 = new Float64Array(columns)
  dst.reset(a.rows)
  for (let i = 0; i < a.rows; i++) {
    const bStart = i < b.rows ? b.ptr[i]! : 0
    const bEnd = i < b.rows ? b.ptr[i + 1]! : 0
    // Two empty rows give x = 0 everywhere, hence an empty row: skip the dense pass.
    if (a.ptr[i] === a.ptr[i + 1] && bStart === bEnd) {
      dst.endRow(i)
      continue
    }
    r1.fill(0)
    r2.fill(0)
    for (let p = a.ptr[i]!, end = a.ptr[i + 1]!; p < end; p++) r1[a.col[p]!] = a.val[p]!
    for (let p = bStart; p < bEnd; p++) r2[b.col[p]!] = b.val[p]!
    dst.reserve(dst.nnz + columns)
    for (let j = 0; j < columns; j++) {
      const x = r1[j]! + mul(ratio, r2[j]! - r1[j]!)
      if (x > 0) dst.push(j, x)
    }
    dst.endRow(i)
  }
  return dst
}
