import { roundShift, sat32 } from '../fixed/int.ts'
import type { QMatrix } from '../model/load.ts'

/**
 * Requantizes a projection's int32 accumulators to Q16:
 *   y_r = sat32(roundShift(acc_r * (m_r * mx), e_r + ex) + b_r)
 * where (m_r, e_r) is row r's weight scale, (mx, ex) the input's activation scale and b_r the
 * row's Q16 bias (0 without one; the product term is 0 for an all-zero input).
 * |acc| < 2^14 * cols <= 2^28 and m_r * mx < 2^24, so the product is below 2^52: exact.
 */
export function requantize(
  w: QMatrix,
  acc: Int32Array,
  accOff: number,
  mx: number,
  ex: number,
  out: Int32Array,
  outOff: number,
): void {
  const { rows, scaleM, scaleE, bias } = w
  if (mx === 0) {
    if (bias) for (let r = 0; r < rows; r++) out[outOff + r] = bias[r]!
    else out.fill(0, outOff, outOff + rows)
    return
  }
  if (bias) {
    for (let r = 0; r < rows; r++) {
      const a = acc[accOff + r]!
      const p = a === 0 ? 0 : roundShift(a * (scaleM[r]! * mx), scaleE[r]! + ex)
      out[outOff + r] = sat32(p + bias[r]!)
    }
    return
  }
  for (let r = 0; r < rows; r++) {
    const a = acc[accOff + r]!
    out[outOff + r] = a === 0 ? 0 : sat32(roundShift(a * (scaleM[r]! * mx), scaleE[r]! + ex))
  }
}

/** The Q16 embedding of a token: x_j = sat32(roundShift(q_j * m, e - 16)) from row `token`. */
export function embedRow(
  w: QMatrix,
  i8: Int8Array,
  token: number,
  out: Int32Array,
  outOff: number,
): void {
  const m = w.scaleM[token]!
  const s = w.scaleE[token]! - 16
  const base = w.ptr + token * w.cols
  for (let j = 0; j < w.cols; j++) out[outOff + j] = sat32(roundShift(i8[base + j]! * m, s))
}
