import type { Address, Chain, Client, ContractFunctionReturnType, Transport } from 'viem'
import { readContract } from 'viem/actions'
import { verityAbi } from '../abis.ts'

export type GetEpochInfoParameters = {
  /** The Verity contract. */
  address: Address
  /** subnet */
  netuid: number
}

export type GetEpochInfoReturnType = ContractFunctionReturnType<
  typeof verityAbi,
  'view',
  'epochInfo'
>

/**
 * Reads when a subnet's next epoch may begin and the running epoch's keeper reward (total, unpaid).
 *
 * @example
 * const value = await getEpochInfo(publicClient, { address: devnet.addresses.verity, ... })
 */
export async function getEpochInfo(
  client: Client<Transport, Chain>,
  params: GetEpochInfoParameters,
  options: { signal?: AbortSignal } = {},
): Promise<GetEpochInfoReturnType> {
  options.signal?.throwIfAborted()
  return await readContract(client, {
    address: params.address,
    abi: verityAbi,
    functionName: 'epochInfo',
    args: [params.netuid],
  })
}
