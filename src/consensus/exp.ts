import { div, mul } from './fixed.ts'

/**
 * Deterministic e^x in I32F32, reproducing substrate-fixed's `transcendental::exp` step by step
 * (the function subtensor's `exp_safe` calls in the liquid-alpha sigmoid). No Math.exp: the
 * result is a pure function of the input bits, identical on every engine.
 *
 * Algorithm (S = D = I32F32, all in raw bits, BigInt):
 *   x = 0 → 1; x = 1 → e as the I9F23 constant (floor(e·2^23) = 22802600) widened to 32 bits;
 *   otherwise take |x|, result = |x| + 1, term = |x|, and for i = 2..31:
 *     term = floor(term·|x| / 2^32)   (checked_mul)
 *     term = trunc(term / i)          (checked_div by from_num(i))
 *     result += term
 *   for x < 0 the result is trunc(2^64 / result) (1 / result).
 * An overflow (impossible inside exp_safe's [−20, 20] clamp) maps to 0 for x ≤ 0, max otherwise.
 * For |x| < 13 the same steps run exactly in doubles (expDouble); beyond, in BigInt.
 */

const ONE = 1n << 32n
const ONE_NUM = 4294967296
const I64_MAX = (1n << 63n) - 1n
/** substrate-fixed's `E` is an I9F23 constant: floor(e · 2^23), widened to I32F32. */
const E_I9F23 = 22802600n
const TWENTY = 20n << 32n

function expBits(x: bigint): bigint | null {
  if (x === 0n) return ONE
  if (x === ONE) return E_I9F23 << 9n
  const neg = x < 0n
  const op = neg ? -x : x
  let result = op + ONE
  let term = op
  for (let i = 2n; i < 32n; i++) {
    term = (term * op) >> 32n
    if (term > I64_MAX) return null
    term = term / i
    result += term
    if (result > I64_MAX) return null
  }
  if (neg) return (ONE << 32n) / result
  return result
}

/** Below this |x| every term and partial sum of the series stays under 2^52 (e^13 < 2^20). */
const FAST_LIMIT = 13 * 4294967296

/**
 * expBits in doubles, for 0 < |x| < 13 (raw bits), x ≠ 1: the same steps with the same rounding.
 * mul is fixed.ts's exact floor(a·b / 2^32); the division by i is floored and corrected by its
 * remainder; 1/result is div's trunc(2^64 / result). No value reaches 2^53, so nothing rounds.
 */
function expDouble(x: number): number {
  const op = Math.abs(x)
  let result = op + ONE_NUM
  let term = op
  for (let i = 2; i < 32; i++) {
    term = mul(term, op)
    let q = Math.floor(term / i)
    const r = term - q * i
    if (r < 0) q -= 1
    else if (r >= i) q += 1
    // Once a term floors to 0 every later one is 0 (0·op = 0, 0/i = 0): the sum is final.
    if (q === 0) break
    term = q
    result += term
  }
  return x < 0 ? div(ONE_NUM, result) : result
}

/** exp_safe by BigInt only, uncached: the reference the double path is tested against. */
export function expSafeExact(x: number): number {
  let b = BigInt(x)
  if (b < -TWENTY) b = -TWENTY
  else if (b > TWENTY) b = TWENTY
  const r = expBits(b)
  return r === null ? (b <= 0n ? 0 : Number(I64_MAX)) : Number(r)
}

const cache = new Map<number, number>()

/**
 * `exp_safe`: clamps x (raw I32F32 bits) to [−20, 20] and returns e^x in raw bits. Memoised,
 * because the liquid-alpha matrix evaluates the same few exponents many times.
 */
export function expSafe(x: number): number {
  const hit = cache.get(x)
  if (hit !== undefined) return hit
  const out =
    x !== 0 && x !== ONE_NUM && x > -FAST_LIMIT && x < FAST_LIMIT ? expDouble(x) : expSafeExact(x)
  if (cache.size > 1 << 16) cache.clear()
  cache.set(x, out)
  return out
}
