import type { Address, Chain, Client, ContractFunctionReturnType, Transport } from 'viem'
import { readContract } from 'viem/actions'
import { verityAbi } from '../abis.ts'

export type GetBurnPriceParameters = {
  /** The Verity contract. */
  address: Address
  /** subnet */
  netuid: number
}

export type GetBurnPriceReturnType = ContractFunctionReturnType<
  typeof verityAbi,
  'view',
  'burnPrice'
>

/**
 * Reads the current registration price.
 *
 * @example
 * const value = await getBurnPrice(publicClient, { address: devnet.addresses.verity, ... })
 */
export async function getBurnPrice(
  client: Client<Transport, Chain>,
  params: GetBurnPriceParameters,
  options: { signal?: AbortSignal } = {},
): Promise<GetBurnPriceReturnType> {
  options.signal?.throwIfAborted()
  return await readContract(client, {
    address: params.address,
    abi: verityAbi,
    functionName: 'burnPrice',
    args: [params.netuid],
  })
}
