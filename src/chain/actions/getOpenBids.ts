import type { Address, Chain, Client, ContractFunctionReturnType, Transport } from 'viem'
import { readContract } from 'viem/actions'
import { computeMarketAbi } from '../abis.ts'

export type GetOpenBidsParameters = {
  /** The ComputeMarket contract. */
  address: Address
  orderId: bigint
}

export type GetOpenBidsReturnType = ContractFunctionReturnType<
  typeof computeMarketAbi,
  'view',
  'openBidsOf'
>

/**
 * The ids of an order's open bids (at most 20).
 *
 * @example
 * const ids = await getOpenBids(publicClient, { address: market, orderId })
 */
export async function getOpenBids(
  client: Client<Transport, Chain>,
  params: GetOpenBidsParameters,
  options: { signal?: AbortSignal } = {},
): Promise<GetOpenBidsReturnType> {
  options.signal?.throwIfAborted()
  return await readContract(client, {
    address: params.address,
    abi: computeMarketAbi,
    functionName: 'openBidsOf',
    args: [params.orderId],
  })
}
