import { expQ30 } from '../fixed/exp.ts'
import { roundDiv, roundShift, sat32 } from '../fixed/int.ts'

/** sigmoid(g) in Q16 for a Q16 g, from expQ30 of -|g|. */
export function sigmoidQ16(g: number): number {
  if (g >= 0) return roundDiv(2 ** 46, 2 ** 30 + expQ30(-g))
  const e = expQ30(g)
  return roundDiv(e * 65536, 2 ** 30 + e)
}

/**
 * One SwiGLU element: silu(g) * u in Q16.
 *   silu = sat32(roundShift(g * sigmoid(g), 16))
 *   h = sat32(silu * uh + roundShift(silu * ul, 16)) with u = uh * 2^16 + ul, ul in [0, 2^16),
 * which equals roundShift(silu * u, 16) exactly while every product stays below 2^48.
 */
export function swigluElement(g: number, u: number): number {
  const silu = sat32(roundShift(g * sigmoidQ16(g), 16))
  const uh = Math.floor(u / 65536)
  const ul = u - uh * 65536
  return sat32(silu * uh + roundShift(silu * ul, 16))
}

export function swiglu(
  gate: Int32Array,
  up: Int32Array,
  out: Int32Array,
  off: number,
  n: number,
): void {
  for (let j = 0; j < n; j++) out[off + j] = swigluElement(gate[off + j]!, up[off + j]!)
}
