import { readFileSync } from 'node:fs'
import { join } from 'node:path'
/**
 * Gas of the compute market's operations on an anvil devnet (contracts/src/market), and of
 * settlement as the number of open leases grows: settlement is lazy and per lease, so a
 * withdrawal, a top-up or a close costs the same with 2 or 400 leases open.
 *
 *   npm run bench:market-gas            a table
 *   npm run bench:market-gas -- --json  one JSON line
 *
 * "placement 4x2" is an order requiring 4 attributes signed by any of 2 auditors; "placement
 * 16x8" the bound: 16 requirements, each signed by all of 8 auditors. Accept and close-order
 * figures with 20 bids include returning the other 19 (or 20) deposits.
 */
import { keccak256, parseEther, toHex } from 'viem'
import { acceptBid } from '../src/chain/actions/acceptBid.ts'
import { closeBid } from '../src/chain/actions/closeBid.ts'
import { closeLease } from '../src/chain/actions/closeLease.ts'
import { closeOrder } from '../src/chain/actions/closeOrder.ts'
import { createOrder } from '../src/chain/actions/createOrder.ts'
import { depositEscrow } from '../src/chain/actions/depositEscrow.ts'
import { deregisterProvider } from '../src/chain/actions/deregisterProvider.ts'
import { placeBid } from '../src/chain/actions/placeBid.ts'
import { publishSpec } from '../src/chain/actions/publishSpec.ts'
import { registerProvider } from '../src/chain/actions/registerProvider.ts'
import { setProviderAttributes } from '../src/chain/actions/setProviderAttributes.ts'
import { signAttributes } from '../src/chain/actions/signAttributes.ts'
import { withdrawLease } from '../src/chain/actions/withdrawLease.ts'
import { CloseReason, type OrderSpec } from '../src/chain/market.ts'
import { startMarketChain, type Wallet } from '../src/chain/market-fixture.ts'
import { canonicalSpecBytes, parseDeploymentSpec } from '../src/market/spec.ts'

const json = process.argv.includes('--json')
// from 2, so that the newest and the oldest lease are two leases with the same storage history
const LEASE_COUNTS = [2, 10, 100, 400]

const c = await startMarketChain({ actors: 32, tag: 'market-bench' })
const market = c.market
const [tenant, auditor, ...rest] = c.actors as [Wallet, Wallet, ...Wallet[]]
const auditors = rest.slice(0, 8)
const providers = rest.slice(8, 29)
const PRICE = 10n ** 12n

const spec = (over: Partial<OrderSpec> = {}): OrderSpec => ({
  specHash: keccak256(toHex('bench')),
  resources: { cpuMilli: 8000, gpuUnits: 1, memoryBytes: 32n << 30n, storageBytes: 100n << 30n },
  maxPricePerBlock: PRICE,
  bidWindow: 1000n,
  ...over,
})
const attrs = (n: number) =>
  Object.fromEntries(Array.from({ length: n }, (_, i) => [`key${i}`, `value${i}`]))
const gas = (r: { receipt: { gasUsed: bigint } }) => Number(r.receipt.gasUsed)
const order = async (over: Partial<OrderSpec> = {}, deposit = parseEther('100')) =>
  await createOrder(tenant, { address: market, order: spec(over), deposit })

try {
  const out: Record<string, number | boolean | Record<string, number>> = {}
  // --- registry
  for (const [i, p] of providers.entries()) {
    const r = await registerProvider(p, {
      address: market,
      hostUri: `https://provider-${i}.example:8443`,
      attributes: attrs(16),
    })
    if (i === 0) out.registerProvider16Attrs = gas(r)
  }
  out.setProviderAttributes16 = gas(
    await setProviderAttributes(providers[0]!, { address: market, attributes: attrs(16) }),
  )
  for (const a of [auditor, ...auditors])
    for (const p of providers) {
      const r = await signAttributes(a, {
        address: market,
        provider: p.account.address,
        attributes: attrs(16),
      })
      if (a === auditor && p === providers[0]) out.signAttributes16 = gas(r)
    }

  // --- orders and bids
  const plain = await order()
  out.createOrder = gas(plain)
  const placed = await order({
    requirements: attrs(4),
    signedByAnyOf: [auditor.account.address, auditors[0]!.account.address],
  })
  out.createOrderPlacement4x2 = gas(placed)
  const worst = await order({
    requirements: attrs(16),
    signedByAllOf: auditors.map((a) => a.account.address),
  })
  out.createOrderPlacement16x8 = gas(worst)
  // a spec as verity deploy publishes it (examples/market/tiny.yaml, canonical, with a key hash),
  // and one at the 16 KiB bound
  const tinySpec = canonicalSpecBytes(
    parseDeploymentSpec(
      readFileSync(join(import.meta.dirname, '../examples/market/tiny.yaml'), 'utf8'),
    ),
    { apiKeyHash: keccak256(toHex('key')) },
  )
  const withSpec = await order({ specHash: keccak256(tinySpec) })
  out.publishSpecBytes = tinySpec.length
  out.publishSpec = gas(
    await publishSpec(tenant, { address: market, orderId: withSpec.orderId, spec: tinySpec }),
  )
  const bigSpec = new Uint8Array(16_384).fill(0x20)
  const withBig = await order({ specHash: keccak256(bigSpec) })
  out.publishSpec16KiB = gas(
    await publishSpec(tenant, { address: market, orderId: withBig.orderId, spec: bigSpec }),
  )
  out.placeBid = gas(
    await placeBid(providers[0]!, {
      address: market,
      orderId: plain.orderId,
      pricePerBlock: PRICE,
    }),
  )
  out.placeBidPlacement4x2 = gas(
    await placeBid(providers[0]!, {
      address: market,
      orderId: placed.orderId,
      pricePerBlock: PRICE,
    }),
  )
  out.placeBidPlacement16x8 = gas(
    await placeBid(providers[0]!, {
      address: market,
      orderId: worst.orderId,
      pricePerBlock: PRICE,
    }),
  )
  const second = await placeBid(providers[1]!, {
    address: market,
    orderId: plain.orderId,
    pricePerBlock: PRICE,
  })
  out.closeBid = gas(await closeBid(providers[1]!, { address: market, bidId: second.bidId }))
  out.acceptBid1 = gas(
    await acceptBid(tenant, {
      address: market,
      bidId: (
        await placeBid(providers[2]!, {
          address: market,
          orderId: placed.orderId,
          pricePerBlock: PRICE,
        })
      ).bidId,
    }),
  )

  // 20 bids: accept one (19 lost), close an order holding 20
  const full = await order()
  const fullBids: bigint[] = []
  for (const p of providers.slice(0, 20))
    fullBids.push(
      (await placeBid(p, { address: market, orderId: full.orderId, pricePerBlock: PRICE })).bidId,
    )
  const lease20 = await acceptBid(tenant, { address: market, bidId: fullBids[0]! })
  out.acceptBid20 = gas(lease20)
  const full2 = await order()
  for (const p of providers.slice(0, 20))
    await placeBid(p, { address: market, orderId: full2.orderId, pricePerBlock: PRICE })
  out.closeOrder20Bids = gas(await closeOrder(tenant, { address: market, orderId: full2.orderId }))

  // --- a lease: top-up, withdrawal, closes
  await c.mine(100)
  out.depositEscrow = gas(
    await depositEscrow(tenant, {
      address: market,
      orderId: full.orderId,
      amount: parseEther('1'),
    }),
  )
  await c.mine(100)
  out.withdrawLease = gas(
    await withdrawLease(providers[0]!, {
      address: market,
      leaseId: lease20.leaseId,
      amount: PRICE,
    }),
  )
  await c.mine(100)
  out.closeLeaseByTenant = gas(
    await closeLease(tenant, {
      address: market,
      leaseId: lease20.leaseId,
      reason: CloseReason.TENANT,
    }),
  )
  const dry = await order({ maxPricePerBlock: parseEther('0.01') }, parseEther('1'))
  const dryBid = await placeBid(providers[3]!, {
    address: market,
    orderId: dry.orderId,
    pricePerBlock: parseEther('0.01'),
  })
  await acceptBid(tenant, { address: market, bidId: dryBid.bidId })
  await c.mine(101)
  out.closeLeaseInsufficientFunds = gas(
    await closeLease(auditor, {
      address: market,
      leaseId: dryBid.bidId,
      reason: CloseReason.INSUFFICIENT_FUNDS,
    }),
  )
  const idle = providers[20]!
  out.deregisterProvider = gas(await deregisterProvider(idle, { address: market }))

  // --- settlement as open leases grow: the same provider and tenant, N leases
  const scaling: Record<string, number> = {}
  const leases: { orderId: bigint; leaseId: bigint }[] = []
  const p = providers[4]!
  for (const n of LEASE_COUNTS) {
    while (leases.length < n) {
      const o = await order({}, parseEther('1'))
      const b = await placeBid(p, { address: market, orderId: o.orderId, pricePerBlock: PRICE })
      await acceptBid(tenant, { address: market, bidId: b.bidId })
      leases.push({ orderId: o.orderId, leaseId: b.bidId })
    }
    // warm-up: the oldest lease's first withdrawal (a zero slot written) is not the measure
    if (n === LEASE_COUNTS[0]) {
      await c.mine(5)
      await withdrawLease(p, { address: market, leaseId: leases[0]!.leaseId, amount: PRICE })
    }
    await c.mine(50)
    const first = leases[0]!
    const last = leases[leases.length - 1]!
    // the newest lease's first withdrawal writes its zero `earned` slot; the oldest's is warm
    scaling[`withdrawNewestOf${n}`] = gas(
      await withdrawLease(p, { address: market, leaseId: last.leaseId, amount: PRICE }),
    )
    scaling[`withdrawOldestOf${n}`] = gas(
      await withdrawLease(p, { address: market, leaseId: first.leaseId, amount: PRICE }),
    )
    scaling[`depositNewestOf${n}`] = gas(
      await depositEscrow(tenant, { address: market, orderId: last.orderId, amount: PRICE }),
    )
  }
  out.settlement = scaling
  const spread = (key: string) => {
    const v = LEASE_COUNTS.map((n) => scaling[key.replace(/N$/, String(n))]!)
    return Math.max(...v) - Math.min(...v)
  }
  // flat: the same figure with 2 or 400 leases open (within a few gas: longer ids in calldata)
  out.settlementFlat = ['withdrawNewestOfN', 'withdrawOldestOfN', 'depositNewestOfN'].every(
    (k) => spread(k) < 100,
  )

  if (json) console.log(JSON.stringify(out))
  else
    for (const [k, v] of Object.entries(out)) {
      if (typeof v === 'object')
        for (const [k2, v2] of Object.entries(v)) console.log(`settlement.${k2}`.padEnd(34), v2)
      else console.log(k.padEnd(34), v)
    }
} finally {
  await c.stop()
}
