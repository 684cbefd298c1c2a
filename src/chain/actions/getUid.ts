import type { Address, Chain, Client, ContractFunctionReturnType, Transport } from 'viem'
import { readContract } from 'viem/actions'
import { verityAbi } from '../abis.ts'

export type GetUidParameters = {
  /** The Verity contract. */
  address: Address
  /** subnet */
  netuid: number
  /** hotkey */
  hotkey: Address
}

export type GetUidReturnType = ContractFunctionReturnType<typeof verityAbi, 'view', 'uidOf'>

/**
 * Reads the uid of a hotkey.
 *
 * @example
 * const value = await getUid(publicClient, { address: devnet.addresses.verity, ... })
 */
export async function getUid(
  client: Client<Transport, Chain>,
  params: GetUidParameters,
  options: { signal?: AbortSignal; blockNumber?: bigint } = {},
): Promise<GetUidReturnType> {
  options.signal?.throwIfAborted()
  return await readContract(client, {
    address: params.address,
    abi: verityAbi,
    ...(options.blockNumber === undefined ? {} : { blockNumber: options.blockNumber }),
    functionName: 'uidOf',
    args: [params.netuid, params.hotkey],
  })
}
