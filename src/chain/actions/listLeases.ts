import type { Address, Chain, Client, Transport } from 'viem'
import { marketLogs } from './listOrders.ts'

export type ListLeasesParameters = {
  /** The ComputeMarket contract. */
  address: Address
  /** Only this provider's leases. */
  provider?: Address
  /** Only this tenant's leases. */
  tenant?: Address
  /** Only leases not yet closed. */
  activeOnly?: boolean
  /** The first block to search (default 0). */
  fromBlock?: bigint
}

/** One lease as the market's events tell it. */
export type LeaseSummary = {
  leaseId: bigint
  orderId: bigint
  provider: Address
  tenant: Address
  pricePerBlock: bigint
  startBlock: bigint
  /** Withdrawn by the provider while the lease ran. */
  withdrawn: bigint
  /** Once closed: the reason (CloseReason), who closed it, what each side got at the close. */
  closed:
    | {
        reason: number
        closedBy: Address
        providerPaid: bigint
        tenantRefund: bigint
        block: bigint
      }
    | undefined
}

export type ListLeasesReturnType = LeaseSummary[]

const EVENTS = ['LeaseCreated', 'LeaseWithdrawn', 'LeaseClosed'] as const

/**
 * Lists leases from the market's events (LeaseCreated, LeaseWithdrawn, LeaseClosed), oldest
 * first. A provider watching LeaseClosed tears down deployments the escrow stopped paying for.
 *
 * @example
 * const mine = await listLeases(publicClient, { address: market, provider, activeOnly: true })
 */
export async function listLeases(
  client: Client<Transport, Chain>,
  params: ListLeasesParameters,
  options: { signal?: AbortSignal } = {},
): Promise<ListLeasesReturnType> {
  options.signal?.throwIfAborted()
  const byId = new Map<bigint, LeaseSummary>()
  for (const log of await marketLogs(client, params.address, EVENTS, params.fromBlock)) {
    if (log.eventName === 'LeaseCreated') {
      byId.set(log.args.leaseId, {
        leaseId: log.args.leaseId,
        orderId: log.args.orderId,
        provider: log.args.provider,
        tenant: log.args.tenant,
        pricePerBlock: log.args.pricePerBlock,
        startBlock: log.blockNumber,
        withdrawn: 0n,
        closed: undefined,
      })
    } else if (log.eventName === 'LeaseWithdrawn') {
      const l = byId.get(log.args.leaseId)
      if (l) l.withdrawn += log.args.amount
    } else if (log.eventName === 'LeaseClosed') {
      const l = byId.get(log.args.leaseId)
      if (l)
        l.closed = {
          reason: log.args.reason,
          closedBy: log.args.closedBy,
          providerPaid: log.args.providerPaid,
          tenantRefund: log.args.tenantRefund,
          block: log.blockNumber,
        }
    }
  }
  const same = (a: Address, b: Address | undefined) =>
    b === undefined || a.toLowerCase() === b.toLowerCase()
  return [...byId.values()].filter(
    (l) =>
      same(l.provider, params.provider) &&
      same(l.tenant, params.tenant) &&
      (!params.activeOnly || l.closed === undefined),
  )
}
