import { roundShift, sat32 } from '../fixed/int.ts'
import { ROPE_BITS } from '../fixed/rope.ts'

/**
 * Rotates adjacent pairs (2i, 2i+1), i < ropeDim/2, of every head of x in place, using the
 * position's table row (cos, sin interleaved, Q20):
 *   y0 = sat32(roundShift(x0 c - x1 s, 20)), y1 = sat32(roundShift(x0 s + x1 c, 20))
 * |x| < 2^31 and |c|, |s| <= 2^20, so each sum is below 2^52.
 */
export function applyRope(
  x: Int32Array,
  off: number,
  nHeads: number,
  headDim: number,
  ropeDim: number,
  table: Int32Array,
): void {
  for (let h = 0; h < nHeads; h++) {
    const base = off + h * headDim
    for (let i = 0; i < ropeDim / 2; i++) {
      const c = table[2 * i]!
      const s = table[2 * i + 1]!
      const x0 = x[base + 2 * i]!
      const x1 = x[base + 2 * i + 1]!
      x[base + 2 * i] = sat32(roundShift(x0 * c - x1 * s, ROPE_BITS))
      x[base + 2 * i + 1] = sat32(roundShift(x0 * s + x1 * c, ROPE_BITS))
    }
  }
}
