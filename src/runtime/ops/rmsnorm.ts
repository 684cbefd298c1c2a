import { bitLength, floorDiv, isqrt, maxAbs, roundDivSym, roundShift, sat32 } from '../fixed/int.ts'

/**
 * RMSNorm in integers (docs/DETERMINISM.md, "rmsnorm"):
 *   sh = max(bitLength(amax) - 20, -8); xs_j = roundShift(x_j, sh)         |xs| <= 2^20
 *   ms = floor(sum xs_j^2 / n) + roundShift(epsQ40, 8 + 2 sh)             < 2^53 for n <= 8192
 *   r  = isqrt(ms * 2^12)                                                  = sqrt(ms) * 64
 *   y_j = sat32(round-half-away(xs_j * g_j * 64 / r))                      |xs g 64| < 2^50
 * Returns the common terms so a single element can be recomputed from them.
 */
export function rmsnormParams(
  x: Int32Array,
  off: number,
  n: number,
  epsQ: number,
): { sh: number; r: number } {
  const amax = maxAbs(x, off, n)
  if (amax === 0) return { sh: 0, r: 0 }
  const sh = Math.max(bitLength(amax) - 20, -8)
  let ss = 0
  for (let j = 0; j < n; j++) {
    const v = roundShift(x[off + j]!, sh)
    ss += v * v
  }
  const ms = floorDiv(ss, n) + roundShift(epsQ, 8 + 2 * sh)
  return { sh, r: isqrt(ms * 4096) }
}

export function rmsnorm(
  x: Int32Array,
  off: number,
  n: number,
  g: Int32Array,
  epsQ: number,
  out: Int32Array,
  outOff: number,
): void {
  const { sh, r } = rmsnormParams(x, off, n, epsQ)
  if (r === 0) {
    out.fill(0, outOff, outOff + n)
    return
  }
  for (let j = 0; j < n; j++)
    out[outOff + j] = sat32(roundDivSym(roundShift(x[off + j]!, sh) * g[j]! * 64, r))
}
