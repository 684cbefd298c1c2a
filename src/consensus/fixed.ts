/**
 * I32F32 fixed point, as substrate-fixed implements it, held in a JS number as its raw bits
 * (value · 2^32). Every function here is exact: a fast path works in doubles while all
 * intermediates stay below 2^53, and anything larger falls back to BigInt.
 *
 * Rounding (substrate-fixed): multiply = full product shifted right (floor); divide =
 * (a << 32) / b truncated toward zero; division by zero gives 0 (`safe_div`).
 */

/** 2^32: the raw bits of 1.0 in I32F32. */
export const ONE = 4294967296
const TWO16 = 65536
const TWO52 = 2 ** 52
const TWO53 = 2 ** 53
const I64_MAX = (1n << 63n) - 1n
const I64_MIN = -(1n << 63n)

/** Clamps a BigInt to the i64 range (the `saturating_*` behaviour) and converts it. */
function saturate(x: bigint): number {
  if (x > I64_MAX) return Number(I64_MAX)
  if (x < I64_MIN) return Number(I64_MIN)
  return Number(x)
}

/** I32F32 multiply: floor(a·b / 2^32), saturating. */
export function mul(a: number, b: number): number {
  if (a >= 0 && b >= 0 && a < TWO52 && b < TWO52) {
    const p = a * b
    // A float product below 2^53 is exact (rounding is monotone and 2^53 is representable).
    if (p < TWO53) return Math.floor(p / ONE)
    if (p / ONE < TWO52) return mulSplit(a, b)
    return saturate((BigInt(a) * BigInt(b)) >> 32n)
  }
  return mulSigned(a, b)
}

/**
 * `mul` with a negative operand (interpolation differences, the liquid-alpha slope): the same
 * exact double paths on |a|, |b|, where the floor of a negative product −P is −ceil(P / 2^32),
 * i.e. −floor(P / 2^32) − 1 unless the low 32 bits of P are all zero (Math.imul gives them).
 */
function mulSigned(a: number, b: number): number {
  const x = Math.abs(a)
  const y = Math.abs(b)
  if (x < TWO52 && y < TWO52) {
    const p = x * y
    if (p === 0) return 0 // never −0: the BigInt path this replaces returns +0
    const neg = a < 0 !== b < 0
    if (p < TWO53) return neg ? -Math.ceil(p / ONE) : Math.floor(p / ONE)
    if (p / ONE < TWO52) {
      const f = mulSplit(x, y)
      return neg ? -(f + (Math.imul(x, y) !== 0 ? 1 : 0)) : f
    }
  }
  return saturate((BigInt(a) * BigInt(b)) >> 32n)
}

/** floor(a·b / 2^32) for non-negative a, b by 16/32-bit limbs, so no partial product exceeds 2^53. */
function mulSplit(a: number, b: number): number {
  const ah = Math.floor(a / ONE)
  const al = a - ah * ONE
  const bh = Math.floor(b / ONE)
  const bl = b - bh * ONE
  const alh = Math.floor(al / TWO16)
  const all = al - alh * TWO16
  // floor(al·bl / 2^32) = floor((alh·bl + floor(all·bl / 2^16)) / 2^16)
  const low = Math.floor((alh * bl + Math.floor((all * bl) / TWO16)) / TWO16)
  return ah * bh * ONE + ah * bl + al * bh + low
}

/**
 * I32F32 divide: trunc(a·2^32 / b), 0 when b = 0 (`safe_div`). The result depends only on the
 * ratio a/b, so callers may pass integers (e.g. u16 weights and their row sum) directly.
 */
export function div(a: number, b: number): number {
  if (b === 0) return 0
  if (a >= 0 && b > 0 && a < TWO52 && a / b < 2 ** 20) {
    // u16 values and small fixed values: a·2^32 < 2^52 is exact, one division and a remainder
    // correction suffice (q·b ≤ a·2^32 + b stays exact while b < 2^52).
    if (a < 2 ** 20 && b < TWO52) return divSmall(a, b)
    if (b < 2 ** 37) return divSplit(a, b)
    // Larger divisors (1 + e^x in the liquid-alpha sigmoid): 8-bit steps keep r·2^8 < 2^53.
    if (b < 2 ** 45) return divSplit8(a, b)
  }
  const q = (BigInt(a) << 32n) / BigInt(b) // BigInt division truncates toward zero
  return saturate(q)
}

/** Long division in 16-bit steps; each partial dividend stays below 2^53 because b < 2^37. */
function divSplit(a: number, b: number): number {
  let q0 = Math.floor(a / b)
  let r = a - q0 * b
  if (r < 0) {
    q0 -= 1
    r += b
  } else if (r >= b) {
    q0 += 1
    r -= b
  }
  let x = r * TWO16
  let q1 = Math.floor(x / b)
  let r1 = x - q1 * b
  if (r1 < 0) {
    q1 -= 1
    r1 += b
  } else if (r1 >= b) {
    q1 += 1
    r1 -= b
  }
  x = r1 * TWO16
  let q2 = Math.floor(x / b)
  const r2 = x - q2 * b
  if (r2 < 0) q2 -= 1
  else if (r2 >= b) q2 += 1
  return q0 * ONE + q1 * TWO16 + q2
}

/** trunc(a·2^32 / b) for 0 ≤ a < 2^20, 0 < b < 2^52: the float quotient is off by at most one. */
function divSmall(a: number, b: number): number {
  const x = a * ONE
  let q = Math.floor(x / b)
  const r = x - q * b
  if (r < 0) q -= 1
  else if (r >= b) q += 1
  return q
}

/** trunc(a·2^32 / b) for 0 ≤ a < 2^52, 0 < b < 2^45, a/b < 2^20, by long division in 8-bit steps. */
function divSplit8(a: number, b: number): number {
  let q = Math.floor(a / b)
  let r = a - q * b
  if (r < 0) {
    q -= 1
    r += b
  } else if (r >= b) {
    q += 1
    r -= b
  }
  // Each step: the float quotient of x < 2^53 by b is off by at most one; the remainder fixes it.
  for (let step = 0; step < 4; step++) {
    const x = r * 256
    let d = Math.floor(x / b)
    r = x - d * b
    if (r < 0) {
      d -= 1
      r += b
    } else if (r >= b) {
      d += 1
      r -= b
    }
    q = q * 256 + d
  }
  return q
}

/** I32F32 from an integer (`saturating_from_num(u)`). */
export function fromInt(n: number): number {
  return n * ONE
}

/** u16 proportion → I32F32: u / 65535 (`u16_proportion_to_fixed`), truncated. */
export function fromU16Proportion(u: number): number {
  return div(u, 65535)
}

/** I32F32 → u16 proportion: floor(x · 65535), saturating to [0, 65535] (`fixed_proportion_to_u16`). */
export function toU16Proportion(x: number): number {
  if (x <= 0) return 0
  // mul(x, 65535·2^32) is exactly x·65535, which is an exact double while x < 2^37.
  if (x < 2 ** 37) return Math.min(Math.floor((x * 65535) / ONE), 65535)
  const v = Math.floor(mul(x, 65535 * ONE) / ONE)
  return Math.min(v, 65535)
}

/** Rounds to the nearest integer, ties away from zero (substrate-fixed `round`), as an integer. */
export function roundToInt(x: number): number {
  if (x >= 0) return Math.floor((x + ONE / 2) / ONE)
  return -Math.floor((-x + ONE / 2) / ONE)
}

/** Floor of an I32F32 to an integer (`to_num` on a non-negative value). */
export function floorToInt(x: number): number {
  return Math.floor(x / ONE)
}

/** Sum of I32F32 values (exact while the total stays below 2^53). */
export function sum(xs: readonly number[]): number {
  let s = 0
  for (let i = 0; i < xs.length; i++) s += xs[i]!
  return s
}

/** `inplace_normalize`: divides by the sum unless the sum is 0. Returns a new array. */
export function normalize(xs: readonly number[]): number[] {
  return normalizeUsingSum(xs, sum(xs))
}

/** `inplace_normalize_using_sum`: divides by a given sum unless it is 0. Returns a new array. */
export function normalizeUsingSum(xs: readonly number[], s: number): number[] {
  if (s === 0) return xs.slice()
  const out: number[] = new Array(xs.length)
  for (let i = 0; i < xs.length; i++) out[i] = div(xs[i]!, s)
  return out
}

/** Converts an I32F32 to a float, for display and tests only (never fed back into the epoch). */
export function toFloat(x: number): number {
  return x / ONE
}
