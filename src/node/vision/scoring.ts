/** One miner's calls in one epoch, as a vision validator counted them. */
export type VisionTally = {
  /** Images sent. */
  sent: number
  /** Calls that came back with an answer (valid or not). */
  answered: number
  /** Answers that checked: signed, bound to the call, proof verified. */
  valid: number
  /** Answers whose miner's own signature convicts it (a signed proof that does not verify). */
  convicted: number
  /** Milliseconds of each answered call. */
  latenciesMs: number[]
}

/**
 * A miner's score in [0, 1]: valid proofs (share of images) × availability (share answered) ×
 * latency (1 up to `targetMs` median, then targetMs / median). Any convicting answer scores 0: a
 * miner that signs false proofs earns nothing that epoch, however many true ones it sent.
 */
export function visionScore(t: VisionTally, targetMs: number): number {
  if (t.sent === 0 || t.convicted > 0 || t.valid === 0) return 0
  const sorted = [...t.latenciesMs].sort((a, b) => a - b)
  const median = sorted.length === 0 ? 0 : (sorted[(sorted.length - 1) >> 1] as number)
  const latency = median <= targetMs ? 1 : targetMs / median
  return (t.valid / t.sent) * (t.answered / t.sent) * latency
}

/** Scores to u16 weights, the best at 65535 and the others in proportion; all 0 stays 0. */
export function visionWeights(scores: readonly number[]): number[] {
  const best = Math.max(0, ...scores)
  if (best === 0) return scores.map(() => 0)
  return scores.map((s) => Math.round((65_535 * Math.max(0, s)) / best))
}
