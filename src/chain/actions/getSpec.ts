import {
  type Address,
  type Chain,
  type Client,
  type Hex,
  hexToBytes,
  keccak256,
  type Transport,
} from 'viem'
import { getOrder } from './getOrder.ts'
import { marketLogs } from './listOrders.ts'

export type GetSpecParameters = {
  /** The ComputeMarket contract. */
  address: Address
  orderId: bigint
  /** The first block to search (default 0). */
  fromBlock?: bigint
}

/**
 * The deployment spec published for an order (SpecPublished), checked against the order's
 * specHash; undefined while none is published.
 *
 * @example
 * const bytes = await getSpec(publicClient, { address: market, orderId })
 */
export async function getSpec(
  client: Client<Transport, Chain>,
  params: GetSpecParameters,
  options: { signal?: AbortSignal } = {},
): Promise<Uint8Array | undefined> {
  options.signal?.throwIfAborted()
  const order = await getOrder(client, { address: params.address, orderId: params.orderId })
  const logs = await marketLogs(
    client,
    params.address,
    ['SpecPublished'],
    params.fromBlock,
    params.orderId,
  )
  for (const log of logs) {
    if (log.eventName !== 'SpecPublished' || log.args.orderId !== params.orderId) continue
    const spec = log.args.spec as Hex
    // the contract checked the hash; checking again costs nothing and guards a lying RPC
    if (keccak256(spec) === order.specHash) return hexToBytes(spec)
  }
  return undefined
}
