import type { Address, Chain, Client, ContractFunctionReturnType, Transport } from 'viem'
import { readContract } from 'viem/actions'
import { computeMarketAbi } from '../abis.ts'

export type GetProviderParameters = {
  /** The ComputeMarket contract. */
  address: Address
  provider: Address
}

export type GetProviderReturnType = ContractFunctionReturnType<
  typeof computeMarketAbi,
  'view',
  'getProvider'
>

/**
 * Reads a provider as registered: generation, open bids and leases, host URI, attributes (bytes32;
 * `fromBytes32` gives the strings).
 *
 * @example
 * const p = await getProvider(publicClient, { address: market, provider })
 */
export async function getProvider(
  client: Client<Transport, Chain>,
  params: GetProviderParameters,
  options: { signal?: AbortSignal } = {},
): Promise<GetProviderReturnType> {
  options.signal?.throwIfAborted()
  return await readContract(client, {
    address: params.address,
    abi: computeMarketAbi,
    functionName: 'getProvider',
    args: [params.provider],
  })
}
