import type { Address, Chain, Client, Transport } from 'viem'
import { readContract } from 'viem/actions'
import { verityAbi } from '../abis.ts'

export type GetColdkeyStakeParameters = {
  /** The Verity contract. */
  address: Address
  /** subnet */
  netuid: number
  /** hotkey */
  hotkey: Address
  /** coldkey */
  coldkey: Address
}

export type GetColdkeyStakeReturnType = bigint

/**
 * Reads the value of a coldkey's stake on a hotkey (0 once a slash wiped the pool's generation).
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
  const [, value] = await readContract(client, {
    address: params.address,
    abi: verityAbi,
    functionName: 'position',
    args: [params.netuid, params.hotkey, params.coldkey],
  })
  return value
}
