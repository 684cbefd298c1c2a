import { roundShift, sat32 } from '../fixed/int.ts'
import { ROPE_BITS } from '../fixed/rope.ts'

/**
 * Rotates the pairs of every head of x in place, using the position's table row (cos, sin
 * interleaved, Q20): pair i < ropeDim/2 is (2i, 2i+1) in 'norm' mode (llama) and (i, i + ropeDim/2)
 * in 'neox' mode (qwen2); with a, b the pair's elements:
 *   a' = sat32(roundShift(a c - b s, 20)), b' = sat32(roundShift(a s + b c, 20))
 * |x| < 2^31 and |c|, |s| <= 2^20, so each sum is below 2^52.
 */
export function applyRope(
  x: Int32Array,
  off: number,
  nHeads: number,
  headDim: number,
  ropeDim: number,
  table: Int32Array,
  neox = false,
): void {
  const half = ropeDim / 2
  for (let h = 0; h < nHeads; h++) {
    const base = off + h * headDim
    for (let i = 0; i < half; i++) {
      const c = table[2 * i]!
      const s = table[2 * i + 1]!
      const ia = neox ? base + i : base + 2 * i
      const ib = neox ? ia + half : ia + 1
      const a = x[ia]!
      const b = x[ib]!
      x[ia] = sat32(roundShift(a * c - b * s, ROPE_BITS))
      x[ib] = sat32(roundShift(a * s + b * c, ROPE_BITS))
    }
  }
}
