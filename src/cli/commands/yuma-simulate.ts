import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import {
  chartSvg,
  parseSimulation,
  SIMULATIONS,
  type Simulation,
  simulate,
  summarize,
  toCsv,
} from '../../consensus/index.ts'
import { UsageError } from '../../errors/cli.ts'
import { ScenarioError } from '../../errors/consensus.ts'
import { intFlag, parseArgs } from '../args.ts'

function load(target: string): Simulation {
  const builtin = SIMULATIONS[target]
  if (builtin) return builtin
  if (!target.endsWith('.json') && !existsSync(target))
    throw new UsageError(
      `unknown simulation '${target}' (built in: ${Object.keys(SIMULATIONS).join(', ')}; or a .json file)`,
    )
  let text: string
  try {
    text = readFileSync(target, 'utf8')
  } catch (error) {
    throw new ScenarioError(
      '(file)',
      `cannot read '${target}' (${(error as NodeJS.ErrnoException).code})`,
    )
  }
  let json: unknown
  try {
    json = JSON.parse(text)
  } catch (error) {
    throw new ScenarioError('(file)', `is not valid JSON: ${(error as Error).message}`)
  }
  return parseSimulation(json)
}

/** `verity yuma simulate <name|file> [--epochs N] [--out DIR] [--list]` */
export async function simulateCommand(argv: string[]): Promise<number> {
  const { flags, positionals } = parseArgs(argv, {
    epochs: { type: 'string' },
    out: { type: 'string' },
    list: { type: 'boolean' },
  })
  if (flags.list) {
    for (const s of Object.values(SIMULATIONS)) console.log(`${s.name}: ${s.description}`)
    return 0
  }
  if (positionals.length !== 1) throw new UsageError('yuma simulate needs one <name|file.json>')
  const sim = load(positionals[0]!)
  const epochs = intFlag(flags, 'epochs', sim.epochs, 1, 10_000)
  const outDir = typeof flags.out === 'string' ? flags.out : 'yuma-sim'
  const result = simulate(sim, epochs)
  mkdirSync(outDir, { recursive: true })
  const csvPath = join(outDir, `${sim.name}.csv`)
  const svgPath = join(outDir, `${sim.name}.svg`)
  writeFileSync(csvPath, toCsv(result))
  writeFileSync(
    svgPath,
    chartSvg(
      `${sim.name}: ${epochs} epochs`,
      sim.validators.map((v, i) => ({
        name: v.name,
        values: result.epochs.map((e) => e.dividends[i]!),
      })),
      sim.miners.map((m, k) => ({
        name: m.name,
        values: result.epochs.map((e) => e.incentive[k]!),
      })),
    ),
  )
  console.log(`${sim.name}: ${sim.description}`)
  for (const line of summarize(result)) console.log(`  ${line}`)
  console.log(`table: ${csvPath}\nchart: ${svgPath}`)
  return 0
}
