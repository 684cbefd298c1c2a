/** Total supply: 21e6 TAO in rao. */
export const TOTAL_SUPPLY = 21_000_000_000_000_000n
/** Block emission before the first halving: 1 TAO. */
export const INITIAL_BLOCK_EMISSION = 1_000_000_000n

/**
 * Halvings so far: ⌊log2(1 / (1 − issuance / supply))⌋, i.e. the largest k with
 * issuance ≥ supply·(1 − 2^−k). Integer arithmetic, so exact at every threshold
 * (10.5M, 15.75M, 18.375M TAO …).
 */
export function halvings(issuance: bigint): number {
  if (issuance >= TOTAL_SUPPLY) return Number.POSITIVE_INFINITY
  let k = 0
  // remaining·2^(k+1) ≤ supply ⇔ issuance ≥ supply·(1 − 2^−(k+1))
  while ((TOTAL_SUPPLY - issuance) << BigInt(k + 1) <= TOTAL_SUPPLY) k++
  return k
}

/** Block emission in rao: 1e9 / 2^halvings, 0 once issuance reaches the supply. */
export function blockEmission(issuance: bigint): bigint {
  const k = halvings(issuance)
  if (!Number.isFinite(k)) return 0n
  return INITIAL_BLOCK_EMISSION >> BigInt(k)
}
