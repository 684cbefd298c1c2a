import {
  type Address,
  encodeFunctionData,
  type Hex,
  keccak256,
  parseEther,
  parseEventLogs,
  toFunctionSelector,
  toHex,
  zeroHash,
} from 'viem'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { computeMarketAbi, reentrantTokenAbi, reentrantTokenBytecode } from './abis.ts'
import { acceptBid } from './actions/acceptBid.ts'
import { closeBid } from './actions/closeBid.ts'
import { closeLease } from './actions/closeLease.ts'
import { closeOrder } from './actions/closeOrder.ts'
import { createOrder } from './actions/createOrder.ts'
import { depositEscrow } from './actions/depositEscrow.ts'
import { deregisterProvider } from './actions/deregisterProvider.ts'
import { getAuditedValue } from './actions/getAuditedValue.ts'
import { getBid } from './actions/getBid.ts'
import { getLease } from './actions/getLease.ts'
import { getOpenBids } from './actions/getOpenBids.ts'
import { getOrder } from './actions/getOrder.ts'
import { getPendingSettlement } from './actions/getPendingSettlement.ts'
import { getProvider } from './actions/getProvider.ts'
import { getSpec } from './actions/getSpec.ts'
import { listLeases } from './actions/listLeases.ts'
import { listOrders } from './actions/listOrders.ts'
import { placeBid } from './actions/placeBid.ts'
import { publishSpec } from './actions/publishSpec.ts'
import { registerProvider } from './actions/registerProvider.ts'
import { revokeAttributes } from './actions/revokeAttributes.ts'
import { setProviderAttributes } from './actions/setProviderAttributes.ts'
import { setProviderHostUri } from './actions/setProviderHostUri.ts'
import { signAttributes } from './actions/signAttributes.ts'
import { withdrawLease } from './actions/withdrawLease.ts'
import {
  attribute,
  attributeKey,
  BidState,
  CloseReason,
  deployMarket,
  fromBytes32,
  LeaseState,
  MARKET_LIMITS,
  type OrderSpec,
  OrderState,
} from './market.ts'
import {
  BID_DEPOSIT,
  type MarketChain,
  MIN_ESCROW,
  startMarketChain,
  type Wallet,
} from './market-fixture.ts'

let c: MarketChain
let market: Address
// actors[0] tenant, [1..3] providers, [4] auditor, [5] second auditor, [6] stranger, [7..] more providers
let tenant: Wallet
let p1: Wallet
let p2: Wallet
let p3: Wallet
let auditor: Wallet
let auditor2: Wallet
let stranger: Wallet

const PRICE = parseEther('0.01')
const CEILING = parseEther('0.02')
const WINDOW = 20n

beforeAll(async () => {
  c = await startMarketChain({ actors: 28, tag: 'market-test' })
  market = c.market
  ;[tenant, p1, p2, p3, auditor, auditor2, stranger] = c.actors as [
    Wallet,
    Wallet,
    Wallet,
    Wallet,
    Wallet,
    Wallet,
    Wallet,
  ]
}, 120_000)

afterAll(async () => {
  await c?.stop()
})

beforeEach(async () => {
  await c.reset()
})

const addr = (w: Wallet) => w.account.address

function spec(over: Partial<OrderSpec> = {}): OrderSpec {
  return {
    specHash: keccak256(toHex('sdl: llm on one h100')),
    resources: { cpuMilli: 8000, gpuUnits: 1, memoryBytes: 32n << 30n, storageBytes: 100n << 30n },
    maxPricePerBlock: CEILING,
    bidWindow: WINDOW,
    ...over,
  }
}

const EU = { region: 'eu-west', gpu: 'h100', cpu: '64', memory: '512Gi' }

async function register(p: Wallet, attrs: Record<string, string> = EU) {
  return await registerProvider(p, {
    address: market,
    hostUri: `https://${addr(p)}:8443`,
    attributes: attrs,
  })
}

async function order(over: Partial<OrderSpec> = {}, deposit = parseEther('10')) {
  return (await createOrder(tenant, { address: market, order: spec(over), deposit })).orderId
}

async function bid(p: Wallet, orderId: bigint, price = PRICE) {
  return (await placeBid(p, { address: market, orderId, pricePerBlock: price })).bidId
}

/** Every actor's and the market's VTY balance. */
async function balances(): Promise<Map<Address, bigint>> {
  const out = new Map<Address, bigint>()
  for (const w of c.actors) out.set(addr(w), await c.balanceOf(addr(w)))
  out.set(market, await c.balanceOf(market))
  return out
}

/** Every balance moved by exactly `deltas` since `before` (the others not at all), to the wei. */
async function expectDeltas(before: Map<Address, bigint>, deltas: [Address, bigint][]) {
  const after = await balances()
  const want = new Map<Address, bigint>()
  for (const [a, d] of deltas) want.set(a, (want.get(a) ?? 0n) + d)
  for (const [a, b] of before) expect(after.get(a)! - b, `balance of ${a}`).toBe(want.get(a) ?? 0n)
}

/** A revert changes no balance. */
async function refused(call: () => Promise<unknown>, name: string, args?: readonly unknown[]) {
  const before = await balances()
  await c.reverts(call(), name, args)
  await expectDeltas(before, [])
}

const events = (receipt: { logs: never[] } | { logs: unknown[] }) =>
  parseEventLogs({ abi: computeMarketAbi, logs: receipt.logs as never }).map((l) => l.eventName)

describe('provider registry', () => {
  it('registers, replaces attributes and host URI, deregisters; refuses bad input', async () => {
    const r = await register(p1)
    expect(events(r.receipt)).toEqual(['ProviderRegistered'])
    let p = await getProvider(c.devnet.publicClient, { address: market, provider: addr(p1) })
    expect(p.registered).toBe(true)
    expect(p.generation).toBe(1)
    expect(p.hostUri).toBe(`https://${addr(p1)}:8443`)
    expect(
      Object.fromEntries(p.attributes.map((a) => [fromBytes32(a.key), fromBytes32(a.value)])),
    ).toEqual(EU)

    await refused(() => register(p1), 'ProviderAlreadyRegistered', [addr(p1)])
    await refused(
      () => setProviderAttributes(p2, { address: market, attributes: EU }),
      'ProviderNotRegistered',
      [addr(p2)],
    )
    await refused(
      () => registerProvider(p2, { address: market, hostUri: '', attributes: {} }),
      'HostUriLength',
      [0n, 256n],
    )
    await refused(
      () => registerProvider(p2, { address: market, hostUri: 'x'.repeat(257), attributes: {} }),
      'HostUriLength',
      [257n, 256n],
    )
    await refused(
      () => setProviderAttributes(p1, { address: market, attributes: { region: '' } }),
      'EmptyAttribute',
      [0n],
    )
    const many = Object.fromEntries(Array.from({ length: 33 }, (_, i) => [`k${i}`, 'v']))
    await refused(
      () => setProviderAttributes(p1, { address: market, attributes: many }),
      'TooManyAttributes',
      [33n, 32n],
    )
    const dup = [attribute('region', 'a'), attribute('region', 'b')]
    await refused(
      () =>
        c.owner.writeContract({
          address: market,
          abi: computeMarketAbi,
          functionName: 'registerProvider',
          args: ['h', dup],
        }),
      'DuplicateAttribute',
      [dup[0]!.key],
    )

    const set = await setProviderAttributes(p1, {
      address: market,
      attributes: { region: 'us-east' },
    })
    expect(events(set.receipt)).toEqual(['ProviderAttributesSet'])
    const uri = await setProviderHostUri(p1, {
      address: market,
      hostUri: 'https://p1.example:8443',
    })
    expect(events(uri.receipt)).toEqual(['ProviderHostUriSet'])
    p = await getProvider(c.devnet.publicClient, { address: market, provider: addr(p1) })
    expect(p.attributes.map((a) => fromBytes32(a.value))).toEqual(['us-east'])
    expect(p.hostUri).toBe('https://p1.example:8443')
    // the old key is gone: an order requiring it finds nothing
    const orderId = await order({ requirements: { gpu: 'h100' } })
    await refused(() => bid(p1, orderId), 'AttributeMismatch', [
      attribute('gpu', 'h100').key,
      attribute('gpu', 'h100').value,
      zeroHash,
    ])

    const d = await deregisterProvider(p1, { address: market })
    expect(events(d.receipt)).toEqual(['ProviderDeregistered'])
    p = await getProvider(c.devnet.publicClient, { address: market, provider: addr(p1) })
    expect([p.registered, p.hostUri, p.attributes.length]).toEqual([false, '', 0])
    await refused(() => deregisterProvider(p1, { address: market }), 'ProviderNotRegistered', [
      addr(p1),
    ])
    await refused(() => bid(p1, orderId), 'ProviderNotRegistered', [addr(p1)])
  })

  it('auditors sign and revoke; a re-registration starts with no audits', async () => {
    await refused(
      () => signAttributes(auditor, { address: market, provider: addr(p1), attributes: EU }),
      'ProviderNotRegistered',
      [addr(p1)],
    )
    await register(p1)
    const s = await signAttributes(auditor, {
      address: market,
      provider: addr(p1),
      attributes: { region: 'eu-west' },
    })
    expect(events(s.receipt)).toEqual(['AttributesSigned'])
    const audited = () =>
      getAuditedValue(c.devnet.publicClient, {
        address: market,
        provider: addr(p1),
        auditor: addr(auditor),
        key: 'region',
      })
    expect(fromBytes32(await audited())).toBe('eu-west')
    const r = await revokeAttributes(auditor, {
      address: market,
      provider: addr(p1),
      keys: ['region'],
    })
    expect(events(r.receipt)).toEqual(['AttributesRevoked'])
    expect(await audited()).toBe(zeroHash)

    await signAttributes(auditor, {
      address: market,
      provider: addr(p1),
      attributes: { region: 'eu-west' },
    })
    await deregisterProvider(p1, { address: market })
    await register(p1)
    expect(
      (await getProvider(c.devnet.publicClient, { address: market, provider: addr(p1) }))
        .generation,
    ).toBe(2)
    expect(await audited()).toBe(zeroHash)
  })

  it('a provider with an open bid or lease cannot leave', async () => {
    await register(p1)
    const orderId = await order()
    const bidId = await bid(p1, orderId)
    await refused(() => deregisterProvider(p1, { address: market }), 'ProviderBusy', [
      addr(p1),
      1n,
      0n,
    ])
    await acceptBid(tenant, { address: market, bidId })
    await refused(() => deregisterProvider(p1, { address: market }), 'ProviderBusy', [
      addr(p1),
      0n,
      1n,
    ])
    await closeLease(tenant, { address: market, leaseId: bidId, reason: CloseReason.TENANT })
    await deregisterProvider(p1, { address: market })
  })
})

describe('orders', () => {
  it('opens with an escrow taken from the tenant; refuses bad parameters', async () => {
    const before = await balances()
    const { orderId, receipt } = await createOrder(tenant, {
      address: market,
      order: spec({ requirements: { region: 'eu-west' }, signedByAnyOf: [addr(auditor)] }),
      deposit: parseEther('10'),
    })
    expect(events(receipt)).toEqual(['OrderCreated'])
    await expectDeltas(before, [
      [addr(tenant), -parseEther('10')],
      [market, parseEther('10')],
    ])
    const o = await getOrder(c.devnet.publicClient, { address: market, orderId })
    expect(o.state).toBe(OrderState.OPEN)
    expect(o.tenant).toBe(addr(tenant))
    expect(o.escrow).toBe(parseEther('10'))
    expect(o.bidDeadline).toBe(receipt.blockNumber + WINDOW)
    expect(o.requirements).toEqual([attribute('region', 'eu-west')])
    expect(o.signedByAnyOf).toEqual([addr(auditor)])
    expect(o.resources.memoryBytes).toBe(32n << 30n)

    const create =
      (over: Partial<OrderSpec>, deposit = parseEther('10')) =>
      () =>
        createOrder(tenant, { address: market, order: spec(over), deposit })
    await refused(create({ maxPricePerBlock: 0n }), 'ZeroPrice')
    await refused(create({ bidWindow: 0n }), 'BidWindowOutOfRange', [
      0n,
      MARKET_LIMITS.maxBidWindow,
    ])
    await refused(create({ bidWindow: 100_001n }), 'BidWindowOutOfRange', [
      100_001n,
      MARKET_LIMITS.maxBidWindow,
    ])
    await refused(create({}, MIN_ESCROW - 1n), 'EscrowBelowMinimum', [MIN_ESCROW - 1n, MIN_ESCROW])
    const reqs = Object.fromEntries(Array.from({ length: 17 }, (_, i) => [`k${i}`, 'v']))
    await refused(create({ requirements: reqs }), 'TooManyRequirements', [17n, 16n])
    const nine = c.actors.slice(0, 9).map(addr)
    await refused(create({ signedByAllOf: nine }), 'TooManyAuditors', [9n, 8n])
    await refused(create({ signedByAnyOf: nine }), 'TooManyAuditors', [9n, 8n])
    await refused(create({ requirements: { region: '' } }), 'EmptyAttribute', [0n])
    await refused(() => closeOrder(tenant, { address: market, orderId: 99n }), 'UnknownOrder', [
      99n,
    ])
  })

  it('publishes the spec whose keccak256 is the specHash; refuses others, strangers, closed orders', async () => {
    const text = new TextEncoder().encode('{"version":"1.0","services":{}}')
    const orderId = await order({ specHash: keccak256(text) })
    const pc = c.devnet.publicClient
    expect(await getSpec(pc, { address: market, orderId })).toBeUndefined()
    const wrong = new TextEncoder().encode('{"version":"1.0","services":{"x":1}}')
    await refused(
      () => publishSpec(tenant, { address: market, orderId, spec: wrong }),
      'SpecHashMismatch',
      [keccak256(text), keccak256(wrong)],
    )
    await refused(
      () => publishSpec(stranger, { address: market, orderId, spec: text }),
      'NotTenant',
      [addr(stranger), addr(tenant)],
    )
    const long = new Uint8Array(16_385)
    await refused(
      () => publishSpec(tenant, { address: market, orderId, spec: long }),
      'SpecTooLong',
      [16_385n, 16_384n],
    )
    const { receipt } = await publishSpec(tenant, { address: market, orderId, spec: text })
    expect(events(receipt)).toEqual(['SpecPublished'])
    expect(await getSpec(pc, { address: market, orderId })).toEqual(text)
    // another order's spec is not this one's
    const other = await order({ specHash: keccak256(wrong) })
    expect(await getSpec(pc, { address: market, orderId: other })).toBeUndefined()
    await closeOrder(tenant, { address: market, orderId })
    await refused(
      () => publishSpec(tenant, { address: market, orderId, spec: text }),
      'OrderNotOpen',
      [orderId, OrderState.CLOSED],
    )
    await refused(
      () => publishSpec(tenant, { address: market, orderId: 99n, spec: text }),
      'UnknownOrder',
      [99n],
    )
  })

  it('the tenant closes an order at any time, anyone after the window; bids and escrow return', async () => {
    await register(p1)
    await register(p2)
    const orderId = await order()
    const b1 = await bid(p1, orderId)
    const b2 = await bid(p2, orderId)
    await refused(() => closeOrder(stranger, { address: market, orderId }), 'NotTenant', [
      addr(stranger),
      addr(tenant),
    ])
    const before = await balances()
    const r = await closeOrder(tenant, { address: market, orderId })
    expect(events(r.receipt)).toEqual(['BidClosed', 'BidClosed', 'OrderClosed'])
    await expectDeltas(before, [
      [addr(tenant), parseEther('10')],
      [addr(p1), BID_DEPOSIT],
      [addr(p2), BID_DEPOSIT],
      [market, -parseEther('10') - 2n * BID_DEPOSIT],
    ])
    expect((await getBid(c.devnet.publicClient, { address: market, bidId: b1 })).state).toBe(
      BidState.CLOSED,
    )
    expect((await getBid(c.devnet.publicClient, { address: market, bidId: b2 })).state).toBe(
      BidState.CLOSED,
    )
    expect(
      (await getProvider(c.devnet.publicClient, { address: market, provider: addr(p1) })).openBids,
    ).toBe(0)
    // close twice, bid or deposit on a closed order
    await refused(() => closeOrder(tenant, { address: market, orderId }), 'OrderNotOpen', [
      orderId,
      OrderState.CLOSED,
    ])
    await refused(() => bid(p3, orderId), 'ProviderNotRegistered', [addr(p3)])
    await refused(() => bid(p1, orderId), 'OrderNotOpen', [orderId, OrderState.CLOSED])
    await refused(
      () => depositEscrow(tenant, { address: market, orderId, amount: 1n }),
      'EscrowClosed',
      [orderId],
    )

    // after the window anyone may close an order nobody leased
    const late = await order()
    await bid(p1, late)
    await c.mine(WINDOW)
    const before2 = await balances()
    await closeOrder(stranger, { address: market, orderId: late })
    await expectDeltas(before2, [
      [addr(tenant), parseEther('10')],
      [addr(p1), BID_DEPOSIT],
      [market, -parseEther('10') - BID_DEPOSIT],
    ])
  })
})

describe('bids', () => {
  it('locks a deposit; refuses the unregistered, above the ceiling, a replay, after the window', async () => {
    await register(p1)
    const orderId = await order()
    await refused(() => bid(p2, orderId), 'ProviderNotRegistered', [addr(p2)])
    await register(p2)
    await refused(() => bid(p2, orderId, CEILING + 1n), 'PriceAboveCeiling', [
      CEILING + 1n,
      CEILING,
    ])
    await refused(() => bid(p2, orderId, 0n), 'ZeroPrice')
    await refused(() => bid(p2, 77n), 'UnknownOrder', [77n])
    const before = await balances()
    const { bidId, receipt } = await placeBid(p1, {
      address: market,
      orderId,
      pricePerBlock: CEILING,
    })
    expect(events(receipt)).toEqual(['BidPlaced'])
    await expectDeltas(before, [
      [addr(p1), -BID_DEPOSIT],
      [market, BID_DEPOSIT],
    ])
    const b = await getBid(c.devnet.publicClient, { address: market, bidId })
    expect([b.state, b.provider, b.orderId, b.pricePerBlock, b.deposit]).toEqual([
      BidState.OPEN,
      addr(p1),
      orderId,
      CEILING,
      BID_DEPOSIT,
    ])
    // the same bid sent again
    await refused(() => bid(p1, orderId, CEILING), 'AlreadyBid', [orderId, addr(p1), bidId])
    const o = await getOrder(c.devnet.publicClient, { address: market, orderId })
    await c.mine(o.bidDeadline - (await c.blockNumber()))
    // the deadline block itself is in the window (this bid is mined at deadline + 1)
    await refused(() => bid(p2, orderId), 'BidWindowClosed', [orderId, o.bidDeadline])
  })

  it('at most 20 open bids per order; a closed bid frees its place', async () => {
    const providers = c.actors.slice(7, 28)
    expect(providers.length).toBe(21)
    for (const p of providers) await register(p)
    const orderId = await order({ bidWindow: 200n })
    const ids: bigint[] = []
    for (const p of providers.slice(0, 20)) ids.push(await bid(p, orderId))
    expect((await getOpenBids(c.devnet.publicClient, { address: market, orderId })).length).toBe(20)
    await refused(() => bid(providers[20]!, orderId), 'TooManyBids', [orderId, 20n])
    // the provider withdraws one (any time) and the 21st gets its place
    const before = await balances()
    const r = await closeBid(providers[3]!, { address: market, bidId: ids[3]! })
    expect(events(r.receipt)).toEqual(['BidClosed'])
    await expectDeltas(before, [
      [addr(providers[3]!), BID_DEPOSIT],
      [market, -BID_DEPOSIT],
    ])
    await bid(providers[20]!, orderId)
    const open = await getOpenBids(c.devnet.publicClient, { address: market, orderId })
    expect(open.length).toBe(20)
    expect(open).not.toContain(ids[3])
  })

  it('others close a bid only after the window; twice is refused', async () => {
    await register(p1)
    const orderId = await order()
    const bidId = await bid(p1, orderId)
    const o = await getOrder(c.devnet.publicClient, { address: market, orderId })
    await refused(() => closeBid(stranger, { address: market, bidId }), 'BidWindowStillOpen', [
      orderId,
      o.bidDeadline,
    ])
    await refused(() => closeBid(tenant, { address: market, bidId }), 'BidWindowStillOpen', [
      orderId,
      o.bidDeadline,
    ])
    await c.mine(WINDOW)
    const before = await balances()
    await closeBid(stranger, { address: market, bidId })
    await expectDeltas(before, [
      [addr(p1), BID_DEPOSIT],
      [market, -BID_DEPOSIT],
    ])
    await refused(() => closeBid(p1, { address: market, bidId }), 'BidNotOpen', [
      bidId,
      BidState.CLOSED,
    ])
    await refused(() => closeBid(p1, { address: market, bidId: 999n }), 'UnknownBid', [999n])
    // the escrow is still the tenant's: anyone closes the expired order
    await closeOrder(stranger, { address: market, orderId })
  })
})

describe('placement: attributes and auditors checked on chain', () => {
  const REQ = { region: 'eu-west', gpu: 'h100' }
  const key = attributeKey
  const val = (k: string, v: string) => attribute(k, v).value

  it('own attributes must equal every requirement', async () => {
    await register(p1, { region: 'us-east', gpu: 'h100' })
    await register(p2, { region: 'eu-west' })
    const orderId = await order({ requirements: REQ })
    await refused(() => bid(p1, orderId), 'AttributeMismatch', [
      key('region'),
      val('region', 'eu-west'),
      val('region', 'us-east'),
    ])
    await refused(() => bid(p2, orderId), 'AttributeMismatch', [
      key('gpu'),
      val('gpu', 'h100'),
      zeroHash,
    ])
    await setProviderAttributes(p1, { address: market, attributes: { ...EU } })
    await bid(p1, orderId)
  })

  it('signedByAllOf: every named auditor must have signed every requirement', async () => {
    await register(p1)
    const orderId = await order({
      requirements: REQ,
      signedByAllOf: [addr(auditor), addr(auditor2)],
    })
    await refused(() => bid(p1, orderId), 'MissingAuditorSignature', [addr(auditor), key('region')])
    // forged: the provider vouches for itself, a stranger vouches for it: neither is named
    await signAttributes(p1, { address: market, provider: addr(p1), attributes: REQ })
    await signAttributes(stranger, { address: market, provider: addr(p1), attributes: REQ })
    await refused(() => bid(p1, orderId), 'MissingAuditorSignature', [addr(auditor), key('region')])
    await signAttributes(auditor, { address: market, provider: addr(p1), attributes: REQ })
    await refused(() => bid(p1, orderId), 'MissingAuditorSignature', [
      addr(auditor2),
      key('region'),
    ])
    // a signature of another value does not count
    await signAttributes(auditor2, {
      address: market,
      provider: addr(p1),
      attributes: { region: 'eu-west', gpu: 'a100' },
    })
    await refused(() => bid(p1, orderId), 'MissingAuditorSignature', [addr(auditor2), key('gpu')])
    await signAttributes(auditor2, {
      address: market,
      provider: addr(p1),
      attributes: { gpu: 'h100' },
    })
    await bid(p1, orderId)
  })

  it('signedByAnyOf: one named auditor must have signed them all; revoked or stale audits do not count', async () => {
    await register(p1)
    const orderId = await order({
      requirements: REQ,
      signedByAnyOf: [addr(auditor), addr(auditor2)],
    })
    await refused(() => bid(p1, orderId), 'NoListedAuditorSigned')
    // each auditor signed half: no single one signed all
    await signAttributes(auditor, {
      address: market,
      provider: addr(p1),
      attributes: { region: 'eu-west' },
    })
    await signAttributes(auditor2, {
      address: market,
      provider: addr(p1),
      attributes: { gpu: 'h100' },
    })
    await refused(() => bid(p1, orderId), 'NoListedAuditorSigned')
    await signAttributes(auditor, {
      address: market,
      provider: addr(p1),
      attributes: { gpu: 'h100' },
    })
    // revoked
    await revokeAttributes(auditor, { address: market, provider: addr(p1), keys: ['gpu'] })
    await refused(() => bid(p1, orderId), 'NoListedAuditorSigned')
    await signAttributes(auditor, {
      address: market,
      provider: addr(p1),
      attributes: { gpu: 'h100' },
    })
    // stale: a re-registration drops every audit of the old one
    await deregisterProvider(p1, { address: market })
    await register(p1)
    await refused(() => bid(p1, orderId), 'NoListedAuditorSigned')
    await signAttributes(auditor, { address: market, provider: addr(p1), attributes: REQ })
    await bid(p1, orderId)
  })
})

describe('leases: acceptance, settlement, withdrawal, close', () => {
  it('a whole lifecycle, every balance to the wei', async () => {
    await register(p1)
    await register(p2)
    const start = await balances()
    const orderId = await order()
    const b1 = await bid(p1, orderId)
    const b2 = await bid(p2, orderId, PRICE / 2n)

    // the tenant picks p1 (not the cheapest: the chain leaves the choice to the tenant)
    await refused(() => acceptBid(stranger, { address: market, bidId: b1 }), 'NotTenant', [
      addr(stranger),
      addr(tenant),
    ])
    const beforeAccept = await balances()
    const acc = await acceptBid(tenant, { address: market, bidId: b1 })
    expect(acc.leaseId).toBe(b1)
    expect(events(acc.receipt)).toEqual(['BidClosed', 'LeaseCreated'])
    await expectDeltas(beforeAccept, [
      [addr(p2), BID_DEPOSIT],
      [market, -BID_DEPOSIT],
    ])
    expect((await getBid(c.devnet.publicClient, { address: market, bidId: b2 })).state).toBe(
      BidState.LOST,
    )
    expect((await getBid(c.devnet.publicClient, { address: market, bidId: b1 })).state).toBe(
      BidState.ACTIVE,
    )
    expect((await getOrder(c.devnet.publicClient, { address: market, orderId })).state).toBe(
      OrderState.ACTIVE,
    )
    const p = await getProvider(c.devnet.publicClient, { address: market, provider: addr(p1) })
    expect([p.openBids, p.openLeases]).toEqual([0, 1])
    // double accept: the same bid or another
    await refused(() => acceptBid(tenant, { address: market, bidId: b1 }), 'OrderNotOpen', [
      orderId,
      OrderState.ACTIVE,
    ])
    await refused(() => acceptBid(tenant, { address: market, bidId: b2 }), 'OrderNotOpen', [
      orderId,
      OrderState.ACTIVE,
    ])
    const leaseId = b1
    const start1 = acc.receipt.blockNumber

    // 10 blocks later the tenant tops up: the deposit settles first
    await c.mine(9)
    const [pending] = await getPendingSettlement(c.devnet.publicClient, {
      address: market,
      leaseId,
    })
    expect(pending).toBe(9n * PRICE)
    const beforeTop = await balances()
    const top = await depositEscrow(tenant, { address: market, orderId, amount: parseEther('2') })
    expect(events(top.receipt)).toEqual(['LeaseSettled', 'EscrowDeposited'])
    await expectDeltas(beforeTop, [
      [addr(tenant), -parseEther('2')],
      [market, parseEther('2')],
    ])
    const settled1 = (top.receipt.blockNumber - start1) * PRICE
    let l = await getLease(c.devnet.publicClient, { address: market, leaseId })
    expect([l.earned, l.paid, l.settledBlock]).toEqual([
      settled1,
      settled1,
      top.receipt.blockNumber,
    ])
    expect((await getOrder(c.devnet.publicClient, { address: market, orderId })).escrow).toBe(
      parseEther('12') - settled1,
    )

    // the provider withdraws; more than earned is refused, and so is a caller who is not it
    await c.mine(5)
    await refused(
      () => withdrawLease(stranger, { address: market, leaseId, amount: 1n }),
      'NotProvider',
      [addr(stranger), addr(p1)],
    )
    await refused(() => withdrawLease(p1, { address: market, leaseId, amount: 0n }), 'ZeroAmount')
    // estimation runs on the next block: earned then = settled1 + 6 blocks
    const earnedNext = settled1 + 6n * PRICE
    await refused(
      () => withdrawLease(p1, { address: market, leaseId, amount: earnedNext + 1n }),
      'WithdrawExceedsEarned',
      [earnedNext + 1n, earnedNext],
    )
    const beforeW = await balances()
    const w = await withdrawLease(p1, { address: market, leaseId, amount: settled1 })
    expect(events(w.receipt)).toEqual(['LeaseSettled', 'LeaseWithdrawn'])
    await expectDeltas(beforeW, [
      [addr(p1), settled1],
      [market, -settled1],
    ])
    const settled2 = (w.receipt.blockNumber - top.receipt.blockNumber) * PRICE
    l = await getLease(c.devnet.publicClient, { address: market, leaseId })
    expect([l.earned, l.paid]).toEqual([settled2, settled1 + settled2])

    // reasons: only the tenant's for the tenant, the provider's for the provider, funds for anyone
    await refused(
      () => closeLease(stranger, { address: market, leaseId, reason: CloseReason.TENANT }),
      'CloseReasonNotAllowed',
      [CloseReason.TENANT, addr(stranger)],
    )
    await refused(
      () => closeLease(p1, { address: market, leaseId, reason: CloseReason.PROVIDER_GONE }),
      'CloseReasonNotAllowed',
      [CloseReason.PROVIDER_GONE, addr(p1)],
    )
    await refused(
      () => closeLease(tenant, { address: market, leaseId, reason: CloseReason.PROVIDER }),
      'CloseReasonNotAllowed',
      [CloseReason.PROVIDER, addr(tenant)],
    )
    await refused(
      () => closeLease(tenant, { address: market, leaseId, reason: CloseReason.NONE }),
      'CloseReasonNotAllowed',
      [CloseReason.NONE, addr(tenant)],
    )
    await refused(
      () =>
        closeLease(stranger, { address: market, leaseId, reason: CloseReason.INSUFFICIENT_FUNDS }),
      'EscrowNotDepleted',
      [leaseId],
    )

    await c.mine(3)
    const beforeClose = await balances()
    const cl = await closeLease(tenant, {
      address: market,
      leaseId,
      reason: CloseReason.PROVIDER_GONE,
    })
    expect(events(cl.receipt)).toEqual(['LeaseSettled', 'BidClosed', 'LeaseClosed', 'OrderClosed'])
    const settled3 = (cl.receipt.blockNumber - w.receipt.blockNumber) * PRICE
    const paidTotal = settled1 + settled2 + settled3
    const refund = parseEther('12') - paidTotal
    await expectDeltas(beforeClose, [
      [addr(p1), settled2 + settled3 + BID_DEPOSIT],
      [addr(tenant), refund],
      [market, -(settled2 + settled3 + BID_DEPOSIT + refund)],
    ])
    l = await getLease(c.devnet.publicClient, { address: market, leaseId })
    expect([l.state, l.reason, l.earned, l.paid, l.closedBlock]).toEqual([
      LeaseState.CLOSED,
      CloseReason.PROVIDER_GONE,
      0n,
      paidTotal,
      cl.receipt.blockNumber,
    ])
    // conservation over the whole life: the tenant paid exactly what the provider earned
    await expectDeltas(start, [
      [addr(tenant), -paidTotal],
      [addr(p1), paidTotal],
    ])
    expect(await c.balanceOf(market)).toBe(0n)
    expect(paidTotal).toBe((cl.receipt.blockNumber - start1) * PRICE)

    // close twice, withdraw or deposit after the close
    await refused(
      () => closeLease(tenant, { address: market, leaseId, reason: CloseReason.TENANT }),
      'LeaseNotActive',
      [leaseId],
    )
    await refused(
      () => withdrawLease(p1, { address: market, leaseId, amount: 1n }),
      'LeaseNotActive',
      [leaseId],
    )
    await refused(
      () => depositEscrow(tenant, { address: market, orderId, amount: 1n }),
      'EscrowClosed',
      [orderId],
    )
    await refused(
      () => closeLease(tenant, { address: market, leaseId: 123n, reason: CloseReason.TENANT }),
      'UnknownLease',
      [123n],
    )
    const p1After = await getProvider(c.devnet.publicClient, {
      address: market,
      provider: addr(p1),
    })
    expect(p1After.openLeases).toBe(0)
    const leases = await listLeases(c.devnet.publicClient, { address: market, provider: addr(p1) })
    expect(leases).toHaveLength(1)
    expect(leases[0]!.withdrawn).toBe(settled1)
    expect(leases[0]!.closed?.reason).toBe(CloseReason.PROVIDER_GONE)
    expect(leases[0]!.closed?.tenantRefund).toBe(refund)
  })

  it('accepting after the window is refused; the provider closes its own lease', async () => {
    await register(p1)
    const orderId = await order()
    const bidId = await bid(p1, orderId)
    const o = await getOrder(c.devnet.publicClient, { address: market, orderId })
    await c.mine(o.bidDeadline - (await c.blockNumber()))
    await refused(() => acceptBid(tenant, { address: market, bidId }), 'BidWindowClosed', [
      orderId,
      o.bidDeadline,
    ])

    const second = await order()
    const b = await bid(p1, second)
    const acc = await acceptBid(tenant, { address: market, bidId: b })
    await c.mine(4)
    const before = await balances()
    const cl = await closeLease(p1, { address: market, leaseId: b, reason: CloseReason.PROVIDER })
    const earned = (cl.receipt.blockNumber - acc.receipt.blockNumber) * PRICE
    await expectDeltas(before, [
      [addr(p1), earned + BID_DEPOSIT],
      [addr(tenant), parseEther('10') - earned],
      [market, -(parseEther('10') + BID_DEPOSIT)],
    ])
    expect((await getLease(c.devnet.publicClient, { address: market, leaseId: b })).reason).toBe(
      CloseReason.PROVIDER,
    )
  })

  it('an escrow that runs dry pays exactly its balance; anyone closes; top-ups are refused', async () => {
    await register(p1)
    const price = parseEther('0.1')
    const orderId = await order({ maxPricePerBlock: price }, parseEther('1'))
    const leaseId = await bid(p1, orderId, price)
    await acceptBid(tenant, { address: market, bidId: leaseId })
    await c.mine(9)
    // 9 blocks: 0.9 VTY due, 1 VTY held
    expect(await getPendingSettlement(c.devnet.publicClient, { address: market, leaseId })).toEqual(
      [parseEther('0.9'), false],
    )
    await c.mine(5)
    expect(await getPendingSettlement(c.devnet.publicClient, { address: market, leaseId })).toEqual(
      [parseEther('1'), true],
    )
    await refused(
      () => depositEscrow(tenant, { address: market, orderId, amount: parseEther('5') }),
      'EscrowDepleted',
      [leaseId],
    )
    const before = await balances()
    const cl = await closeLease(stranger, {
      address: market,
      leaseId,
      reason: CloseReason.INSUFFICIENT_FUNDS,
    })
    expect(events(cl.receipt)).toEqual(['LeaseSettled', 'BidClosed', 'LeaseClosed', 'OrderClosed'])
    // the provider got the whole escrow and no more; the tenant nothing back
    await expectDeltas(before, [
      [addr(p1), parseEther('1') + BID_DEPOSIT],
      [market, -(parseEther('1') + BID_DEPOSIT)],
    ])
    const l = await getLease(c.devnet.publicClient, { address: market, leaseId })
    expect([l.reason, l.paid]).toEqual([CloseReason.INSUFFICIENT_FUNDS, parseEther('1')])
    // what a provider's lease watcher sees: the lease closed by a stranger, for lack of funds
    const [seen] = await listLeases(c.devnet.publicClient, { address: market, provider: addr(p1) })
    expect(seen!.closed).toEqual({
      reason: CloseReason.INSUFFICIENT_FUNDS,
      closedBy: addr(stranger),
      providerPaid: parseEther('1') + BID_DEPOSIT,
      tenantRefund: 0n,
      block: cl.receipt.blockNumber,
    })
    expect(await listLeases(c.devnet.publicClient, { address: market, activeOnly: true })).toEqual(
      [],
    )
  })

  it('a depleted lease is recorded as out of funds whoever closes it; a withdrawal closes it too', async () => {
    await register(p1)
    const price = parseEther('0.5')
    const o1 = await order({ maxPricePerBlock: price }, parseEther('1'))
    const l1 = await bid(p1, o1, price)
    await acceptBid(tenant, { address: market, bidId: l1 })
    await c.mine(5)
    await closeLease(tenant, { address: market, leaseId: l1, reason: CloseReason.TENANT })
    expect((await getLease(c.devnet.publicClient, { address: market, leaseId: l1 })).reason).toBe(
      CloseReason.INSUFFICIENT_FUNDS,
    )

    const o2 = await order({ maxPricePerBlock: price }, parseEther('1'))
    const l2 = await bid(p1, o2, price)
    await acceptBid(tenant, { address: market, bidId: l2 })
    await c.mine(5)
    const before = await balances()
    const w = await withdrawLease(p1, { address: market, leaseId: l2, amount: parseEther('0.25') })
    expect(events(w.receipt)).toEqual([
      'LeaseSettled',
      'LeaseWithdrawn',
      'BidClosed',
      'LeaseClosed',
      'OrderClosed',
    ])
    await expectDeltas(before, [
      [addr(p1), parseEther('1') + BID_DEPOSIT],
      [market, -(parseEther('1') + BID_DEPOSIT)],
    ])
    const l = await getLease(c.devnet.publicClient, { address: market, leaseId: l2 })
    expect([l.state, l.reason, l.earned]).toEqual([
      LeaseState.CLOSED,
      CloseReason.INSUFFICIENT_FUNDS,
      0n,
    ])
    expect(
      (await getProvider(c.devnet.publicClient, { address: market, provider: addr(p1) }))
        .openLeases,
    ).toBe(0)
  })

  it('only the tenant tops up; listOrders follows the events', async () => {
    await register(p1)
    const orderId = await order()
    await refused(
      () => depositEscrow(stranger, { address: market, orderId, amount: 1n }),
      'NotTenant',
      [addr(stranger), addr(tenant)],
    )
    await refused(
      () => depositEscrow(tenant, { address: market, orderId, amount: 0n }),
      'ZeroAmount',
    )
    const before = await balances()
    await depositEscrow(tenant, { address: market, orderId, amount: 7n })
    await expectDeltas(before, [
      [addr(tenant), -7n],
      [market, 7n],
    ])
    const other = await order()
    const leaseId = await bid(p1, other)
    await acceptBid(tenant, { address: market, bidId: leaseId })
    const all = await listOrders(c.devnet.publicClient, { address: market, tenant: addr(tenant) })
    expect(all.map((o) => o.orderId)).toEqual([orderId, other])
    expect(all[1]!.leaseId).toBe(leaseId)
    const open = await listOrders(c.devnet.publicClient, { address: market, openOnly: true })
    expect(open.map((o) => o.orderId)).toEqual([orderId])
    const active = await listLeases(c.devnet.publicClient, { address: market, activeOnly: true })
    expect(active.map((l) => l.leaseId)).toEqual([leaseId])
  })
})

describe('reentrancy', () => {
  it('a token calling back mid-transfer is refused by the guard; every payment happens once', async () => {
    const { publicClient } = c.devnet
    const hash = await c.owner.deployContract({
      abi: reentrantTokenAbi,
      bytecode: reentrantTokenBytecode,
      args: [parseEther('1000000')],
    })
    const token = (await publicClient.waitForTransactionReceipt({ hash })).contractAddress!
    const hostile = await deployMarket(publicClient, c.owner, {
      token,
      bidDeposit: BID_DEPOSIT,
      minEscrow: MIN_ESCROW,
    })
    const tokenWrite = async (w: Wallet, functionName: string, args: readonly unknown[]) => {
      const h = await w.writeContract({
        address: token,
        abi: reentrantTokenAbi,
        functionName,
        args,
      } as Parameters<Wallet['writeContract']>[0])
      await publicClient.waitForTransactionReceipt({ hash: h })
    }
    const read = async (functionName: string, args: readonly unknown[] = []) =>
      (await publicClient.readContract({
        address: token,
        abi: reentrantTokenAbi,
        functionName,
        args,
      } as never)) as never
    for (const w of [tenant, p1]) {
      await tokenWrite(c.owner, 'transfer', [addr(w), parseEther('100')])
      await tokenWrite(w, 'approve', [hostile, 2n ** 255n])
    }
    // the tenant's, the provider's and the market's balances of the hostile token
    const snapshot = async () =>
      await Promise.all(
        [addr(tenant), addr(p1), hostile].map(
          async (a) => (await read('balanceOf', [a])) as bigint,
        ),
      )
    const GUARD = toFunctionSelector('ReentrancyGuardReentrantCall()')
    const expectRefused = async () => {
      expect(await read('attempted')).toBe(true)
      expect(await read('reentered')).toBe(false)
      expect(((await read('reentryRevert')) as Hex).slice(0, 10)).toBe(GUARD)
    }
    await registerProvider(p1, { address: hostile, hostUri: 'https://p1', attributes: EU })

    // closing an order: the deposit paid back to p1 calls closeOrder again
    const o1 = (
      await createOrder(tenant, { address: hostile, order: spec(), deposit: parseEther('10') })
    ).orderId
    await placeBid(p1, { address: hostile, orderId: o1, pricePerBlock: PRICE })
    await tokenWrite(c.owner, 'arm', [
      hostile,
      encodeFunctionData({ abi: computeMarketAbi, functionName: 'closeOrder', args: [o1] }),
    ])
    let before = await snapshot()
    await closeOrder(tenant, { address: hostile, orderId: o1 })
    await expectRefused()
    expect((await snapshot()).map((b, i) => b - before[i]!)).toEqual([
      parseEther('10'),
      BID_DEPOSIT,
      -(parseEther('10') + BID_DEPOSIT),
    ])

    // closing a lease: the provider's payment calls withdrawLease on the same lease
    const o2 = (
      await createOrder(tenant, { address: hostile, order: spec(), deposit: parseEther('10') })
    ).orderId
    const leaseId = (await placeBid(p1, { address: hostile, orderId: o2, pricePerBlock: PRICE }))
      .bidId
    const acc = await acceptBid(tenant, { address: hostile, bidId: leaseId })
    await c.mine(5)
    await tokenWrite(c.owner, 'arm', [
      hostile,
      encodeFunctionData({
        abi: computeMarketAbi,
        functionName: 'withdrawLease',
        args: [leaseId, 1n],
      }),
    ])
    before = await snapshot()
    const cl = await closeLease(tenant, { address: hostile, leaseId, reason: CloseReason.TENANT })
    await expectRefused()
    const earned = (cl.receipt.blockNumber - acc.receipt.blockNumber) * PRICE
    expect((await snapshot()).map((b, i) => b - before[i]!)).toEqual([
      parseEther('10') - earned,
      earned + BID_DEPOSIT,
      -(parseEther('10') + BID_DEPOSIT),
    ])
    expect(await read('balanceOf', [hostile])).toBe(0n)
  })
})
