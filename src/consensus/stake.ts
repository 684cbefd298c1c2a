/**
 * Stake weight S: raw stakes (u64) → threshold filter → I64F64 normalisation → I32F32.
 * I64F64 holds s·2^64; s_i / Σs in I64F64 is trunc(s_i·2^64 / Σs), and the narrowing to
 * I32F32 drops the low 32 bits (floor). BigInt keeps both steps exact.
 */
export function stakeWeights(
  stake: readonly bigint[],
  threshold: bigint,
  ownerUid: number | null,
): number[] {
  // `fixed64_to_u64(s) < min_stake` zeroes the uid; the subnet owner is exempt (HEAD).
  const filtered = stake.map((s, uid) => (uid !== ownerUid && s < threshold ? 0n : s))
  let total = 0n
  for (const s of filtered) total += s
  if (total === 0n) return filtered.map(() => 0)
  return filtered.map((s) => {
    const q64 = (s << 64n) / total // I64F64 quotient, truncated
    return Number(q64 >> 32n) // I64F64 → I32F32 discards the low bits
  })
}

/**
 * `is_topk_nonzero`: true for non-zero entries; when n ≥ k, a stable ascending sort clears the
 * first n − k indices, so on a tie the lower uid loses.
 */
export function isTopkNonzero(values: readonly number[], k: number): boolean[] {
  const n = values.length
  const result = values.map((v) => v !== 0)
  if (n < k) return result
  const idx = values.map((_, i) => i)
  idx.sort((a, b) => values[a]! - values[b]! || a - b) // explicit tie-break = stable
  for (let t = 0; t < n - k; t++) result[idx[t]!] = false
  return result
}
