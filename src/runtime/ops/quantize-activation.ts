import { bitLength, floorDiv, maxAbs, pow2, roundDivSym } from '../fixed/int.ts'

/**
 * The int8 form of a Q16 activation vector x: q_j = round-half-away(x_j / (m * 2^-e)), with
 * m * 2^-e the smallest 12-bit-mantissa scale >= amax / 127, so |q_j| <= 127.
 * Returns [m, e], or [0, 0] for an all-zero vector (then every q_j = 0).
 *
 * e = 19 - bitLength(amax) puts amax * 2^e in [2^18, 2^19), so m = ceil(amax * 2^e / 127) is in
 * [2065, 4129]; above 4095 it is recomputed with e - 1. All values stay below 2^25.
 */
export function activationScale(amax: number): [number, number] {
  if (amax === 0) return [0, 0]
  let e = 19 - bitLength(amax)
  let m = ceilScaled(amax, e)
  if (m > 4095) {
    e -= 1
    m = ceilScaled(amax, e)
  }
  return [m, e]
}

/** ceil(amax * 2^e / 127) for integer amax and e (possibly negative). */
function ceilScaled(amax: number, e: number): number {
  return e >= 0 ? -floorDiv(-amax * pow2(e), 127) : -floorDiv(-amax, 127 * pow2(-e))
}

/** Quantizes x[off .. off+n) into out[outOff ..]; returns [m, e]. */
export function quantizeActivation(
  x: Int32Array,
  off: number,
  n: number,
  out: Int8Array,
  outOff: number,
): [number, number] {
  const [m, e] = activationScale(maxAbs(x, off, n))
  if (m === 0) {
    out.fill(0, outOff, outOff + n)
    return [0, 0]
  }
  if (e >= 0) {
    const p = pow2(e)
    for (let j = 0; j < n; j++) out[outOff + j] = roundDivSym(x[off + j]! * p, m)
  } else {
    const d = m * pow2(-e)
    for (let j = 0; j < n; j++) out[outOff + j] = roundDivSym(x[off + j]!, d)
  }
  return [m, e]
}
