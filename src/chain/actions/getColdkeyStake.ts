import type { Address, Chain, Client, ContractFunctionReturnType, Transport } from 'viem'
import { readContract } from 'viem/actions'
import { verityAbi } from '../abis.ts'

export type GetColdkeyStakeParameters = {
  /** The Verity contract. */
  address: Address
  /** hotkey */
  hotkey: Address
  /** coldkey */
  coldkey: Address
}

export type GetColdkeyStakeReturnType = ContractFunctionReturnType<
  typeof verityAbi,
  'view',
  'stakeOfColdkey'
>

/**
 * Reads the value of a coldkey's stake on a hotkey.
 *
 * @example
 * const value = await getColdkeyStake(publicClient, { address: devnet.addresses.verity, ... })
 */
export async function getColdkeyStake(
  client: Client<Transport, Chain>,
  params: GetColdkeyStakeParameters,
  options: { signal?: AbortSignal } = {},
): Promise<GetColdkeyStakeReturnType> {
  options.signal?.throwIfAborted()
  return await readContract(client, {
    address: params.address,
    abi: verityAbi,
    functionName: 'stakeOfColdkey',
    args: [params.hotkey, params.coldkey],
  })
}
