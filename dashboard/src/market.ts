import { type Address, type Chain, type Client, type Hex, hexToString, type Transport } from 'viem'
import { readContract } from 'viem/actions'
import { computeMarketAbi } from '../../src/chain/abis.ts'
import { getBid } from '../../src/chain/actions/getBid.ts'
import { getLease } from '../../src/chain/actions/getLease.ts'
import { getOpenBids } from '../../src/chain/actions/getOpenBids.ts'
import { getOrder } from '../../src/chain/actions/getOrder.ts'
import { listLeases } from '../../src/chain/actions/listLeases.ts'
import { listOrders, marketLogs } from '../../src/chain/actions/listOrders.ts'
import { listProviders } from '../../src/chain/actions/listProviders.ts'

// State names as MarketTypes.sol orders them (src/chain/market.ts mirrors them too, but it
// deploys through node-only helpers a browser bundle cannot load).
const ORDER_STATES = ['none', 'open', 'active', 'closed'] as const
const LEASE_STATES = ['none', 'active', 'closed'] as const
const CLOSE_REASONS = ['', 'tenant', 'provider gone', 'provider', 'insufficient funds'] as const

export type ProviderRow = {
  provider: Address
  registered: boolean
  hostUri: string
  /** "key=value" each, as the provider set them. */
  attributes: string[]
  /** The auditors whose signatures match every current attribute of its registration. */
  auditedBy: Address[]
}

export type OrderRow = {
  orderId: bigint
  tenant: Address
  specHash: Hex
  /** cpu, gpu, memory and storage asked for. */
  summary: string
  maxPricePerBlock: bigint
  state: string
  escrow: bigint
}

export type BidRow = {
  bidId: bigint
  orderId: bigint
  provider: Address
  pricePerBlock: bigint
  deposit: bigint
}

export type LeaseRow = {
  leaseId: bigint
  orderId: bigint
  provider: Address
  tenant: Address
  pricePerBlock: bigint
  /** "active", or "closed (reason)". */
  state: string
  /** The order's unspent escrow the lease draws on. */
  escrow: bigint
  /** Blocks before this one are paid for. */
  settledBlock: bigint
  /** Settled to the provider over the lease's life. */
  paid: bigint
}

export type MarketView = {
  providers: ProviderRow[]
  orders: OrderRow[]
  bids: BidRow[]
  leases: LeaseRow[]
}

/** The string a right-padded bytes32 attribute holds (whole zero bytes stripped). */
export const fromBytes32 = (value: Hex) => hexToString(value.replace(/(00)+$/, '') as Hex)

const GiB = 1024n ** 3n
/** "2 CPU, 1 GPU, 4 GiB RAM, 10 GiB disk": what an order's resources amount to. */
export function resourceSummary(r: {
  cpuMilli: number
  gpuUnits: number
  memoryBytes: bigint
  storageBytes: bigint
}): string {
  const gib = (b: bigint) => `${Number((b * 100n) / GiB) / 100} GiB`
  return `${r.cpuMilli / 1000} CPU, ${r.gpuUnits} GPU, ${gib(r.memoryBytes)} RAM, ${gib(r.storageBytes)} disk`
}

/** The market's providers, orders, open bids and leases, from its events and storage. */
export async function readMarket(
  client: Client<Transport, Chain>,
  market: Address,
  fromBlock: bigint,
  options: { signal?: AbortSignal } = {},
): Promise<MarketView> {
  const address = market
  const [providerList, orderList, leaseList, signed] = await Promise.all([
    listProviders(client, { address, fromBlock }, options),
    listOrders(client, { address, fromBlock }, options),
    listLeases(client, { address, fromBlock }, options),
    marketLogs(client, address, ['AttributesSigned'] as const, fromBlock),
  ])
  const orders = await Promise.all(
    orderList.map((o) => getOrder(client, { address, orderId: o.orderId }, options)),
  )
  const openBidIds = await Promise.all(
    orderList.map((o, i) =>
      orders[i]!.state === 1
        ? getOpenBids(client, { address, orderId: o.orderId }, options)
        : Promise.resolve([] as readonly bigint[]),
    ),
  )
  const bidIds = openBidIds.flat()
  const [bids, leases, providers] = await Promise.all([
    Promise.all(bidIds.map((bidId) => getBid(client, { address, bidId }, options))),
    Promise.all(leaseList.map((l) => getLease(client, { address, leaseId: l.leaseId }, options))),
    Promise.all(
      providerList.map(async (p): Promise<ProviderRow> => {
        const auditors = [
          ...new Set(
            signed.flatMap((s) =>
              s.eventName === 'AttributesSigned' &&
              s.args.provider.toLowerCase() === p.provider.toLowerCase()
                ? [s.args.auditor]
                : [],
            ),
          ),
        ]
        return {
          provider: p.provider,
          registered: p.registered,
          hostUri: p.hostUri,
          attributes: p.attributes.map((a) => `${fromBytes32(a.key)}=${fromBytes32(a.value)}`),
          auditedBy: p.registered
            ? await auditing(client, address, p.provider, p.attributes, auditors, options)
            : [],
        }
      }),
    ),
  ])
  const escrowOf = new Map(orderList.map((o, i) => [o.orderId, orders[i]!.escrow]))
  return {
    providers,
    orders: orderList.map((o, i) => {
      const stored = orders[i]!
      return {
        orderId: o.orderId,
        tenant: o.tenant,
        specHash: o.specHash,
        summary: resourceSummary(stored.resources),
        maxPricePerBlock: stored.maxPricePerBlock,
        state: ORDER_STATES[stored.state] ?? `state ${stored.state}`,
        escrow: stored.escrow,
      }
    }),
    bids: bids.map((b, i) => ({
      bidId: bidIds[i]!,
      orderId: b.orderId,
      provider: b.provider,
      pricePerBlock: b.pricePerBlock,
      deposit: b.deposit,
    })),
    leases: leaseList.map((l, i) => {
      const stored = leases[i]!
      const state = LEASE_STATES[stored.state] ?? `state ${stored.state}`
      return {
        leaseId: l.leaseId,
        orderId: l.orderId,
        provider: l.provider,
        tenant: l.tenant,
        pricePerBlock: stored.pricePerBlock,
        state: stored.reason ? `${state} (${CLOSE_REASONS[stored.reason]})` : state,
        escrow: escrowOf.get(l.orderId) ?? 0n,
        settledBlock: stored.settledBlock,
        paid: stored.paid,
      }
    }),
  }
}

/**
 * The auditors whose signed values equal every current attribute: a signature of an earlier
 * registration or of another value reads back as zero or differs, and does not count.
 */
async function auditing(
  client: Client<Transport, Chain>,
  market: Address,
  provider: Address,
  attributes: { key: Hex; value: Hex }[],
  auditors: Address[],
  options: { signal?: AbortSignal },
): Promise<Address[]> {
  if (attributes.length === 0) return []
  const verdicts = await Promise.all(
    auditors.map(async (auditor) => {
      options.signal?.throwIfAborted()
      const values = await Promise.all(
        attributes.map((a) =>
          readContract(client, {
            address: market,
            abi: computeMarketAbi,
            functionName: 'auditedValue',
            args: [provider, auditor, a.key],
          }),
        ),
      )
      return values.every((v, i) => v.toLowerCase() === attributes[i]!.value.toLowerCase())
    }),
  )
  return auditors.filter((_, i) => verdicts[i])
}
