/**
 * Exact integer helpers on JavaScript numbers. Every function here is exact as long as its
 * operands and intermediate values stay below 2^53 in magnitude; callers document why they do.
 * These are the primitives docs/DETERMINISM.md is written in.
 */

/** Largest int32 magnitude; activations saturate symmetrically to [-INT32_MAX, INT32_MAX]. */
export const INT32_MAX = 0x7fffffff

/** Clamps to [-INT32_MAX, INT32_MAX] (symmetric, so negation never overflows). */
export function sat32(v: number): number {
  return v > INT32_MAX ? INT32_MAX : Math.max(v, -INT32_MAX)
}

/** floor(a / b) for integers a and b > 0, exact (the quotient is corrected after the division). */
export function floorDiv(a: number, b: number): number {
  let q = Math.floor(a / b)
  const r = a - q * b
  if (r < 0) q -= 1
  else if (r >= b) q += 1
  return q
}

/** round(a / b), ties toward +infinity: floor((2a + b) / (2b)), for b > 0. */
export function roundDiv(a: number, b: number): number {
  return floorDiv(2 * a + b, 2 * b)
}

/** round(a / b), ties away from zero, for b > 0: the quotient is odd in a. */
export function roundDivSym(a: number, b: number): number {
  return a < 0 ? -floorDiv(-2 * a + b, 2 * b) : floorDiv(2 * a + b, 2 * b)
}

/** POW2[k] = 2^k for 0 <= k <= 1023, built by exact doubling (a table: roundShift is hot). */
const POW2 = new Float64Array(1024)
POW2[0] = 1
for (let k = 1; k < 1024; k++) POW2[k] = POW2[k - 1]! * 2

/** 2^k for an integer 0 <= k <= 1023, without Math.pow (exact: a table built by doubling). */
export function pow2(k: number): number {
  const p = POW2[k]
  if (p === undefined || !Number.isInteger(k))
    throw new RangeError(`pow2 takes an integer in [0, 1023], got ${k}`)
  return p
}

/**
 * round(v / 2^s), ties toward +infinity: floor((v + 2^(s-1)) / 2^s) for s > 0; v for s = 0;
 * v * 2^-s for s < 0 (a left shift). Requires |v| < 2^52.
 */
export function roundShift(v: number, s: number): number {
  if (s <= 0) {
    if (s === 0 || v === 0) return v
    // Left shifts beyond 2^1023 overflow anyway; callers saturate the infinite result.
    return -s > 1023 ? v * Number.POSITIVE_INFINITY : v * POW2[-s]!
  }
  // |v| < 2^52 <= 2^(s-1): the rounded quotient is 0 (and v + 2^(s-1) would not be exact).
  if (s >= 54) return 0
  const p = POW2[s]!
  return Math.floor((v + p / 2) / p)
}

/** Number of bits of a non-negative integer: 0 for 0, k for v in [2^(k-1), 2^k). */
export function bitLength(v: number): number {
  if (v < 0x100000000) return v === 0 ? 0 : 32 - Math.clz32(v)
  let b = 32
  let x = Math.floor(v / 0x100000000)
  while (x > 0) {
    b++
    x = Math.floor(x / 2)
  }
  return b
}

/** floor(sqrt(v)) for an integer 0 <= v < 2^53, exact (the float estimate is corrected). */
export function isqrt(v: number): number {
  if (v <= 0) return 0
  let s = Math.floor(Math.sqrt(v))
  while (s * s > v) s--
  while ((s + 1) * (s + 1) <= v) s++
  return s
}

/** Largest |x| of a vector slice. */
export function maxAbs(x: ArrayLike<number>, off = 0, len = x.length - off): number {
  let m = 0
  for (let i = off; i < off + len; i++) {
    const v = x[i]!
    const a = v < 0 ? -v : v
    if (a > m) m = a
  }
  return m
}
