/**
 * Fixed-point transcendental functions in BigInt with F = 96 fractional bits, used only to build
 * tables (RoPE). Division is BigInt `/` (truncates toward zero) and `>>` is an arithmetic shift
 * (floor), the same semantics as Solidity's int256, so a contract can follow these steps exactly.
 * Every product of two values stays below 2^200.
 */
export const F = 96n
export const ONE = 1n << F

/** atanh(z) = z + z^3/3 + z^5/5 + ... for a fixed-point |z| <= 1/3, until a term is 0. */
function atanh(z: bigint): bigint {
  const z2 = (z * z) >> F
  let power = z
  let sum = z
  for (let k = 3n; power !== 0n; k += 2n) {
    power = (power * z2) >> F
    sum += power / k
  }
  return sum
}

/** ln(2) = 2 atanh(1/3). */
export const LN2 = 2n * atanh(ONE / 3n)

/** pi = 16 atan(1/5) - 4 atan(1/239) (Machin), atan by its alternating series. */
function atanInverse(n: bigint): bigint {
  const x = ONE / n
  const x2 = (x * x) >> F
  let power = x
  let sum = x
  let sign = -1n
  for (let k = 3n; power !== 0n; k += 2n) {
    power = (power * x2) >> F
    sum += (sign * power) / k
    sign = -sign
  }
  return sum
}
export const PI = 16n * atanInverse(5n) - 4n * atanInverse(239n)
const TWO_PI = 2n * PI

/** ln(x) for a fixed-point x > 0: x = 2^k * m with m in [1, 2), ln x = k ln2 + 2 atanh((m-1)/(m+1)). */
export function ln(x: bigint): bigint {
  if (x <= 0n) throw new RangeError('ln of a non-positive number')
  let k = 0n
  let m = x
  while (m >= 2n * ONE) {
    m >>= 1n
    k++
  }
  while (m < ONE) {
    m <<= 1n
    k--
  }
  return k * LN2 + 2n * atanh(((m - ONE) * ONE) / (m + ONE))
}

/** e^y for a fixed-point y <= 0: y = -k ln2 + r with r in [0, ln2), e^r by Taylor, then >> k. */
export function expNonPositive(y: bigint): bigint {
  if (y > 0n) throw new RangeError('expNonPositive takes y <= 0')
  const k = (-y + LN2 - 1n) / LN2 // ceil(-y / ln2)
  const r = y + k * LN2
  let term = ONE
  let sum = ONE
  for (let n = 1n; term !== 0n; n++) {
    term = (term * r) / (n * ONE)
    sum += term
  }
  return k >= 200n ? 0n : sum >> k
}

/** cos and sin of a fixed-point angle: reduced to [-pi, pi], then Taylor until a term is 0. */
export function cosSin(angle: bigint): [bigint, bigint] {
  let a = angle % TWO_PI
  if (a < 0n) a += TWO_PI
  if (a > PI) a -= TWO_PI
  const a2 = (a * a) >> F
  let cosTerm = ONE
  let cos = ONE
  let sinTerm = a
  let sin = a
  for (let n = 1n; cosTerm !== 0n || sinTerm !== 0n; n++) {
    cosTerm = -(cosTerm * a2) / ((2n * n - 1n) * (2n * n) * ONE)
    sinTerm = -(sinTerm * a2) / (2n * n * (2n * n + 1n) * ONE)
    cos += cosTerm
    sin += sinTerm
  }
  return [cos, sin]
}

/** Rounds a fixed-point value to `bits` fractional bits, ties toward +infinity. */
export function toFixed(x: bigint, bits: bigint): number {
  return Number((x + (1n << (F - bits - 1n))) >> (F - bits))
}

/** A finite positive double as an F-bit fixed-point BigInt (exact down to 2^-96, truncated below). */
export function fromDouble(x: number): bigint {
  if (!(x > 0) || !Number.isFinite(x))
    throw new RangeError(`expected a positive finite number, got ${x}`)
  const f64 = new Float64Array([x])
  const bits = new BigUint64Array(f64.buffer)[0]!
  const exponent = Number((bits >> 52n) & 0x7ffn)
  const fraction = bits & ((1n << 52n) - 1n)
  const mantissa = exponent === 0 ? fraction : fraction | (1n << 52n)
  const shift = BigInt((exponent === 0 ? 1 : exponent) - 1075) + F // value = mantissa * 2^(e-1075)
  return shift >= 0n ? mantissa << shift : mantissa >> -shift
}
