import { Ajv, type ErrorObject } from 'ajv'
import { type Address, formatUnits, getAddress, type Hex, isAddress, keccak256 } from 'viem'
import { parseDocument } from 'yaml'
import { MARKET_LIMITS, type Resources } from '../chain/market.ts'
import { SpecError } from '../errors/market.ts'
import { deploymentSpecSchema } from './spec-schema.ts'
import { parseByteSize, parseCpuUnits, parseVty } from './units.ts'

/**
 * The market's deployment spec (Akash's SDL in spirit): YAML text → a validated, normalized
 * `DeploymentSpec` → the orders it opens and the canonical bytes whose hash goes on chain.
 */

/** The longest spec accepted, in UTF-8 bytes (a tenant publishes it; a provider parses it). */
export const MAX_SPEC_BYTES = 16384

const VTY_DECIMALS = 18

/** A served model: `root` (lowercase) is its identity, `name` only informs. */
export type ModelRef = { root: Hex; name?: string }

/** Limits the served API enforces for a service. */
export type ServiceParams = { maxTokens?: number }

export type ServiceSpec = { model: ModelRef; params: ServiceParams }

/** One GPU model a profile requires (the spec allows exactly one: requirements are all-of). */
export type GpuSpec = { vendor: string; model: string; ram?: string }

/** A compute profile; `gpu` is set exactly when `resources.gpuUnits` > 0. */
export type ComputeProfile = { resources: Resources; gpu?: GpuSpec }

/** A placement; `pricing[profile].amount` is the most paid per block per instance, in wei. */
export type PlacementSpec = {
  attributes: Record<string, string>
  signedBy: { anyOf: Address[]; allOf: Address[] }
  pricing: Record<string, { denom: 'vty'; amount: bigint }>
}

export type DeploymentEntry = { profile: string; count: number }

/** A validated spec: every record's keys sorted, cross-references checked, units resolved. */
export type DeploymentSpec = {
  version: '1.0'
  services: Record<string, ServiceSpec>
  profiles: {
    compute: Record<string, ComputeProfile>
    placement: Record<string, PlacementSpec>
  }
  /** service → placement → what to run there. */
  deployment: Record<string, Record<string, DeploymentEntry>>
  /** Set when the spec was published with the hash of the tenant's API key. */
  auth?: { apiKeyHash: Hex }
}

/** One order a spec opens: one instance of one service in one placement. */
export type PlannedOrder = {
  service: string
  placement: string
  profile: string
  instance: number
  model: ModelRef
  params: ServiceParams
  resources: Resources
  maxPricePerBlock: bigint
  requirements: Record<string, string>
  signedByAnyOf: Address[]
  signedByAllOf: Address[]
}

type Path = (string | number)[]

const validate = new Ajv({ allErrors: false, verbose: true, allowUnionTypes: true }).compile(
  deploymentSpecSchema,
)

/** Parses and checks a spec; errors name `source`, the field's dotted path and what was expected. */
export function parseDeploymentSpec(
  text: string,
  options: { source?: string } = {},
): DeploymentSpec {
  const source = options.source ?? 'spec'
  const data = readYaml(text, source)
  if (!validate(data)) throw schemaError(source, validate.errors ?? [])
  return normalize(data as RawSpec, source)
}

/** The orders a spec opens, in order of service, placement (both sorted) and instance. */
export function plannedOrders(spec: DeploymentSpec): PlannedOrder[] {
  const orders: PlannedOrder[] = []
  for (const [service, placements] of sortedEntries(spec.deployment)) {
    const { model, params } = spec.services[service]!
    for (const [placement, { profile, count }] of sortedEntries(placements)) {
      const compute = spec.profiles.compute[profile]!
      const place = spec.profiles.placement[placement]!
      for (let instance = 0; instance < count; instance++) {
        orders.push({
          service,
          placement,
          profile,
          instance,
          model: { ...model },
          params: { ...params },
          resources: { ...compute.resources },
          maxPricePerBlock: place.pricing[profile]!.amount,
          requirements: requirementsOf(place, compute),
          signedByAnyOf: [...place.signedBy.anyOf],
          signedByAllOf: [...place.signedBy.allOf],
        })
      }
    }
  }
  return orders
}

/**
 * The spec as canonical JSON bytes (sorted keys, no whitespace, sizes in bytes, cpu in millicpu,
 * amounts as VTY decimals), with `auth.apiKeyHash` when given: what a tenant publishes, what a
 * provider re-parses with `parseDeploymentSpec`, and what `specHash` commits to on chain.
 */
export function canonicalSpecBytes(
  spec: DeploymentSpec,
  extra: { apiKeyHash?: Hex } = {},
): Uint8Array {
  const apiKeyHash = extra.apiKeyHash ?? spec.auth?.apiKeyHash
  if (apiKeyHash !== undefined && !/^0x[0-9a-fA-F]{64}$/.test(apiKeyHash))
    throw new SpecError(`apiKeyHash: expected a 32-byte hash (0x and 64 hex digits)`)
  const json: Record<string, unknown> = {
    version: spec.version,
    services: mapValues(spec.services, (s) => ({
      model: s.model.name === undefined ? { root: s.model.root } : { ...s.model },
      params: { ...s.params },
    })),
    profiles: {
      compute: mapValues(spec.profiles.compute, (p) => ({ resources: rawResources(p) })),
      placement: mapValues(spec.profiles.placement, (p) => ({
        attributes: p.attributes,
        signedBy: { anyOf: p.signedBy.anyOf, allOf: p.signedBy.allOf },
        pricing: mapValues(p.pricing, (price) => ({
          denom: price.denom,
          amount: formatUnits(price.amount, VTY_DECIMALS),
        })),
      })),
    },
    deployment: spec.deployment,
  }
  if (apiKeyHash !== undefined) json.auth = { apiKeyHash: apiKeyHash.toLowerCase() }
  const bytes = new TextEncoder().encode(canonicalJson(json))
  // sizes in bytes can make the canonical form longer than the YAML: a provider must re-parse it
  if (bytes.length > MAX_SPEC_BYTES)
    throw new SpecError(
      `the canonical spec is ${bytes.length} bytes; a spec is at most ${MAX_SPEC_BYTES} bytes`,
    )
  return bytes
}

/** The hash an order commits to: keccak256 of the canonical bytes. */
export function specHash(bytes: Uint8Array): Hex {
  return keccak256(bytes)
}

// ---------------------------------------------------------------- parsing

type RawSize = { size: string }
type RawGpu = {
  units: number
  attributes?: { vendor: Record<string, [{ model: string; ram?: string }]> }
}
type RawSpec = {
  version: '1.0'
  services: Record<string, { model: ModelRef; params?: ServiceParams }>
  profiles: {
    compute: Record<
      string,
      {
        resources: {
          cpu: { units: number | string }
          memory: RawSize
          storage?: RawSize
          gpu?: RawGpu
        }
      }
    >
    placement: Record<
      string,
      {
        attributes?: Record<string, string>
        signedBy?: { anyOf?: string[]; allOf?: string[] }
        pricing?: Record<string, { denom: 'vty'; amount: number | string }>
      }
    >
  }
  deployment: Record<string, Record<string, DeploymentEntry>>
  auth?: { apiKeyHash: string }
}

function readYaml(text: string, source: string): unknown {
  if (typeof text !== 'string') throw new SpecError(`${source}: expected the spec as text`)
  // UTF-8 never has fewer bytes than UTF-16 code units: a long string is refused before encoding
  const bytes = text.length > MAX_SPEC_BYTES ? undefined : new TextEncoder().encode(text).length
  if (bytes === undefined || bytes > MAX_SPEC_BYTES)
    throw new SpecError(
      `${source}: is ${bytes ?? `over ${MAX_SPEC_BYTES}`} bytes; a spec is at most ${MAX_SPEC_BYTES} bytes`,
    )
  const doc = parseDocument(text, {
    // `0x…` stays a string (addresses and hashes), not a YAML 1.2 hex integer
    customTags: (tags) =>
      tags.filter((tag) => typeof tag === 'string' || !('format' in tag && tag.format === 'HEX')),
    prettyErrors: true,
    uniqueKeys: true,
  })
  const problem = doc.errors[0] ?? doc.warnings[0]
  if (problem) {
    const at = problem.linePos?.[0]
    const message = problem.message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, '')
    throw new SpecError(`${source}${at ? `:${at.line}:${at.col}` : ''}: ${message}`)
  }
  try {
    return doc.toJS({ maxAliasCount: 50 })
  } catch (error) {
    throw new SpecError(`${source}: ${(error as Error).message.split('\n')[0]}`, { cause: error })
  }
}

function schemaError(source: string, errors: ErrorObject[]): SpecError {
  const e = errors[0]!
  const path: Path = e.instancePath
    .split('/')
    .slice(1)
    .map((s) => s.replaceAll('~1', '/').replaceAll('~0', '~'))
  const fail = (at: Path, message: string) => new SpecError(`${source}: ${where(at)}: ${message}`)
  const nameError = errors.find((x) => x.keyword === 'propertyNames')
  if (nameError) {
    const name = String(nameError.params.propertyName)
    return fail(
      [...path, name],
      `expected ${describe(e.parentSchema)} as the key, got ${show(name)}`,
    )
  }
  if (e.keyword === 'additionalProperties') {
    const known = Object.keys((e.parentSchema?.properties as object | undefined) ?? {})
    return fail(
      [...path, String(e.params.additionalProperty)],
      `unknown key (expected ${known.length ? `one of ${known.join(', ')}` : 'none'})`,
    )
  }
  if (e.keyword === 'required') {
    const key = String(e.params.missingProperty)
    const wanted = (e.parentSchema?.properties as Record<string, unknown> | undefined)?.[key]
    return fail([...path, key], `missing (expected ${describe(wanted)})`)
  }
  if (e.keyword === 'minProperties' || e.keyword === 'maxProperties') {
    const n = Object.keys(e.data as object).length
    return fail(path, `expected ${describe(e.parentSchema)}, got ${n} entries`)
  }
  if (e.keyword === 'minItems' || e.keyword === 'maxItems') {
    const n = (e.data as unknown[]).length
    return fail(path, `expected ${describe(e.parentSchema)}, got ${n} items`)
  }
  return fail(path, `expected ${describe(e.parentSchema)}, got ${show(e.data)}`)
}

function normalize(raw: RawSpec, source: string): DeploymentSpec {
  const fail = (at: Path, message: string) => new SpecError(`${source}: ${where(at)}: ${message}`)

  const services = mapValues(raw.services, (s) => {
    const model: ModelRef = { root: s.model.root.toLowerCase() as Hex }
    if (s.model.name !== undefined) model.name = s.model.name
    return { model, params: { ...s.params } }
  })

  const compute = mapValues(raw.profiles.compute, (p, name) =>
    computeProfile(p.resources, ['profiles', 'compute', name, 'resources'], fail),
  )

  const placement = mapValues(raw.profiles.placement, (p, name) => {
    const at: Path = ['profiles', 'placement', name]
    const attributes = mapValues(p.attributes ?? {}, (value, key) => {
      checkBytes32(key, [...at, 'attributes', key], 'key', fail)
      checkBytes32(value, [...at, 'attributes', key], 'value', fail)
      return value
    })
    const pricing = mapValues(p.pricing ?? {}, (price, profile) => {
      const priceAt = [...at, 'pricing', profile]
      if (!own(compute, profile))
        throw fail(priceAt, `profile "${profile}" is not defined under profiles.compute`)
      const wei = parseVty(price.amount)
      if (typeof wei === 'string' || wei === 0n)
        throw fail(
          [...priceAt, 'amount'],
          `expected a VTY amount > 0 like "0.001" (at most 18 decimals), got ${show(price.amount)}${typeof wei === 'string' ? ` (${wei})` : ''}`,
        )
      return { denom: 'vty' as const, amount: wei }
    })
    return {
      attributes,
      signedBy: {
        anyOf: auditors(p.signedBy?.anyOf ?? [], [...at, 'signedBy', 'anyOf'], fail),
        allOf: auditors(p.signedBy?.allOf ?? [], [...at, 'signedBy', 'allOf'], fail),
      },
      pricing,
    }
  })

  const used = new Set<string>()
  const deployment = mapValues(raw.deployment, (placements, service) => {
    if (!own(services, service))
      throw fail(['deployment', service], `service "${service}" is not defined under services`)
    used.add(service)
    return mapValues(placements, (entry, name) => {
      const at: Path = ['deployment', service, name]
      const place = own(placement, name)
      if (!place) throw fail(at, `placement "${name}" is not defined under profiles.placement`)
      const profile = own(compute, entry.profile)
      if (!profile)
        throw fail(
          [...at, 'profile'],
          `profile "${entry.profile}" is not defined under profiles.compute`,
        )
      if (!own(place.pricing, entry.profile))
        throw fail(
          ['profiles', 'placement', name, 'pricing', entry.profile],
          `missing (deployment.${service}.${name} uses profile "${entry.profile}" here and needs its maximum price)`,
        )
      checkRequirements(place, profile, name, entry.profile, fail)
      return { profile: entry.profile, count: entry.count }
    })
  })
  for (const service of Object.keys(services))
    if (!used.has(service))
      throw fail(['services', service], 'not deployed (no entry under deployment)')

  const spec: DeploymentSpec = {
    version: '1.0',
    services,
    profiles: { compute, placement },
    deployment,
  }
  if (raw.auth) spec.auth = { apiKeyHash: raw.auth.apiKeyHash.toLowerCase() as Hex }
  return spec
}

type Fail = (at: Path, message: string) => SpecError

function computeProfile(
  r: RawSpec['profiles']['compute'][string]['resources'],
  at: Path,
  fail: Fail,
): ComputeProfile {
  const cpuMilli = parseCpuUnits(r.cpu.units)
  if (typeof cpuMilli === 'string')
    throw fail(
      [...at, 'cpu', 'units'],
      `expected a CPU count > 0 like 0.5 or 2, or millicpu like "500m", got ${show(r.cpu.units)} (${cpuMilli})`,
    )
  const size = (raw: RawSize | undefined, key: string, positive: boolean): bigint => {
    if (raw === undefined) return 0n
    const bytes = parseByteSize(raw.size)
    if (typeof bytes === 'string' || (positive && bytes === 0n))
      throw fail(
        [...at, key, 'size'],
        `expected a size${positive ? ' > 0' : ''} like 512Mi or 2Gi, got ${show(raw.size)}${typeof bytes === 'string' ? ` (${bytes})` : ''}`,
      )
    return bytes
  }
  const resources: Resources = {
    cpuMilli,
    gpuUnits: r.gpu?.units ?? 0,
    memoryBytes: size(r.memory, 'memory', true),
    storageBytes: size(r.storage, 'storage', false),
  }
  const profile: ComputeProfile = { resources }
  const vendors = Object.entries(r.gpu?.attributes?.vendor ?? {})
  if (resources.gpuUnits > 0 && vendors.length === 0)
    throw fail(
      [...at, 'gpu', 'attributes'],
      'missing (gpu units > 0 need attributes.vendor.<vendor>: [{ model }], as in the SDL)',
    )
  if (resources.gpuUnits === 0 && vendors.length > 0)
    throw fail([...at, 'gpu', 'units'], 'expected > 0 when gpu attributes name a vendor, got 0')
  const [vendorEntry] = vendors
  if (vendorEntry) {
    const [vendor, [gpu]] = vendorEntry
    profile.gpu = { vendor, model: gpu.model }
    if (gpu.ram !== undefined) {
      const ram = parseByteSize(gpu.ram)
      if (typeof ram === 'string' || ram === 0n)
        throw fail(
          [...at, 'gpu', 'attributes', 'vendor', vendor, 0, 'ram'],
          `expected a GPU memory size > 0 like 80Gi, got ${show(gpu.ram)}`,
        )
      profile.gpu.ram = gpu.ram
    }
    for (const [key, value] of Object.entries(gpuRequirements(profile.gpu))) {
      const field = key.endsWith('/ram') ? 'ram' : 'model'
      if (utf8Length(key) > 32 || utf8Length(value) > 32)
        throw fail(
          [...at, 'gpu', 'attributes', 'vendor', vendor, 0, field],
          `makes the requirement ${key}=${value} longer than 32 bytes (the contract's bytes32)`,
        )
    }
  }
  return profile
}

/** The requirements a GPU becomes, as the SDL's `vendor/<v>/model/<m>` keys (fit in bytes32). */
function gpuRequirements(gpu: GpuSpec | undefined): Record<string, string> {
  if (!gpu) return {}
  const key = `vendor/${gpu.vendor}/model/${gpu.model}`
  return gpu.ram === undefined ? { [key]: 'true' } : { [key]: 'true', [`${key}/ram`]: gpu.ram }
}

function requirementsOf(place: PlacementSpec, profile: ComputeProfile): Record<string, string> {
  const merged = { ...place.attributes, ...gpuRequirements(profile.gpu) }
  return Object.fromEntries(sortedEntries(merged))
}

function checkRequirements(
  place: PlacementSpec,
  profile: ComputeProfile,
  placementName: string,
  profileName: string,
  fail: Fail,
) {
  const gpu = gpuRequirements(profile.gpu)
  for (const [key, value] of Object.entries(gpu)) {
    const current = own(place.attributes, key)
    if (current !== undefined && current !== value)
      throw fail(
        ['profiles', 'placement', placementName, 'attributes', key],
        `conflicts with the GPU requirement ${key}=${value} of profile "${profileName}"`,
      )
  }
  const total = Object.keys({ ...place.attributes, ...gpu }).length
  if (total > MARKET_LIMITS.maxRequirements)
    throw fail(
      ['profiles', 'placement', placementName, 'attributes'],
      `expected at most ${MARKET_LIMITS.maxRequirements} requirements including those from the GPU of profile "${profileName}", got ${total}`,
    )
}

function checkBytes32(text: string, at: Path, what: 'key' | 'value', fail: Fail) {
  const n = utf8Length(text)
  // a NUL would be indistinguishable from bytes32 padding; a lone surrogate has no UTF-8 form
  if (n < 1 || n > 32 || text.includes('\0') || LONE_SURROGATE.test(text))
    throw fail(
      at,
      `expected the ${what} to be a string of 1..32 bytes without NUL, got ${show(text)} (${n} bytes)`,
    )
}

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/

function auditors(list: string[], at: Path, fail: Fail): Address[] {
  const seen = new Set<string>()
  const out = list.map((address, i) => {
    if (!isAddress(address, { strict: true }))
      throw fail(
        [...at, i],
        `expected an address with a valid checksum (or all lowercase), got ${show(address)}`,
      )
    if (seen.has(address.toLowerCase())) throw fail([...at, i], `duplicate auditor ${address}`)
    seen.add(address.toLowerCase())
    return getAddress(address)
  })
  return out.sort((a, b) => compare(a.toLowerCase(), b.toLowerCase()))
}

function rawResources(p: ComputeProfile) {
  const r = p.resources
  const gpu: Record<string, unknown> = { units: r.gpuUnits }
  if (p.gpu) {
    const model: Record<string, string> = { model: p.gpu.model }
    if (p.gpu.ram !== undefined) model.ram = p.gpu.ram
    gpu.attributes = { vendor: { [p.gpu.vendor]: [model] } }
  }
  return {
    cpu: { units: `${r.cpuMilli}m` },
    memory: { size: `${r.memoryBytes}` },
    storage: { size: `${r.storageBytes}` },
    gpu,
  }
}

// ---------------------------------------------------------------- helpers

/** JSON with sorted keys (by UTF-16 code units), no whitespace, bigints as decimal strings. */
function canonicalJson(value: unknown): string {
  if (typeof value === 'bigint') return JSON.stringify(value.toString())
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`
  if (value !== null && typeof value === 'object') {
    const entries = sortedEntries(value as Record<string, unknown>).filter(
      ([, v]) => v !== undefined,
    )
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`
  }
  return JSON.stringify(value)
}

/** `record[key]` when it is the record's own (a spec may name `constructor` or `toString`). */
function own<T>(record: Record<string, T>, key: string): T | undefined {
  return Object.hasOwn(record, key) ? record[key] : undefined
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0
}

function sortedEntries<T>(record: Record<string, T>): [string, T][] {
  return Object.entries(record).sort(([a], [b]) => compare(a, b))
}

/** A new record with sorted keys and mapped values (own properties only, `__proto__` safe). */
function mapValues<T, U>(record: Record<string, T>, fn: (value: T, key: string) => U) {
  return Object.fromEntries(sortedEntries(record).map(([k, v]) => [k, fn(v, k)])) as Record<
    string,
    U
  >
}

function utf8Length(text: string): number {
  return new TextEncoder().encode(text).length
}

/** A path as people read it: `a.b.0`, with odd keys quoted (`attributes["vendor/x"]`). */
function where(path: Path): string {
  if (path.length === 0) return '(top level)'
  return path
    .map((p, i) =>
      typeof p === 'number' || /^[A-Za-z0-9_-]+$/.test(p)
        ? `${i ? '.' : ''}${p}`
        : `[${JSON.stringify(p)}]`,
    )
    .join('')
}

function describe(schema: unknown): string {
  const d = (schema as { description?: unknown } | undefined)?.description
  return typeof d === 'string' ? d : 'something else'
}

/** A value in an error message, cut short (an attacker's 10 kB string stays out of logs). */
function show(value: unknown): string {
  if (value === undefined || value === null) return 'nothing'
  if (Array.isArray(value)) return 'a list'
  if (typeof value === 'object') return 'a mapping'
  if (typeof value === 'number' && !Number.isFinite(value)) return String(value)
  const text = JSON.stringify(value)
  return text.length > 60 ? `${text.slice(0, 57)}...` : text
}
