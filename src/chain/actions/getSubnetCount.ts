import type { Address, Chain, Client, Transport } from 'viem'
import { readContract } from 'viem/actions'
import { verityAbi } from '../abis.ts'

export type GetSubnetCountParameters = {
  /** The Verity contract. */
  address: Address
}

/**
 * Reads how many subnets were ever created: netuids run from 1 to this count (a dissolved one
 * reverts on reads).
 *
 * @example
 * const count = await getSubnetCount(publicClient, { address: devnet.addresses.verity })
 */
export async function getSubnetCount(
  client: Client<Transport, Chain>,
  params: GetSubnetCountParameters,
  options: { signal?: AbortSignal } = {},
): Promise<number> {
  options.signal?.throwIfAborted()
  return await readContract(client, {
    address: params.address,
    abi: verityAbi,
    functionName: 'subnetCount',
  })
}
