/**
 * Registration burn price, HEAD rule (2026): each block the burn decays by a factor f with
 * f^halfLife ≤ 1/2 (f found by binary search in Q32, as subtensor does), each registration
 * multiplies it by the increase multiplier, and it stays within [minBurn, maxBurn].
 */
export type BurnConfig = {
  minBurn: bigint
  maxBurn: bigint
  /** Blocks for the price to halve without registrations (subtensor default 360). */
  halfLife: number
  /** Multiplier per registration as a ratio num/den (default 126/100). */
  increaseNum: bigint
  increaseDen: bigint
}

export const DEFAULT_BURN: BurnConfig = {
  minBurn: 500_000n, // 0.0005 TAO
  maxBurn: 100_000_000_000n, // 100 TAO
  halfLife: 360,
  increaseNum: 126n,
  increaseDen: 100n,
}

const Q = 32n
const ONE_Q = 1n << Q

/** x^e in Q32 by square-and-multiply, flooring after each product. */
function powQ32(x: bigint, e: number): bigint {
  let result = ONE_Q
  let base = x
  let k = e
  while (k > 0) {
    if (k & 1) result = (result * base) >> Q
    base = (base * base) >> Q
    k >>= 1
  }
  return result
}

const factorCache = new Map<number, bigint>()

/** The largest Q32 factor f with f^halfLife ≤ 0.5 (binary search over [0, 1]). */
export function decayFactorQ32(halfLife: number): bigint {
  const hit = factorCache.get(halfLife)
  if (hit !== undefined) return hit
  let lo = 0n
  let hi = ONE_Q
  const half = ONE_Q >> 1n
  while (lo < hi) {
    const mid = (lo + hi + 1n) >> 1n
    if (powQ32(mid, halfLife) <= half) lo = mid
    else hi = mid - 1n
  }
  factorCache.set(halfLife, lo)
  return lo
}

function clamp(b: bigint, c: BurnConfig): bigint {
  return b < c.minBurn ? c.minBurn : b > c.maxBurn ? c.maxBurn : b
}

/** One block of decay. */
export function decayBurn(burn: bigint, c: BurnConfig): bigint {
  return clamp((burn * decayFactorQ32(c.halfLife)) >> Q, c)
}

/** The price after one registration. */
export function bumpBurn(burn: bigint, c: BurnConfig): bigint {
  return clamp((burn * c.increaseNum) / c.increaseDen, c)
}
