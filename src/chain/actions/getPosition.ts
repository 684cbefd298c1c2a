import type { Address, Chain, Client, ContractFunctionReturnType, Transport } from 'viem'
import { readContract } from 'viem/actions'
import { verityAbi } from '../abis.ts'

export type GetPositionParameters = {
  /** The Verity contract. */
  address: Address
  /** subnet */
  netuid: number
  /** hotkey */
  hotkey: Address
  /** coldkey */
  coldkey: Address
}

export type GetPositionReturnType = ContractFunctionReturnType<typeof verityAbi, 'view', 'position'>

/**
 * Reads a coldkey's position on a pool: shares, their value, and its unharvested rewards.
 *
 * @example
 * const value = await getPosition(publicClient, { address: devnet.addresses.verity, ... })
 */
export async function getPosition(
  client: Client<Transport, Chain>,
  params: GetPositionParameters,
  options: { signal?: AbortSignal } = {},
): Promise<GetPositionReturnType> {
  options.signal?.throwIfAborted()
  return await readContract(client, {
    address: params.address,
    abi: verityAbi,
    functionName: 'position',
    args: [params.netuid, params.hotkey, params.coldkey],
  })
}
