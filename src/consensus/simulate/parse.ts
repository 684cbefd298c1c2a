import { ScenarioError } from '../../errors/consensus.ts'
import type { Simulation, Strategy } from './types.ts'

type Obj = Record<string, unknown>
const fail = (field: string, msg: string): never => {
  throw new ScenarioError(field, msg)
}
const obj = (v: unknown, f: string): Obj =>
  typeof v === 'object' && v !== null && !Array.isArray(v)
    ? (v as Obj)
    : fail(f, 'must be an object')
const num = (v: unknown, f: string, min: number, max: number): number =>
  typeof v === 'number' && Number.isFinite(v) && v >= min && v <= max
    ? v
    : fail(f, `must be a number between ${min} and ${max}, got ${JSON.stringify(v)}`)

const KINDS = ['honest', 'copier', 'colluder', 'lazy', 'late']

/**
 * A simulation file (`verity-yuma-simulation/1`): { name, epochs, tempo, params?, validators:
 * [{name, stake, strategy: {kind, delay?}}], miners: [{name, colluding?}], quality: {kind:
 * 'rotate'} | {kind: 'switch', from, to, at}, emissionPerEpoch? (decimal string) }.
 */
export function parseSimulation(json: unknown): Simulation {
  const o = obj(json, 'simulation')
  if (o.format !== 'verity-yuma-simulation/1')
    fail('format', `must be "verity-yuma-simulation/1", got ${JSON.stringify(o.format)}`)
  const validators = Array.isArray(o.validators)
    ? o.validators
    : fail('validators', 'must be an array')
  const miners = Array.isArray(o.miners) ? o.miners : fail('miners', 'must be an array')
  if (validators.length === 0) fail('validators', 'needs at least one validator')
  if (miners.length === 0) fail('miners', 'needs at least one miner')
  const q = obj(o.quality ?? { kind: 'rotate' }, 'quality')
  const params = obj(o.params ?? {}, 'params')
  for (const k of ['yuma3', 'liquidAlpha', 'commitReveal'])
    if (k in params && typeof params[k] !== 'boolean') fail(`params.${k}`, 'must be true or false')
  for (const k of ['kappa', 'bondsPenalty', 'alphaLow', 'alphaHigh'])
    if (k in params) num(params[k], `params.${k}`, 0, 65535)
  const emission = o.emissionPerEpoch ?? '1000000000'
  if (typeof emission !== 'string' || !/^\d+$/.test(emission))
    fail('emissionPerEpoch', 'must be a non-negative decimal string')
  return {
    name: typeof o.name === 'string' ? o.name : 'simulation',
    description: typeof o.description === 'string' ? o.description : '',
    epochs: num(o.epochs ?? 40, 'epochs', 1, 10_000),
    tempo: num(o.tempo ?? 100, 'tempo', 1, 65535),
    params: params as Simulation['params'],
    validators: validators.map((raw, i) => {
      const v = obj(raw, `validators[${i}]`)
      const s = obj(v.strategy, `validators[${i}].strategy`)
      if (!KINDS.includes(s.kind as string))
        fail(`validators[${i}].strategy.kind`, `must be one of ${KINDS.join(', ')}`)
      const strategy = (
        s.kind === 'late'
          ? { kind: 'late', delay: num(s.delay, `validators[${i}].strategy.delay`, 0, 10_000) }
          : { kind: s.kind }
      ) as Strategy
      return {
        name: typeof v.name === 'string' ? v.name : `validator-${i}`,
        stake: num(v.stake, `validators[${i}].stake`, 0, 1e9),
        strategy,
      }
    }),
    miners: miners.map((raw, i) => {
      const m = obj(raw, `miners[${i}]`)
      return {
        name: typeof m.name === 'string' ? m.name : `miner-${i}`,
        colluding: m.colluding === true,
      }
    }),
    quality:
      q.kind === 'switch'
        ? {
            kind: 'switch',
            from: num(q.from, 'quality.from', 0, miners.length - 1),
            to: num(q.to, 'quality.to', 0, miners.length - 1),
            at: num(q.at, 'quality.at', 0, 10_000),
          }
        : { kind: 'rotate' },
    emissionPerEpoch: BigInt(emission as string),
  }
}
