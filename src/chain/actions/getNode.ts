import type { Address, Chain, Client, ContractFunctionReturnType, Transport } from 'viem'
import { readContract } from 'viem/actions'
import { verityAbi } from '../abis.ts'

export type GetNodeParameters = {
  /** The Verity contract. */
  address: Address
  /** subnet */
  netuid: number
  /** hotkey */
  hotkey: Address
}

export type GetNodeReturnType = ContractFunctionReturnType<typeof verityAbi, 'view', 'node'>

/**
 * Reads a hotkey's published libp2p peer id and multiaddrs.
 *
 * @example
 * const value = await getNode(publicClient, { address: devnet.addresses.verity, ... })
 */
export async function getNode(
  client: Client<Transport, Chain>,
  params: GetNodeParameters,
  options: { signal?: AbortSignal } = {},
): Promise<GetNodeReturnType> {
  options.signal?.throwIfAborted()
  return await readContract(client, {
    address: params.address,
    abi: verityAbi,
    functionName: 'node',
    args: [params.netuid, params.hotkey],
  })
}
