import { readFileSync } from 'node:fs'
import {
  compareScenario,
  parseScenarioText,
  runScenario,
  type Scenario,
} from '../../consensus/index.ts'
import { UsageError } from '../../errors/cli.ts'
import { ScenarioError } from '../../errors/consensus.ts'
import { parseArgs } from '../args.ts'
import type { Command } from '../main.ts'

const HELP = `usage:
  verity yuma run <scenario.json> [--check] [--onchain]
      replay a verity-yuma-scenario/1 file and print {"epochs":[...]} on stdout;
      --check also compares with the file's expect block (summary on stderr, exit 1 on mismatch);
      --onchain runs it against the contracts on a fresh local devnet (anvil) instead
  verity yuma simulate <name|file.json> [--epochs N] [--out DIR]
      run an adversarial scenario for many epochs; writes DIR/<name>.csv and DIR/<name>.svg
      and prints one line per actor (names: run 'verity yuma simulate --list')`

function readScenario(path: string): Scenario {
  let text: string
  try {
    text = readFileSync(path, 'utf8')
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code
    throw new ScenarioError('(file)', `cannot read '${path}' (${code ?? 'error'})`)
  }
  return parseScenarioText(text)
}

async function run(argv: string[]): Promise<number> {
  const { flags, positionals } = parseArgs(argv, {
    check: { type: 'boolean' },
    onchain: { type: 'boolean' },
  })
  if (positionals.length !== 1) throw new UsageError('yuma run needs exactly one <scenario.json>')
  const scenario = readScenario(positionals[0]!)
  let epochs: ReturnType<typeof runScenario>
  if (flags.onchain) {
    // Loaded only here: the chain layer starts anvil and is not needed for the TS runner.
    const { runScenarioOnchain } = await import('../../chain/yuma-onchain.ts')
    const controller = new AbortController()
    const abort = () => controller.abort(new Error('interrupted'))
    process.once('SIGINT', abort)
    try {
      epochs = await runScenarioOnchain(scenario, { signal: controller.signal })
    } finally {
      process.off('SIGINT', abort)
    }
  } else {
    epochs = runScenario(scenario)
  }
  process.stdout.write(`${JSON.stringify({ epochs })}\n`)
  if (!flags.check) return 0
  const cmp = compareScenario(scenario, epochs)
  for (const [field, r] of Object.entries(cmp.fields)) {
    console.error(
      `${field}: ${r.checked} values, max error ${r.maxError.toPrecision(3)} (tolerance ${r.tolerance})`,
    )
  }
  for (const m of cmp.mismatches.slice(0, 20)) {
    console.error(`mismatch: epoch ${m.epoch} ${m.field}[${m.at}] got ${m.got}, want ${m.want}`)
  }
  console.error(cmp.matches ? `${scenario.name}: matches` : `${scenario.name}: DOES NOT MATCH`)
  return cmp.matches ? 0 : 1
}

export const command: Command = {
  summary: 'Yuma Consensus: run a scenario or simulate adversaries',
  run: async (argv) => {
    const [sub, ...rest] = argv
    if (
      !sub ||
      sub === '--help' ||
      sub === '-h' ||
      rest.includes('--help') ||
      rest.includes('-h')
    ) {
      console.log(HELP)
      return sub ? 0 : 2
    }
    if (sub === 'run') return run(rest)
    if (sub === 'simulate') {
      const { simulateCommand } = await import('./yuma-simulate.ts')
      return simulateCommand(rest)
    }
    throw new UsageError(`unknown yuma subcommand '${sub}' (run 'verity yuma --help')`)
  },
}
