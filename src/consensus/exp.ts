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
 */

const ONE = 1n << 32n
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

const cache = new Map<number, number>()

/**
 * `exp_safe`: clamps x (raw I32F32 bits) to [−20, 20] and returns e^x in raw bits. Memoised,
 * because the liquid-alpha matrix evaluates the same few exponents many times.
 */
export function expSafe(x: number): number {
  const hit = cache.get(x)
  if (hit !== undefined) return hit
  let b = BigInt(x)
  if (b < -TWENTY) b = -TWENTY
  else if (b > TWENTY) b = TWENTY
  const r = expBits(b)
  const out = r === null ? (b <= 0n ? 0 : Number(I64_MAX)) : Number(r)
  if (cache.size > 1 << 16) cache.clear()
  cache.set(x, out)
  return out
}
