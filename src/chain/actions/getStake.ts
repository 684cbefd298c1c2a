import type { Address, Chain, Client, ContractFunctionReturnType, Transport } from 'viem'
import { readContract } from 'viem/actions'
import { verityAbi } from '../abis.ts'

export type GetStakeParameters = {
  /** The Verity contract. */
  address: Address
  /** subnet */
  netuid: number
  /** hotkey */
  hotkey: Address
}

export type GetStakeReturnType = ContractFunctionReturnType<typeof verityAbi, 'view', 'stakeOf'>

/**
 * Reads a hotkey's total stake.
 *
 * @example
 * const value = await getStake(publicClient, { address: devnet.addresses.verity, ... })
 */
export async function getStake(
  client: Client<Transport, Chain>,
  params: GetStakeParameters,
  options: { signal?: AbortSignal } = {},
): Promise<GetStakeReturnType> {
  options.signal?.throwIfAborted()
  return await readContract(client, {
    address: params.address,
    abi: verityAbi,
    functionName: 'stakeOf',
    args: [params.netuid, params.hotkey],
  })
}
