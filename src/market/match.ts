import type { Address, Hex } from 'viem'
import type { Resources } from '../chain/market.ts'
import { CapacityError } from '../errors/market.ts'
import { formatByteSize, parseByteSize, parseCpuUnits } from './units.ts'

/**
 * The bid engine's `shouldBid`: whether this provider can serve an order, checked before it
 * spends gas on a bid (the contract checks the placement again, in `_checkPlacement`), and the
 * capacity bookkeeping around it.
 */

/** What `shouldBid` reads of an order (a `PlannedOrder` or an order read back from chain). */
export type MatchOrder = {
  requirements: Record<string, string>
  signedByAnyOf: readonly Address[]
  signedByAllOf: readonly Address[]
  resources: Resources
  maxPricePerBlock: bigint
  model: { root: Hex }
}

/**
 * What one auditor signed for this provider (current registration): key → value, exactly as the
 * contract stores it; or a set of keys, each meaning "signed with the provider's own value".
 */
export type AuditorSignatures = ReadonlyMap<string, string> | ReadonlySet<string>

/** What `shouldBid` knows of the provider itself. */
export type MatchProvider = {
  /** Its own attributes, as registered. */
  attributes: Record<string, string>
  /** Auditor address (lowercase) → what that auditor signed. */
  audited: ReadonlyMap<string, AuditorSignatures>
  /** What it has not reserved yet. */
  free: Resources
  /** Model roots it serves (lowercase). */
  models: ReadonlySet<string>
}

export type MatchResult = { ok: true } | { ok: false; reason: string }

/**
 * Whether to bid, or the first reason not to: placement in the contract's order (each requirement
 * against the own attributes, then every allOf auditor; then some anyOf auditor signing all),
 * then capacity, then the model.
 */
export function shouldBid(order: MatchOrder, provider: MatchProvider): MatchResult {
  const requirements = Object.entries(order.requirements)
  for (const [key, value] of requirements) {
    const own = Object.hasOwn(provider.attributes, key) ? provider.attributes[key] : undefined
    if (own !== value)
      return no(
        own === undefined
          ? `attribute ${key} is missing, order requires ${value}`
          : `attribute ${key} is ${own}, order requires ${value}`,
      )
    for (const auditor of order.signedByAllOf)
      if (!signed(provider, auditor, key, value))
        return no(`auditor ${auditor} of allOf has not signed ${key}=${value}`)
  }
  if (
    order.signedByAnyOf.length > 0 &&
    !order.signedByAnyOf.some((auditor) =>
      requirements.every(([key, value]) => signed(provider, auditor, key, value)),
    )
  ) {
    const unsigned = requirements
      .filter(([k, v]) => !order.signedByAnyOf.some((a) => signed(provider, a, k, v)))
      .map(([k]) => k)
    return no(
      unsigned.length > 0
        ? `no auditor of anyOf signed ${unsigned.join(', ')}`
        : 'no single auditor of anyOf signed every requirement',
    )
  }
  const short = shortfall(order.resources, provider.free)
  if (short) return no(short)
  if (!provider.models.has(order.model.root.toLowerCase()))
    return no(`model ${order.model.root} not served here`)
  return { ok: true }
}

/** Whether `need` fits in `free`, in every dimension. */
export function fits(need: Resources, free: Resources): boolean {
  return shortfall(need, free) === undefined
}

/** `a` + `b` (a lease ended: its resources are free again). */
export function addResources(a: Resources, b: Resources): Resources {
  return {
    cpuMilli: a.cpuMilli + b.cpuMilli,
    gpuUnits: a.gpuUnits + b.gpuUnits,
    memoryBytes: a.memoryBytes + b.memoryBytes,
    storageBytes: a.storageBytes + b.storageBytes,
  }
}

/** `free` − `used` (a bid reserved them); throws rather than go negative (a double reservation). */
export function subtractResources(free: Resources, used: Resources): Resources {
  const short = shortfall(used, free)
  if (short) throw new CapacityError(`cannot reserve: ${short}`)
  return {
    cpuMilli: free.cpuMilli - used.cpuMilli,
    gpuUnits: free.gpuUnits - used.gpuUnits,
    memoryBytes: free.memoryBytes - used.memoryBytes,
    storageBytes: free.storageBytes - used.storageBytes,
  }
}

/** A provider's `--capacity` flag, `cpu=4000m,memory=8Gi,storage=20Gi,gpu=0` (all four named). */
export function parseResources(text: string): Resources {
  const fail = (message: string) =>
    new CapacityError(`--capacity ${JSON.stringify(text)}: ${message}`, {
      metaMessages: ['Expected cpu=<units or millicpu>,memory=<size>,storage=<size>,gpu=<count>'],
    })
  const seen = new Map<string, string>()
  for (const part of text.split(',')) {
    const [key, value, ...rest] = part.trim().split('=')
    if (!key || value === undefined || rest.length > 0)
      throw fail(`expected key=value, got "${part}"`)
    if (!['cpu', 'memory', 'storage', 'gpu'].includes(key))
      throw fail(`unknown resource "${key}" (expected cpu, memory, storage or gpu)`)
    if (seen.has(key)) throw fail(`${key} given twice`)
    seen.set(key, value.trim())
  }
  for (const key of ['cpu', 'memory', 'storage', 'gpu'])
    if (!seen.has(key)) throw fail(`missing ${key}=`)
  const cpu = seen.get('cpu')!
  const cpuMilli = parseCpuUnits(cpu)
  if (typeof cpuMilli === 'string')
    throw fail(`cpu: expected 4 or 4000m, got "${cpu}" (${cpuMilli})`)
  const size = (key: string) => {
    const text = seen.get(key)!
    const bytes = parseByteSize(text)
    if (typeof bytes === 'string') throw fail(`${key}: expected a size like 8Gi, got "${text}"`)
    return bytes
  }
  const gpu = seen.get('gpu')!
  if (!/^(0|[1-9][0-9]{0,5})$/.test(gpu) || Number(gpu) > 2 ** 32 - 1)
    throw fail(`gpu: expected a whole number of GPUs, got "${gpu}"`)
  return {
    cpuMilli,
    gpuUnits: Number(gpu),
    memoryBytes: size('memory'),
    storageBytes: size('storage'),
  }
}

/** The first dimension in which `need` exceeds `free`, said for people; undefined if it fits. */
function shortfall(need: Resources, free: Resources): string | undefined {
  if (need.cpuMilli > free.cpuMilli)
    return `needs ${need.cpuMilli}m cpu, ${Math.max(free.cpuMilli, 0)}m free`
  if (need.memoryBytes > free.memoryBytes)
    return `needs ${formatByteSize(need.memoryBytes)} memory, ${formatByteSize(free.memoryBytes)} free`
  if (need.storageBytes > free.storageBytes)
    return `needs ${formatByteSize(need.storageBytes)} storage, ${formatByteSize(free.storageBytes)} free`
  if (need.gpuUnits > free.gpuUnits) return `needs ${need.gpuUnits} gpu, ${free.gpuUnits} free`
  return undefined
}

/** Whether `auditor` signed `key` = `value` for this provider (what `auditValue` holds). */
function signed(provider: MatchProvider, auditor: Address, key: string, value: string): boolean {
  const signatures = provider.audited.get(auditor.toLowerCase())
  if (!signatures) return false
  if (signatures instanceof Map) return signatures.get(key) === value
  return signatures.has(key) && provider.attributes[key] === value
}

function no(reason: string): MatchResult {
  return { ok: false, reason }
}
