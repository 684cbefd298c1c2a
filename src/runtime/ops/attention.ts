import { expQ30 } from '../fixed/exp.ts'
import { bitLength, isqrt, maxAbs, roundDiv, roundShift, sat32 } from '../fixed/int.ts'

/**
 * Attention in integers (docs/DETERMINISM.md, "attention").
 * Scores: q and each key are reduced to 16 bits by a per-vector shift
 *   sh = max(0, bitLength(amax) - 15), v16_j = roundShift(v_j, sh)
 * and S_s = sat32(roundShift(dot(q16, k16_s) * c, 32 - shq - shk_s)), c = round(2^16 / sqrt(d)).
 * Softmax: E_s = expQ30(S_s - max S), P_s = round(E_s * 2^16 / sum E) (Q16).
 * Mix: out_j = sat32(roundShift(sum_s P_s v_sj, 16)), exact in one accumulator (see mixValues).
 */

/** round(2^16 / sqrt(d)) as round(2^32 / floor(sqrt(d) * 2^16)). */
export function invSqrtQ16(d: number): number {
  return roundDiv(2 ** 32, isqrt(d * 2 ** 32))
}

/** The 16-bit shift of a vector slice. */
export function shift16(v: Int32Array, off: number, n: number): number {
  return Math.max(0, bitLength(maxAbs(v, off, n)) - 15)
}

/** Reduces v[off..off+n) to 16 bits into out (an Int32Array), returns the shift. */
export function reduce16(
  v: Int32Array,
  off: number,
  n: number,
  out: Int32Array,
  outOff: number,
): number {
  const sh = shift16(v, off, n)
  for (let j = 0; j < n; j++) out[outOff + j] = roundShift(v[off + j]!, sh)
  return sh
}

/**
 * Scores of one head's query against keys 0..t of its KV head.
 * q16: the reduced query (offset qOff), shq its shift; k16: reduced keys, kShift[s] their shifts,
 * key s of this KV head at k16[s * kvStride + kOff].
 */
export function headScores(
  q16: Int32Array,
  qOff: number,
  shq: number,
  k16: Int32Array,
  kShift: Int32Array,
  kvStride: number,
  kOff: number,
  shiftStride: number,
  shiftOff: number,
  headDim: number,
  t: number,
  c: number,
  out: Int32Array,
  outOff: number,
): void {
  for (let s = 0; s <= t; s++) {
    const kb = s * kvStride + kOff
    let dot = 0
    for (let j = 0; j < headDim; j++) dot += q16[qOff + j]! * k16[kb + j]!
    out[outOff + s] = sat32(roundShift(dot * c, 32 - shq - kShift[s * shiftStride + shiftOff]!))
  }
}

/** Softmax of n Q16 scores into Q16 probabilities (uses `tmp` for the exponentials). */
export function softmax(
  scores: Int32Array,
  off: number,
  n: number,
  out: Int32Array,
  tmp: Float64Array,
): void {
  let max = -Infinity
  for (let s = 0; s < n; s++) if (scores[off + s]! > max) max = scores[off + s]!
  let sum = 0
  for (let s = 0; s < n; s++) {
    const e = expQ30(scores[off + s]! - max)
    tmp[s] = e
    sum += e
  }
  for (let s = 0; s < n; s++) out[off + s] = roundDiv(tmp[s]! * 65536, sum)
}

/**
 * out[j] = sat32(roundShift(sum_s P_s v_sj, 16)) for j < headDim, position s of this head's values
 * at s * vStride + vOff. Exact in one accumulator: P_s >= 0 and sum_s P_s <= 2^16 + n/2 (each P_s
 * is a rounded share of 2^16), so |sum| <= (2^16 + 2^19) * 2^31 < 2^51 for n <= 2^20 positions.
 */
export function mixValues(
  p: Int32Array,
  pOff: number,
  v: Int32Array,
  vStride: number,
  vOff: number,
  headDim: number,
  t: number,
  out: Int32Array,
  outOff: number,
  acc: Float64Array,
): void {
  acc.fill(0, 0, headDim)
  for (let s = 0; s <= t; s++) {
    const ps = p[pOff + s]!
    if (ps === 0) continue
    const vb = s * vStride + vOff
    for (let j = 0; j < headDim; j++) acc[j] += ps * v[vb + j]!
  }
  for (let j = 0; j < headDim; j++) out[outOff + j] = sat32(roundShift(acc[j]!, 16))
}
