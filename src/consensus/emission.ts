import { normalize, normalizeUsingSum } from './fixed.ts'

export type EmissionSplit = {
  /** Normalised shares (I32F32). */
  serverShare: number[]
  validatorShare: number[]
  combinedShare: number[]
  /** Amounts in rao: floor(I96F32(share) · emission). */
  server: bigint[]
  validator: bigint[]
  combined: bigint[]
}

/**
 * Step 12: comb = I + D; server = I / Σcomb, validator = D / Σcomb, combined = normalise(comb).
 * If Σcomb = 0 the validator and combined shares fall back to A, or to S when A is all zero
 * (the server share stays I, i.e. 0).
 */
export function splitEmission(
  incentive: readonly number[],
  dividends: readonly number[],
  activeStake: readonly number[],
  stake: readonly number[],
  emission: bigint,
): EmissionSplit {
  const comb = incentive.map((x, i) => x + dividends[i]!)
  let esum = 0
  for (const c of comb) esum += c
  const serverShare = normalizeUsingSum(incentive, esum)
  let validatorShare = normalizeUsingSum(dividends, esum)
  let combinedShare = normalize(comb)
  if (esum === 0) {
    let activeSum = 0
    for (const a of activeStake) activeSum += a
    const fallback = activeSum === 0 ? stake : activeStake
    validatorShare = fallback.slice()
    combinedShare = fallback.slice()
  }
  return {
    serverShare,
    validatorShare,
    combinedShare,
    server: serverShare.map((x) => toRao(x, emission)),
    validator: validatorShare.map((x) => toRao(x, emission)),
    combined: combinedShare.map((x) => toRao(x, emission)),
  }
}

const U64_MAX = (1n << 64n) - 1n

/**
 * floor(I96F32(x) · I96F32(emission)) as u64: the I96F32 product has bits x·emission (the 2^32
 * scales cancel once), so the integer part is floor(x·emission / 2^32); saturates at 0 and u64::MAX.
 */
export function toRao(x: number, emission: bigint): bigint {
  if (x <= 0) return 0n
  const v = (BigInt(x) * emission) >> 32n
  return v > U64_MAX ? U64_MAX : v
}
