import { CompetitionError } from '../errors/competition.ts'

/** One committed model as a validator sees it after evaluating the epoch's passages. */
export type CompetitorScore = {
  uid: number
  /** Block of the model's (latest) commitment on chain. */
  commitBlock: number
  /** Evaluation loss (nats Q16, evaluate.ts), or null when unscored (unavailable, too large, ...). */
  loss: bigint | null
  /** Flagged by the chain as a later commitment of another hotkey's model: never weighted. */
  copy?: boolean
}

export type CompetitionWeight = { uid: number; weight: number }

/** The weight scale of a validator's row (set_weights values are u16). */
export const WEIGHT_SCALE = 65535
/** Parts per million of the scale shared by the scored models other than the winner. */
export const RUNNERS_UP_PPM = 100_000
const PPM = 1_000_000n

/**
 * `later` takes the champion's place when its loss is lower by more than epsilon (ppm of the
 * champion's loss): later * 10^6 < champion * (10^6 - epsilon), exact in bigints. Equal losses
 * (a byte-identical copy) never beat, whatever epsilon.
 */
export function beats(later: bigint, champion: bigint, epsilonPpm: number): boolean {
  return later * PPM < champion * (PPM - BigInt(epsilonPpm))
}

function order(a: CompetitorScore, b: CompetitorScore): number {
  return a.commitBlock - b.commitBlock || a.uid - b.uid
}

/**
 * The winner: king of the hill in commit order. The scored, non-copy models are walked by
 * (commitBlock asc, uid asc); the first is champion, and each later one replaces the champion
 * when it beats it (`beats`). Undefined when no model is scored.
 */
export function competitionWinner(
  scores: readonly CompetitorScore[],
  epsilonPpm: number,
): CompetitorScore | undefined {
  checkScores(scores, epsilonPpm)
  let champion: CompetitorScore | undefined
  for (const s of eligible(scores).sort(order)) {
    if (champion === undefined || beats(s.loss!, champion.loss!, epsilonPpm)) champion = s
  }
  return champion
}

/**
 * Weights summing to WEIGHT_SCALE (or all 0 when nothing is scored), one per input uid, by uid:
 *   R = floor(WEIGHT_SCALE * RUNNERS_UP_PPM / 10^6) = 6553;
 *   a runner-up is a scored, non-copy model other than the winner that beats every scored,
 *   non-copy model committed before it (so a later copy, or a model within epsilon of an earlier
 *   one, is none); runners-up ranked by (loss asc, commitBlock asc, uid asc) get R >> k for rank
 *   k = 1, 2, ... (3276, 1638, ...; 0 from rank 13 on);
 *   the winner gets WEIGHT_SCALE minus their sum (at least 58,983 = 90%);
 *   every other model gets 0.
 * The input order does not matter; every tie is broken by commit block, then uid.
 */
export function competitionWeights(
  scores: readonly CompetitorScore[],
  epsilonPpm: number,
): CompetitionWeight[] {
  const winner = competitionWinner(scores, epsilonPpm)
  const weight = new Map<number, number>(scores.map((s) => [s.uid, 0]))
  if (winner) {
    const pool = Math.floor((WEIGHT_SCALE * RUNNERS_UP_PPM) / 1_000_000)
    const ranked = eligible(scores).sort(order)
    const others = ranked
      .filter(
        (s, i) =>
          s.uid !== winner.uid &&
          ranked.slice(0, i).every((e) => beats(s.loss!, e.loss!, epsilonPpm)),
      )
      .sort((a, b) => (a.loss! < b.loss! ? -1 : a.loss! > b.loss! ? 1 : order(a, b)))
    let given = 0
    others.forEach((s, k) => {
      const w = k + 1 < 31 ? pool >> (k + 1) : 0
      weight.set(s.uid, w)
      given += w
    })
    weight.set(winner.uid, WEIGHT_SCALE - given)
  }
  return [...weight.entries()].sort((a, b) => a[0] - b[0]).map(([uid, w]) => ({ uid, weight: w }))
}

function eligible(scores: readonly CompetitorScore[]): CompetitorScore[] {
  return scores.filter((s) => s.loss !== null && !s.copy)
}

function checkScores(scores: readonly CompetitorScore[], epsilonPpm: number): void {
  if (!Number.isSafeInteger(epsilonPpm) || epsilonPpm < 0 || epsilonPpm >= 1_000_000)
    throw new CompetitionError(
      'epsilon',
      `must be an integer ppm from 0 to 999999, got ${epsilonPpm}`,
    )
  const seen = new Set<number>()
  for (const s of scores) {
    if (!Number.isSafeInteger(s.uid) || s.uid < 0 || s.uid > 65535)
      throw new CompetitionError('uid', `${s.uid} is not a u16`)
    if (seen.has(s.uid)) throw new CompetitionError('uid', `${s.uid} appears twice`)
    seen.add(s.uid)
    if (!Number.isSafeInteger(s.commitBlock) || s.commitBlock < 0)
      throw new CompetitionError(
        'commitBlock',
        `uid ${s.uid}: ${s.commitBlock} is not a block number`,
      )
    if (s.loss !== null && (typeof s.loss !== 'bigint' || s.loss < 0n))
      throw new CompetitionError(
        'loss',
        `uid ${s.uid}: ${String(s.loss)} is not a loss (a bigint >= 0)`,
      )
  }
}
