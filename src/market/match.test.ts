import fc from 'fast-check'
import type { Address } from 'viem'
import { describe, expect, it } from 'vitest'
import type { Resources } from '../chain/market.ts'
import { CapacityError } from '../errors/market.ts'
import {
  type AuditorSignatures,
  addResources,
  fits,
  type MatchOrder,
  type MatchProvider,
  parseResources,
  shouldBid,
  subtractResources,
} from './match.ts'

const A = '0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266' as Address
const B = '0x70997970C51812dc3A010C7d01b50e0d17dc79C8' as Address
const C = '0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC' as Address
const ROOT = `0x${'ab'.repeat(32)}` as const
const GiB = 1024n ** 3n

const need: Resources = { cpuMilli: 2000, gpuUnits: 0, memoryBytes: 8n * GiB, storageBytes: 0n }
const plenty: Resources = {
  cpuMilli: 8000,
  gpuUnits: 1,
  memoryBytes: 64n * GiB,
  storageBytes: 100n * GiB,
}

function order(over: Partial<MatchOrder> = {}): MatchOrder {
  return {
    requirements: { region: 'eu-west', tier: 'gold' },
    signedByAnyOf: [],
    signedByAllOf: [],
    resources: need,
    maxPricePerBlock: 10n ** 15n,
    model: { root: ROOT },
    ...over,
  }
}

function provider(
  audited: Record<string, AuditorSignatures> = {},
  over: Partial<MatchProvider> = {},
): MatchProvider {
  return {
    attributes: { region: 'eu-west', tier: 'gold', host: 'verity' },
    audited: new Map(Object.entries(audited).map(([k, v]) => [k.toLowerCase(), v])),
    free: plenty,
    models: new Set([ROOT]),
    ...over,
  }
}

const both = new Map([
  ['region', 'eu-west'],
  ['tier', 'gold'],
])
const regionOnly = new Map([['region', 'eu-west']])
const tierOnly = new Map([['tier', 'gold']])

describe('shouldBid', () => {
  it('bids when everything holds', () => {
    expect(shouldBid(order(), provider())).toEqual({ ok: true })
    expect(
      shouldBid(
        order({ model: { root: ROOT.toUpperCase().replace('0X', '0x') as `0x${string}` } }),
        provider(),
      ),
    ).toEqual({ ok: true })
  })

  it('names a missing or different attribute', () => {
    const attrs = { region: 'us-east', tier: 'gold' }
    expect(shouldBid(order(), provider({}, { attributes: attrs }))).toEqual({
      ok: false,
      reason: 'attribute region is us-east, order requires eu-west',
    })
    expect(shouldBid(order(), provider({}, { attributes: { region: 'eu-west' } }))).toEqual({
      ok: false,
      reason: 'attribute tier is missing, order requires gold',
    })
    // an inherited property is no attribute
    expect(shouldBid(order({ requirements: { constructor: 'x' } }), provider()).ok).toBe(false)
  })

  it('anyOf: some listed auditor signed every requirement (the contract _signedAll)', () => {
    const anyOf = order({ signedByAnyOf: [A, B] })
    expect(shouldBid(anyOf, provider({ [B]: both })).ok).toBe(true)
    // two auditors who together signed everything are not one who signed everything
    expect(shouldBid(anyOf, provider({ [A]: regionOnly, [B]: tierOnly }))).toEqual({
      ok: false,
      reason: 'no single auditor of anyOf signed every requirement',
    })
    expect(shouldBid(anyOf, provider({ [A]: regionOnly }))).toEqual({
      ok: false,
      reason: 'no auditor of anyOf signed tier',
    })
    expect(shouldBid(anyOf, provider({}))).toEqual({
      ok: false,
      reason: 'no auditor of anyOf signed region, tier',
    })
    // an auditor not listed does not count
    expect(shouldBid(anyOf, provider({ [C]: both })).ok).toBe(false)
    // a signature of another value (since changed) does not count
    const stale = new Map([
      ['region', 'us-east'],
      ['tier', 'gold'],
    ])
    expect(shouldBid(anyOf, provider({ [A]: stale })).ok).toBe(false)
    // with no requirements, anyOf holds trivially (as on chain)
    expect(shouldBid(order({ requirements: {}, signedByAnyOf: [A] }), provider()).ok).toBe(true)
  })

  it('allOf: every listed auditor signed every requirement', () => {
    const allOf = order({ signedByAllOf: [A, B] })
    expect(shouldBid(allOf, provider({ [A]: both, [B]: both })).ok).toBe(true)
    expect(shouldBid(allOf, provider({ [A]: both, [B]: regionOnly }))).toEqual({
      ok: false,
      reason: `auditor ${B} of allOf has not signed tier=gold`,
    })
    expect(shouldBid(allOf, provider({ [A]: both }))).toEqual({
      ok: false,
      reason: `auditor ${B} of allOf has not signed region=eu-west`,
    })
    // allOf and anyOf together: both rules apply
    const mixed = order({ signedByAllOf: [A], signedByAnyOf: [B, C] })
    expect(shouldBid(mixed, provider({ [A]: both, [C]: both })).ok).toBe(true)
    expect(shouldBid(mixed, provider({ [A]: both })).ok).toBe(false)
    expect(shouldBid(mixed, provider({ [B]: both, [C]: both })).ok).toBe(false)
  })

  it("agrees with a transliteration of the contract's _checkPlacement on random cases", () => {
    const auditors = [A, B, C]
    const key = fc.constantFrom('region', 'tier', 'host')
    const value = fc.constantFrom('x', 'y')
    const signatures = fc.dictionary(key, value)
    fc.assert(
      fc.property(
        fc.dictionary(key, value),
        fc.dictionary(key, value),
        fc.tuple(signatures, signatures, signatures),
        fc.subarray(auditors),
        fc.subarray(auditors),
        (requirements, own, signed, anyOf, allOf) => {
          const auditValue = (auditor: Address, k: string) => signed[auditors.indexOf(auditor)]![k]
          // ComputeMarket._checkPlacement, line by line
          const contract = (() => {
            const reqs = Object.entries(requirements)
            for (const [k, v] of reqs) {
              if (own[k] !== v) return false
              for (const a of allOf) if (auditValue(a, k) !== v) return false
            }
            if (anyOf.length === 0) return true
            for (const a of anyOf) if (reqs.every(([k, v]) => auditValue(a, k) === v)) return true
            return false
          })()
          const audited = new Map(
            auditors.map((a, i) => [a.toLowerCase(), new Map(Object.entries(signed[i]!))]),
          )
          const p = provider({}, { attributes: own, audited })
          const o = order({ requirements, signedByAnyOf: anyOf, signedByAllOf: allOf })
          expect(shouldBid(o, p).ok).toBe(contract)
        },
      ),
      { numRuns: 2000 },
    )
  })

  it('reads a set of keys as "signed with the provider\'s own value"', () => {
    const keys = new Set(['region', 'tier'])
    expect(shouldBid(order({ signedByAllOf: [A] }), provider({ [A]: keys })).ok).toBe(true)
    expect(
      shouldBid(order({ signedByAnyOf: [A] }), provider({ [A]: new Set(['region']) })),
    ).toEqual({
      ok: false,
      reason: 'no auditor of anyOf signed tier',
    })
  })

  it("accepts the bid engine's own shapes: Map<Address, Set<key>> and Set<Hex>", () => {
    const audited = new Map<Address, Set<string>>([
      [A.toLowerCase() as Address, new Set(['region', 'tier'])],
    ])
    const models = new Set<`0x${string}`>([ROOT])
    const p: MatchProvider = {
      attributes: { region: 'eu-west', tier: 'gold' },
      audited,
      free: plenty,
      models,
    }
    expect(shouldBid(order({ signedByAnyOf: [A], signedByAllOf: [A] }), p)).toEqual({ ok: true })
  })

  it('names the resource that does not fit', () => {
    const free = (over: Partial<Resources>) => provider({}, { free: { ...plenty, ...over } })
    expect(shouldBid(order(), free({ cpuMilli: 1000 }))).toEqual({
      ok: false,
      reason: 'needs 2000m cpu, 1000m free',
    })
    expect(shouldBid(order(), free({ memoryBytes: 4n * GiB }))).toEqual({
      ok: false,
      reason: 'needs 8Gi memory, 4Gi free',
    })
    const big = order({ resources: { ...need, storageBytes: 10n * GiB, gpuUnits: 2 } })
    expect(shouldBid(big, free({ storageBytes: 512n * 1024n * 1024n }))).toEqual({
      ok: false,
      reason: 'needs 10Gi storage, 512Mi free',
    })
    expect(shouldBid(big, free({}))).toEqual({ ok: false, reason: 'needs 2 gpu, 1 free' })
  })

  it('names a model not served here', () => {
    const other = `0x${'cd'.repeat(32)}` as const
    expect(shouldBid(order({ model: { root: other } }), provider())).toEqual({
      ok: false,
      reason: `model ${other} not served here`,
    })
  })

  it('names the first failing condition: placement, then capacity, then model', () => {
    const everythingWrong = provider(
      {},
      { attributes: {}, free: { ...plenty, cpuMilli: 0 }, models: new Set() },
    )
    expect(shouldBid(order(), everythingWrong)).toEqual({
      ok: false,
      reason: 'attribute region is missing, order requires eu-west',
    })
  })
})

describe('capacity bookkeeping', () => {
  it('adds, subtracts and fits', () => {
    const left = subtractResources(plenty, need)
    expect(left).toEqual({
      cpuMilli: 6000,
      gpuUnits: 1,
      memoryBytes: 56n * GiB,
      storageBytes: 100n * GiB,
    })
    expect(addResources(left, need)).toEqual(plenty)
    expect(fits(need, plenty)).toBe(true)
    expect(fits(plenty, need)).toBe(false)
    expect(() => subtractResources(need, plenty)).toThrow(
      new CapacityError('cannot reserve: needs 8000m cpu, 2000m free'),
    )
  })

  it('parses --capacity', () => {
    expect(parseResources('cpu=4000m,memory=8Gi,storage=20Gi,gpu=0')).toEqual({
      cpuMilli: 4000,
      gpuUnits: 0,
      memoryBytes: 8n * GiB,
      storageBytes: 20n * GiB,
    })
    expect(parseResources(' gpu=2, cpu=16 ,memory=1Ti,storage=0').cpuMilli).toBe(16000)
    const bad = (text: string) => {
      try {
        parseResources(text)
      } catch (error) {
        expect(error).toBeInstanceOf(CapacityError)
        return (error as CapacityError).shortMessage
      }
      throw new Error('nothing thrown')
    }
    const flag = (t: string) => `--capacity ${JSON.stringify(t)}: `
    for (const [text, message] of [
      ['cpu=4,memory=8Gi,storage=1Gi', 'missing gpu='],
      [
        'cpu=4,memory=8Gi,storage=1Gi,gpu=0,disk=1',
        'unknown resource "disk" (expected cpu, memory, storage or gpu)',
      ],
      ['cpu=4,cpu=4,memory=8Gi,storage=1Gi,gpu=0', 'cpu given twice'],
      ['cpu,memory=8Gi,storage=1Gi,gpu=0', 'expected key=value, got "cpu"'],
      [
        'cpu=-1,memory=8Gi,storage=1Gi,gpu=0',
        'cpu: expected 4 or 4000m, got "-1" (not a CPU count)',
      ],
      ['cpu=4,memory=8GB,storage=1Gi,gpu=0', 'memory: expected a size like 8Gi, got "8GB"'],
      ['cpu=4,memory=8Gi,storage=1Gi,gpu=1.5', 'gpu: expected a whole number of GPUs, got "1.5"'],
      ['', 'expected key=value, got ""'],
    ])
      expect(bad(text!)).toBe(flag(text!) + message)
  })
})
