import type { Address, Chain, Client, ContractFunctionReturnType, Transport } from 'viem'
import { readContract } from 'viem/actions'
import { computeMarketAbi } from '../abis.ts'

export type GetOrderParameters = {
  /** The ComputeMarket contract. */
  address: Address
  orderId: bigint
}

export type GetOrderReturnType = ContractFunctionReturnType<
  typeof computeMarketAbi,
  'view',
  'getOrder'
>

/**
 * Reads an order as stored: tenant, state, bid deadline, lease, price ceiling, escrow, spec hash,
 * resources and placement requirements.
 *
 * @example
 * const order = await getOrder(publicClient, { address: market, orderId })
 */
export async function getOrder(
  client: Client<Transport, Chain>,
  params: GetOrderParameters,
  options: { signal?: AbortSignal } = {},
): Promise<GetOrderReturnType> {
  options.signal?.throwIfAborted()
  return await readContract(client, {
    address: params.address,
    abi: computeMarketAbi,
    functionName: 'getOrder',
    args: [params.orderId],
  })
}
