import { Prng } from '../../runtime/sampler/prng.ts'

/**
 * Proof of Sampling economics of a subnet's dispute parameters (pure: no I/O, no clock, seeded
 * draws): the sample rate above which honesty is a miner's best answer, and a Monte Carlo of a
 * miner's payoff over many answers, honest or cheating.
 *
 * The spec's bound (../shared/specs/verification.md §4) is p > C / ((1 − r)(R + S)). Mapped to
 * our parameters (DisputeGame; docs/SECURITY.md, "Dispute game"):
 *   p  the validators' sample rate: the chance an answer is re-executed (a node's default: 0.25);
 *   r  the colluding share of validators: a cheat is caught with probability p (1 − r);
 *   C  the compute cost a cheater saves per answer (VTY);
 *   R  the miner's emission per answer (VTY): a caught cheater forfeits it (the validators'
 *      weight on it drops to zero, src/node/trust.test.ts);
 *   S  what a caught cheater loses for sure, S_eff = (1 − ρ) · min(stake, max(slashMin,
 *      stake · slashBps / 10,000)) with ρ = rewardBps / 10,000: the game slashes max(slashMin,
 *      slashBps × the stake at open), the core takes at most what the pool holds, and a cheater
 *      that expects to be caught can dispute itself through a sock puppet and keep the
 *      challenger's share ρ, so only the burned part is a sure loss.
 * The bond is what a challenger risks (lost on a false challenge), not the miner: it does not
 * enter p*, only the challenger's side (`challengerGain` = ρ S is what catching pays).
 *
 * Payoffs per answer are net of the honest compute cost, which both strategies pay but for the C
 * a cheater saves: honest R; cheating R + C when not caught, C − S_eff when caught (R forfeited,
 * S_eff lost). So E[cheat] − E[honest] = C − p (1 − r)(R + S_eff), negative exactly when p > p*.
 * The stake is taken as restored after a slash (a miner tops it up to keep serving), so S is the
 * same for every answer.
 */

/** The game's basis-point bounds (DisputeGame.sol MIN_SLASH_BPS, MIN/MAX_REWARD_BPS). */
export const MIN_SLASH_BPS = 1_000
export const MAX_SLASH_BPS = 10_000
export const MIN_REWARD_BPS = 1_000
export const MAX_REWARD_BPS = 9_000

/** The validators' default sample rate (src/node/validator.ts), as on the devnet. */
export const DEVNET_SAMPLE_RATE = 0.25

export type DisputeEconomics = {
  /** The share of the stake a lost dispute slashes (basis points). */
  slashBps: number
  /** The challenger's share of a slash (basis points); the rest is burned. */
  rewardBps: number
  /** The least a lost dispute slashes (VTY). */
  slashMin: number
  /** The challenger's bond (VTY). */
  bond: number
  /** The miner's stake (VTY). */
  stake: number
  /** p: the chance an answer is re-executed by a validator. */
  sampleRate: number
  /** R: the miner's emission per answer (VTY). */
  reward: number
  /** C: the compute cost a cheater saves per answer (VTY). */
  cost: number
  /** r: the colluding share of validators (default 0). */
  collusion?: number
}

export type Bound = {
  /** S: what a lost dispute slashes. */
  slash: number
  /** S_eff = (1 − ρ) S: what a caught cheater loses for sure. */
  effectiveSlash: number
  /** ρ S: what the challenger that catches the cheat earns (its bond comes back too). */
  challengerGain: number
  /** p* = C / ((1 − r)(R + S_eff)); Infinity when the denominator is 0. */
  threshold: number
  /** Expected payoff per answer of each strategy at the sample rate, and cheating's edge. */
  honest: number
  cheat: number
  /** E[cheat] − E[honest]: negative when honesty pays. */
  edge: number
}

function check(e: DisputeEconomics): void {
  const fail = (what: string): never => {
    throw new RangeError(`dispute economics: ${what}`)
  }
  if (!(e.sampleRate >= 0 && e.sampleRate <= 1)) fail('sampleRate must be in [0, 1]')
  const r = e.collusion ?? 0
  if (!(r >= 0 && r < 1)) fail('collusion must be in [0, 1)')
  for (const k of ['stake', 'reward', 'cost', 'slashMin', 'bond'] as const)
    if (!(Number.isFinite(e[k]) && e[k] >= 0)) fail(`${k} must be a finite number >= 0`)
  if (!(e.slashBps >= 0 && e.slashBps <= MAX_SLASH_BPS)) fail('slashBps must be in [0, 10000]')
  if (!(e.rewardBps >= 0 && e.rewardBps <= 10_000)) fail('rewardBps must be in [0, 10000]')
}

/** S = min(stake, max(slashMin, stake · slashBps / 10,000)). */
export function slashOf(e: Pick<DisputeEconomics, 'stake' | 'slashBps' | 'slashMin'>): number {
  return Math.min(e.stake, Math.max(e.slashMin, (e.stake * e.slashBps) / 10_000))
}

/** Whether slashBps and rewardBps are within the game's bounds. */
export function withinBounds(e: Pick<DisputeEconomics, 'slashBps' | 'rewardBps'>): boolean {
  return (
    e.slashBps >= MIN_SLASH_BPS &&
    e.slashBps <= MAX_SLASH_BPS &&
    e.rewardBps >= MIN_REWARD_BPS &&
    e.rewardBps <= MAX_REWARD_BPS
  )
}

/** The PoS bound p* and each strategy's expected payoff per answer at the given sample rate. */
export function equilibrium(e: DisputeEconomics): Bound {
  check(e)
  const r = e.collusion ?? 0
  const slash = slashOf(e)
  const rho = e.rewardBps / 10_000
  const effectiveSlash = (1 - rho) * slash
  const denominator = (1 - r) * (e.reward + effectiveSlash)
  const threshold = denominator > 0 ? e.cost / denominator : Number.POSITIVE_INFINITY
  const caught = e.sampleRate * (1 - r)
  const honest = e.reward
  const cheat = e.reward + e.cost - caught * (e.reward + effectiveSlash)
  return {
    slash,
    effectiveSlash,
    challengerGain: rho * slash,
    threshold,
    honest,
    cheat,
    edge: cheat - honest,
  }
}

/**
 * The least stake (VTY) for which p* <= sampleRate, with slashMin 0: stake >= (C / (p (1 − r)) − R)
 * / ((1 − ρ) · slashBps / 10,000). 0 when the emission alone deters; Infinity when nothing does.
 */
export function minimumStake(
  e: Pick<DisputeEconomics, 'sampleRate' | 'reward' | 'cost' | 'slashBps' | 'rewardBps'> & {
    collusion?: number
  },
): number {
  const q = e.sampleRate * (1 - (e.collusion ?? 0))
  if (q <= 0) return e.cost > 0 ? Number.POSITIVE_INFINITY : 0
  const needed = e.cost / q - e.reward
  if (needed <= 0) return 0
  const perStake = (1 - e.rewardBps / 10_000) * (e.slashBps / 10_000)
  return perStake > 0 ? needed / perStake : Number.POSITIVE_INFINITY
}

export type SimulateOptions = { answers: number; trials: number; seed: number }

export type Simulation = SimulateOptions & {
  /** Payoff per answer of the honest miner (never caught: re-execution reproduces it). */
  honest: number
  /** Mean payoff per answer of the cheater over the trials, its standard error, catch rate. */
  cheat: { mean: number; stderr: number; caughtRate: number }
  /** Share of trials in which the cheater ended with more than the honest miner. */
  cheatWins: number
}

const TWO_32 = 0x100000000

/**
 * Monte Carlo of `trials` miners answering `answers` requests each, cheating on every answer: a
 * validator samples each answer with probability p (a uint32 draw below p · 2^32), and the sampler
 * is honest with probability 1 − r (a second draw); a caught answer costs R + S_eff. The honest
 * miner earns R per answer: a re-execution reproduces its answer bit for bit, it is never caught.
 */
export function simulate(e: DisputeEconomics, options: SimulateOptions): Simulation {
  check(e)
  const { answers, trials, seed } = options
  if (!(Number.isSafeInteger(answers) && answers >= 1)) throw new RangeError('answers must be >= 1')
  if (!(Number.isSafeInteger(trials) && trials >= 2)) throw new RangeError('trials must be >= 2')
  const { effectiveSlash } = equilibrium(e)
  const rng = new Prng(seed)
  const sampled = e.sampleRate * TWO_32
  const colluding = (e.collusion ?? 0) * TWO_32
  const honestTotal = answers * e.reward
  let sum = 0
  let sumSq = 0
  let caughtTotal = 0
  let wins = 0
  for (let t = 0; t < trials; t++) {
    let caught = 0
    for (let a = 0; a < answers; a++) {
      if (rng.next() < sampled && rng.next() >= colluding) caught++
    }
    const total = answers * (e.reward + e.cost) - caught * (e.reward + effectiveSlash)
    const perAnswer = total / answers
    sum += perAnswer
    sumSq += perAnswer * perAnswer
    caughtTotal += caught
    if (total > honestTotal) wins++
  }
  const mean = sum / trials
  const variance = Math.max(0, (sumSq - trials * mean * mean) / (trials - 1))
  return {
    answers,
    trials,
    seed,
    honest: e.reward,
    cheat: {
      mean,
      stderr: Math.sqrt(variance / trials),
      caughtRate: caughtTotal / (trials * answers),
    },
    cheatWins: wins / trials,
  }
}

/** One row of an equilibrium table: the bound, the expectations and the Monte Carlo at rate p. */
export type TableRow = {
  sampleRate: number
  threshold: number
  honest: number
  cheat: number
  edge: number
  simulated: number
  stderr: number
  cheatWins: number
  /** Whether honesty pays at this rate (p > p*). */
  honestPays: boolean
}

/** The bound, the expectations and the Monte Carlo at each sample rate (same seed each row). */
export function equilibriumTable(
  e: Omit<DisputeEconomics, 'sampleRate'>,
  sampleRates: readonly number[],
  options: SimulateOptions,
): TableRow[] {
  return sampleRates.map((sampleRate) => {
    const x = { ...e, sampleRate }
    const b = equilibrium(x)
    const s = simulate(x, options)
    return {
      sampleRate,
      threshold: b.threshold,
      honest: b.honest,
      cheat: b.cheat,
      edge: b.edge,
      simulated: s.cheat.mean,
      stderr: s.cheat.stderr,
      cheatWins: s.cheatWins,
      honestPays: sampleRate > b.threshold,
    }
  })
}
