import type { Address, Chain, Client, ContractFunctionReturnType, Transport } from 'viem'
import { readContract } from 'viem/actions'
import { verityAbi } from '../abis.ts'

export type GetPoolParameters = {
  /** The Verity contract. */
  address: Address
  /** subnet */
  netuid: number
  /** hotkey */
  hotkey: Address
}

export type GetPoolReturnType = ContractFunctionReturnType<typeof verityAbi, 'view', 'pool'>

/**
 * Reads a hotkey's stake pool on a subnet: stake, the part the next epoch would count, shares,
 * rewards held for its stakers, generation.
 *
 * @example
 * const value = await getPool(publicClient, { address: devnet.addresses.verity, ... })
 */
export async function getPool(
  client: Client<Transport, Chain>,
  params: GetPoolParameters,
  options: { signal?: AbortSignal } = {},
): Promise<GetPoolReturnType> {
  options.signal?.throwIfAborted()
  return await readContract(client, {
    address: params.address,
    abi: verityAbi,
    functionName: 'pool',
    args: [params.netuid, params.hotkey],
  })
}
