import { ScenarioError } from '../../errors/consensus.ts'
import type { Scenario, ScenarioEvent, ScenarioNeuron, ScenarioParams } from './types.ts'

const U64_MAX = (1n << 64n) - 1n
const STAKE_TOTAL_MAX = (1n << 63n) - 1n
const EXPECT_FIELDS = new Set([
  'block',
  'stakeWeightU16',
  'consensusU16',
  'incentiveU16',
  'dividendsU16',
  'validatorTrustU16',
  'emission',
  'serverEmission',
  'validatorEmission',
  'active',
  'validatorPermit',
  'bondsU16',
  'stakeWeight',
  'consensus',
  'incentive',
  'dividends',
  'validatorTrust',
  'bonds',
])

type Obj = Record<string, unknown>

function fail(field: string, message: string): never {
  throw new ScenarioError(field, message)
}

function obj(v: unknown, field: string): Obj {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) fail(field, 'must be an object')
  return v as Obj
}

function arr(v: unknown, field: string): unknown[] {
  if (!Array.isArray(v)) fail(field, 'must be an array')
  return v
}

function int(v: unknown, field: string, min: number, max: number): number {
  if (typeof v !== 'number' || !Number.isInteger(v))
    fail(field, `must be an integer, got ${show(v)}`)
  if (v < min || v > max) fail(field, `must be between ${min} and ${max}, got ${v}`)
  return v
}

function u16(v: unknown, field: string): number {
  if (typeof v === 'number' && Number.isInteger(v) && v > 65535)
    fail(field, `u16 overflow: ${v} is above 65535`)
  return int(v, field, 0, 65535)
}

function bool(v: unknown, field: string): boolean {
  if (typeof v !== 'boolean') fail(field, `must be true or false, got ${show(v)}`)
  return v
}

function str(v: unknown, field: string): string {
  if (typeof v !== 'string') fail(field, `must be a string, got ${show(v)}`)
  return v
}

/** A raw amount: a decimal string holding a u64. */
function amount(v: unknown, field: string): bigint {
  if (typeof v !== 'string') fail(field, `must be a decimal string, got ${show(v)}`)
  if (/^-\d+$/.test(v.trim())) fail(field, `must not be negative, got ${v}`)
  if (!/^\d+$/.test(v)) fail(field, `must be a decimal integer string, got ${show(v)}`)
  const b = BigInt(v)
  if (b > U64_MAX) fail(field, `does not fit in a u64: ${v}`)
  return b
}

function show(v: unknown): string {
  const s = JSON.stringify(v)
  return s === undefined ? String(v) : s.length > 40 ? `${s.slice(0, 40)}…` : s
}

function parseParams(v: unknown): ScenarioParams {
  const p = obj(v, 'params')
  const f = (k: string) => {
    if (!(k in p)) fail(`params.${k}`, 'is missing')
    return p[k]
  }
  const maxInt = Number.MAX_SAFE_INTEGER
  const ownerRaw = f('ownerUid')
  const n = int(f('n'), 'params.n', 1, 65535)
  return {
    n,
    tempo: int(f('tempo'), 'params.tempo', 0, 65535),
    activityCutoff: int(f('activityCutoff'), 'params.activityCutoff', 0, maxInt),
    kappa: u16(f('kappa'), 'params.kappa'),
    bondsPenalty: u16(f('bondsPenalty'), 'params.bondsPenalty'),
    bondsMovingAverage: int(f('bondsMovingAverage'), 'params.bondsMovingAverage', 0, 1_000_000),
    yuma3: bool(f('yuma3'), 'params.yuma3'),
    liquidAlpha: bool(f('liquidAlpha'), 'params.liquidAlpha'),
    alphaLow: u16(f('alphaLow'), 'params.alphaLow'),
    alphaHigh: u16(f('alphaHigh'), 'params.alphaHigh'),
    alphaSigmoidSteepness: int(
      f('alphaSigmoidSteepness'),
      'params.alphaSigmoidSteepness',
      -32768,
      32767,
    ),
    maxAllowedValidators: u16(f('maxAllowedValidators'), 'params.maxAllowedValidators'),
    stakeThreshold: amount(f('stakeThreshold'), 'params.stakeThreshold'),
    commitReveal: bool(f('commitReveal'), 'params.commitReveal'),
    bondsResetOn: bool(f('bondsResetOn'), 'params.bondsResetOn'),
    ownerUid: ownerRaw === null ? null : int(ownerRaw, 'params.ownerUid', 0, n - 1),
  }
}

function parseNeurons(v: unknown, n: number): ScenarioNeuron[] {
  const list = arr(v, 'neurons')
  if (list.length !== n) fail('neurons', `has ${list.length} entries, params.n is ${n}`)
  let total = 0n
  const out = list.map((raw, i) => {
    const o = obj(raw, `neurons[${i}]`)
    const uid = int(o.uid, `neurons[${i}].uid`, 0, n - 1)
    if (uid !== i)
      fail(`neurons[${i}].uid`, `must be ${i} (one neuron per uid, in order), got ${uid}`)
    const stake = amount(o.stake, `neurons[${i}].stake`)
    total += stake
    const registrationBlock = int(
      o.registrationBlock,
      `neurons[${i}].registrationBlock`,
      0,
      Number.MAX_SAFE_INTEGER,
    )
    return { uid, stake, registrationBlock }
  })
  if (total > STAKE_TOTAL_MAX) fail('neurons', 'total stake does not fit in 63 bits')
  return out
}

function parseWeights(v: unknown, field: string, n: number): Array<[number, number]> {
  const list = arr(v, field)
  const out: Array<[number, number]> = []
  list.forEach((raw, k) => {
    const pair = arr(raw, `${field}[${k}]`)
    if (pair.length !== 2)
      fail(`${field}[${k}]`, `must be a [uid, value] pair, got ${pair.length} items`)
    const j = int(pair[0], `${field}[${k}][0]`, 0, n - 1)
    const w = u16(pair[1], `${field}[${k}][1]`)
    const prev = out[out.length - 1]
    if (prev && prev[0] >= j)
      fail(
        `${field}[${k}][0]`,
        `targets must be ascending without duplicates (uid ${j} after ${prev[0]})`,
      )
    out.push([j, w])
  })
  return out
}

function parseEvents(v: unknown, n: number): ScenarioEvent[] {
  let lastBlock = 0
  return arr(v, 'events').map((raw, i): ScenarioEvent => {
    const f = `events[${i}]`
    const o = obj(raw, f)
    const block = int(o.block, `${f}.block`, 0, Number.MAX_SAFE_INTEGER)
    if (block < lastBlock) fail(`${f}.block`, `goes back from ${lastBlock} to ${block}`)
    lastBlock = block
    const uid = () => int(o.uid, `${f}.uid`, 0, n - 1)
    switch (o.type) {
      case 'epoch':
        return { type: 'epoch', block, emission: amount(o.emission, `${f}.emission`) }
      case 'setWeights':
        return {
          type: 'setWeights',
          block,
          uid: uid(),
          weights: parseWeights(o.weights, `${f}.weights`, n),
        }
      case 'register':
        return { type: 'register', block, uid: uid(), stake: amount(o.stake ?? '0', `${f}.stake`) }
      case 'setStake':
        return { type: 'setStake', block, uid: uid(), stake: amount(o.stake, `${f}.stake`) }
      case 'resetBonds':
        return { type: 'resetBonds', block, uid: uid() }
      default:
        return fail(`${f}.type`, `unknown event type ${show(o.type)}`)
    }
  })
}

function parseTolerance(v: unknown): Record<string, number> {
  const o = obj(v ?? {}, 'tolerance')
  const out: Record<string, number> = {}
  for (const [k, t] of Object.entries(o)) {
    if (!EXPECT_FIELDS.has(k)) fail(`tolerance.${k}`, 'is not a field that can be compared')
    if (typeof t !== 'number' || !Number.isFinite(t) || t < 0)
      fail(`tolerance.${k}`, `must be a non-negative number, got ${show(t)}`)
    out[k] = t
  }
  return out
}

function parseExpect(v: unknown, epochs: number, n: number, tolerance: Record<string, number>) {
  const list = arr(v ?? [], 'expect')
  if (list.length !== epochs)
    fail('expect', `has ${list.length} entries for ${epochs} epoch events`)
  return list.map((raw, k) => {
    const o = obj(raw, `expect[${k}]`)
    for (const [field, value] of Object.entries(o)) {
      const f = `expect[${k}].${field}`
      if (!EXPECT_FIELDS.has(field)) fail(f, 'is not an output field')
      if (field === 'block') continue
      const isFloat =
        !field.endsWith('U16') &&
        !['emission', 'serverEmission', 'validatorEmission', 'active', 'validatorPermit'].includes(
          field,
        )
      if (isFloat && tolerance[field] === undefined)
        fail(f, `is a float field without tolerance.${field}`)
      const items = arr(value, f)
      if (field === 'bonds' || field === 'bondsU16') {
        items.forEach((cell, c) => {
          const t = arr(cell, `${f}[${c}]`)
          if (t.length !== 3) fail(`${f}[${c}]`, 'must be a [row, col, value] cell')
          int(t[0], `${f}[${c}][0]`, 0, n - 1)
          int(t[1], `${f}[${c}][1]`, 0, n - 1)
        })
      } else if (items.length !== n) fail(f, `has length ${items.length}, params.n is ${n}`)
    }
    return o
  })
}

/** Validates a parsed JSON value as a `verity-yuma-scenario/1`; throws ScenarioError naming the field. */
export function parseScenario(json: unknown): Scenario {
  const root = obj(json, 'scenario')
  if (root.format !== 'verity-yuma-scenario/1')
    fail('format', `must be "verity-yuma-scenario/1", got ${show(root.format)}`)
  const params = parseParams(root.params)
  const neurons = parseNeurons(root.neurons, params.n)
  const events = parseEvents(root.events, params.n)
  const tolerance = parseTolerance(root.tolerance)
  const epochs = events.filter((e) => e.type === 'epoch').length
  return {
    name: root.name === undefined ? '' : str(root.name, 'name'),
    description: root.description === undefined ? '' : str(root.description, 'description'),
    params,
    neurons,
    events,
    tolerance,
    expect: parseExpect(root.expect, epochs, params.n, tolerance),
  }
}

/** Parses scenario text; a JSON syntax error is reported as a ScenarioError too. */
export function parseScenarioText(text: string): Scenario {
  let json: unknown
  try {
    json = JSON.parse(text)
  } catch (error) {
    fail('(file)', `is not valid JSON: ${(error as Error).message}`)
  }
  return parseScenario(json)
}
