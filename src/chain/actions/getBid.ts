import type { Address, Chain, Client, ContractFunctionReturnType, Transport } from 'viem'
import { readContract } from 'viem/actions'
import { computeMarketAbi } from '../abis.ts'

export type GetBidParameters = {
  /** The ComputeMarket contract. */
  address: Address
  bidId: bigint
}

export type GetBidReturnType = ContractFunctionReturnType<typeof computeMarketAbi, 'view', 'getBid'>

/**
 * Reads a bid as stored: order, provider, state, price per block, deposit held.
 *
 * @example
 * const bid = await getBid(publicClient, { address: market, bidId })
 */
export async function getBid(
  client: Client<Transport, Chain>,
  params: GetBidParameters,
  options: { signal?: AbortSignal } = {},
): Promise<GetBidReturnType> {
  options.signal?.throwIfAborted()
  return await readContract(client, {
    address: params.address,
    abi: computeMarketAbi,
    functionName: 'getBid',
    args: [params.bidId],
  })
}
