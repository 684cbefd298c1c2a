import {
  type Address,
  type Chain,
  type Client,
  type Hex,
  type Log,
  numberToHex,
  parseEventLogs,
  type Transport,
  toEventSelector,
} from 'viem'
import { computeMarketAbi } from '../abis.ts'

export type ListOrdersParameters = {
  /** The ComputeMarket contract. */
  address: Address
  /** Only this tenant's orders. */
  tenant?: Address
  /** Only orders still open for bids (not leased, not closed); the window may have passed. */
  openOnly?: boolean
  /** The first block to search (default 0). */
  fromBlock?: bigint
}

/** One order as the market's events tell it. */
export type OrderSummary = {
  orderId: bigint
  tenant: Address
  specHash: Hex
  maxPricePerBlock: bigint
  bidDeadline: bigint
  deposit: bigint
  createdBlock: bigint
  /** The accepted bid's lease, once there is one. */
  leaseId: bigint | undefined
  closed: boolean
}

export type ListOrdersReturnType = OrderSummary[]

const EVENTS = ['OrderCreated', 'LeaseCreated', 'OrderClosed'] as const

/**
 * Lists orders from the market's events (OrderCreated, LeaseCreated, OrderClosed), oldest first:
 * one eth_getLogs for the three kinds. What a provider's bid engine polls for new work.
 *
 * @example
 * const open = await listOrders(publicClient, { address: market, openOnly: true })
 */
export async function listOrders(
  client: Client<Transport, Chain>,
  params: ListOrdersParameters,
  options: { signal?: AbortSignal } = {},
): Promise<ListOrdersReturnType> {
  options.signal?.throwIfAborted()
  const byId = new Map<bigint, OrderSummary>()
  for (const log of await marketLogs(client, params.address, EVENTS, params.fromBlock)) {
    if (log.eventName === 'OrderCreated') {
      byId.set(log.args.orderId, {
        orderId: log.args.orderId,
        tenant: log.args.tenant,
        specHash: log.args.specHash,
        maxPricePerBlock: log.args.maxPricePerBlock,
        bidDeadline: log.args.bidDeadline,
        deposit: log.args.deposit,
        createdBlock: log.blockNumber,
        leaseId: undefined,
        closed: false,
      })
    } else if (log.eventName === 'LeaseCreated') {
      const o = byId.get(log.args.orderId)
      if (o) o.leaseId = log.args.leaseId
    } else if (log.eventName === 'OrderClosed') {
      const o = byId.get(log.args.orderId)
      if (o) o.closed = true
    }
  }
  return [...byId.values()].filter(
    (o) =>
      (params.tenant === undefined || o.tenant.toLowerCase() === params.tenant.toLowerCase()) &&
      (!params.openOnly || (!o.closed && o.leaseId === undefined)),
  )
}

/**
 * The market's logs of some event kinds since `fromBlock`, decoded, in chain order; `firstIndexed`
 * keeps only logs whose first indexed argument (an id) is that number.
 */
export async function marketLogs<const names extends readonly string[]>(
  client: Client<Transport, Chain>,
  address: Address,
  names: names,
  fromBlock = 0n,
  firstIndexed?: bigint,
) {
  const selectors = names.map((name) =>
    toEventSelector(computeMarketAbi.find((x) => x.type === 'event' && x.name === name) as never),
  )
  const raw = (await client.request({
    method: 'eth_getLogs',
    params: [
      {
        address,
        fromBlock: numberToHex(fromBlock),
        toBlock: 'latest',
        topics:
          firstIndexed === undefined
            ? [selectors]
            : [selectors, numberToHex(firstIndexed, { size: 32 })],
      },
    ],
  } as never)) as Log[]
  return parseEventLogs({ abi: computeMarketAbi, logs: raw })
}
