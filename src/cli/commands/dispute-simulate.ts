import { UsageError } from '../../errors/cli.ts'
import {
  DEVNET_SAMPLE_RATE,
  type DisputeEconomics,
  equilibrium,
  equilibriumTable,
  MAX_REWARD_BPS,
  MIN_REWARD_BPS,
  MIN_SLASH_BPS,
  minimumStake,
  withinBounds,
} from '../../verify/dispute/equilibrium.ts'
import { intFlag, numberFlag, parseArgs } from '../args.ts'

const SIMULATE_HELP = `usage: verity dispute simulate [options] [--json]
  Proof of Sampling with a subnet's dispute parameters: the sample rate p* above which cheating
  pays less than honesty, p* = C / ((1 - r)(R + (1 - rewardBps/10000) S)),
  S = min(stake, max(slashMin, stake x slashBps/10000)), and a seeded Monte Carlo of a miner's
  payoff per answer, honest vs cheating on every answer, at each sample rate.

  --sample-rate p     validators' sample rate; repeat with commas for a table (default 0.25)
  --stake S           the miner's stake, VTY (default 1000)
  --cost C            compute cost a cheater saves per answer, VTY (default 0.01)
  --reward R          the miner's emission per answer, VTY (default 0)
  --collusion r       colluding share of validators (default 0)
  --slash-bps n       share of the stake slashed, >= ${MIN_SLASH_BPS} (default 5000)
  --reward-bps n      challenger's share of the slash, ${MIN_REWARD_BPS}..${MAX_REWARD_BPS} (default 5000)
  --slash-min v       least slash, VTY (default 5)
  --bond v            challenger's bond, VTY (default 10)
  --answers N         answers per simulated miner (default 10000)
  --trials M          simulated miners (default 200)
  --seed s            Monte Carlo seed (default 1)
  --json              one JSON object instead of the table`

/** `verity dispute simulate [--sample-rate p --stake S --cost C --reward R ...] [--json]` */
export async function simulateDisputeCommand(argv: string[]): Promise<number> {
  const { flags, positionals } = parseArgs(argv, {
    'sample-rate': { type: 'string' },
    stake: { type: 'string' },
    cost: { type: 'string' },
    reward: { type: 'string' },
    collusion: { type: 'string' },
    'slash-bps': { type: 'string' },
    'reward-bps': { type: 'string' },
    'slash-min': { type: 'string' },
    bond: { type: 'string' },
    answers: { type: 'string' },
    trials: { type: 'string' },
    seed: { type: 'string' },
    json: { type: 'boolean' },
    help: { type: 'boolean', short: 'h' },
  })
  if (flags.help) {
    console.log(SIMULATE_HELP)
    return 0
  }
  if (positionals.length > 0) throw new UsageError(`unexpected argument '${positionals[0]}'`)
  const rates = String(flags['sample-rate'] ?? DEVNET_SAMPLE_RATE)
    .split(',')
    .map((raw) => numberFlag({ 'sample-rate': raw }, 'sample-rate', 0, 0, 1))
  const economics: Omit<DisputeEconomics, 'sampleRate'> = {
    stake: numberFlag(flags, 'stake', 1000, 0, 21e6),
    cost: numberFlag(flags, 'cost', 0.01, 0, 21e6),
    reward: numberFlag(flags, 'reward', 0, 0, 21e6),
    collusion: numberFlag(flags, 'collusion', 0, 0, 0.999999),
    slashBps: intFlag(flags, 'slash-bps', 5000, 0, 10_000),
    rewardBps: intFlag(flags, 'reward-bps', 5000, 0, 10_000),
    slashMin: numberFlag(flags, 'slash-min', 5, 0, 21e6),
    bond: numberFlag(flags, 'bond', 10, 0, 21e6),
  }
  const run = {
    answers: intFlag(flags, 'answers', 10_000, 1, 10_000_000),
    trials: intFlag(flags, 'trials', 200, 2, 100_000),
    seed: intFlag(flags, 'seed', 1, 0, 2 ** 53 - 1),
  }
  const bound = equilibrium({ ...economics, sampleRate: rates[0]! })
  const rows = equilibriumTable(economics, rates, run)
  const least = minimumStake({ ...economics, sampleRate: rates[0]! })
  const inBounds = withinBounds(economics)
  if (flags.json) {
    const { edge: _e, honest: _h, cheat: _c, ...b } = bound
    console.log(JSON.stringify({ ...economics, ...run, ...b, minimumStake: least, inBounds, rows }))
    return 0
  }
  const f = (x: number, d = 6) => (Number.isFinite(x) ? x.toPrecision(d) : String(x))
  console.log(
    `S = ${f(bound.slash)} VTY slashed, ${f(bound.effectiveSlash)} of it burned (the sure loss), ${f(bound.challengerGain)} to the challenger`,
  )
  console.log(
    `p* = C / ((1 - r)(R + S_eff)) = ${f(bound.threshold)}; least stake for p* <= ${rates[0]}: ${f(least)} VTY` +
      (inBounds ? '' : ` (slashBps/rewardBps OUTSIDE the game's bounds)`),
  )
  console.log(`${run.trials} miners x ${run.answers} answers, seed ${run.seed}; payoff per answer:`)
  console.log(
    'p          honest     cheat (expected)  cheat (simulated ± se)   cheater ahead  honesty pays',
  )
  for (const r of rows) {
    console.log(
      [
        f(r.sampleRate, 4).padEnd(10),
        f(r.honest, 5).padEnd(10),
        f(r.cheat, 6).padEnd(17),
        `${f(r.simulated, 6)} ± ${f(r.stderr, 2)}`.padEnd(24),
        `${(100 * r.cheatWins).toFixed(1)}%`.padEnd(14),
        r.honestPays ? 'yes' : 'NO',
      ].join(' '),
    )
  }
  return 0
}
