/** What pruning looks at for one uid. */
export type PruneCandidate = {
  uid: number
  /** Last epoch's combined emission (rao). */
  emission: bigint
  registrationBlock: number
  /** Owner hotkeys are never pruned. */
  immortal: boolean
}

/**
 * subtensor HEAD `get_neuron_to_prune`: among non-immortal uids, the minimum by
 * (emission, registration block, uid). Non-immune uids (block − registration ≥ immunityPeriod)
 * are preferred, but only when there are more than `minNonImmune` of them; otherwise the best
 * immune candidate is taken. Returns null when nothing qualifies (NoNeuronIdAvailable).
 */
export function neuronToPrune(
  candidates: readonly PruneCandidate[],
  block: number,
  immunityPeriod: number,
  minNonImmune: number,
): number | null {
  const mortal = candidates.filter((c) => !c.immortal)
  const immune = (c: PruneCandidate) => block - c.registrationBlock < immunityPeriod
  const best = (list: PruneCandidate[]) => {
    let b: PruneCandidate | null = null
    for (const c of list) {
      if (
        !b ||
        c.emission < b.emission ||
        (c.emission === b.emission &&
          (c.registrationBlock < b.registrationBlock ||
            (c.registrationBlock === b.registrationBlock && c.uid < b.uid)))
      )
        b = c
    }
    return b
  }
  const nonImmune = mortal.filter((c) => !immune(c))
  if (nonImmune.length > minNonImmune) return best(nonImmune)!.uid
  const immuneBest = best(mortal.filter(immune))
  if (immuneBest) return immuneBest.uid
  return best(nonImmune)?.uid ?? null
}
