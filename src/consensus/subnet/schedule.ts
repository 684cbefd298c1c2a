/**
 * Tempo scheduling, subtensor's classic rule (in force until May 2026): the epoch of subnet
 * `netuid` runs in block b when (b + netuid + 1) mod (tempo + 1) = 0; tempo 0 disables it.
 */
export function isEpochBlock(block: number, netuid: number, tempo: number): boolean {
  if (tempo === 0) return false
  return (block + netuid + 1) % (tempo + 1) === 0
}

/** Blocks until the next epoch: tempo − ((block + netuid + 1) mod (tempo + 1)). */
export function blocksUntilNextEpoch(block: number, netuid: number, tempo: number): number {
  if (tempo === 0) return Number.POSITIVE_INFINITY
  return tempo - ((block + netuid + 1) % (tempo + 1))
}

/** subtensor's epoch index (commit-reveal keys on it): ⌊(block + netuid + 1) / (tempo + 1)⌋. */
export function epochIndex(block: number, netuid: number, tempo: number): number {
  if (tempo === 0) return 0
  return Math.floor((block + netuid + 1) / (tempo + 1))
}
