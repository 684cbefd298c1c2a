import type { Address, Chain, Client, ContractFunctionReturnType, Transport } from 'viem'
import { readContract } from 'viem/actions'
import { verityAbi } from '../abis.ts'

export type GetSubnetParameters = {
  /** The Verity contract. */
  address: Address
  /** subnet */
  netuid: number
}

export type GetSubnetReturnType = ContractFunctionReturnType<typeof verityAbi, 'view', 'subnetInfo'>

/**
 * Reads a subnet summary: owner, n, model, last epoch block, epoch index, pending emission, burn.
 *
 * @example
 * const value = await getSubnet(publicClient, { address: devnet.addresses.verity, ... })
 */
export async function getSubnet(
  client: Client<Transport, Chain>,
  params: GetSubnetParameters,
  options: { signal?: AbortSignal; blockNumber?: bigint } = {},
): Promise<GetSubnetReturnType> {
  options.signal?.throwIfAborted()
  return await readContract(client, {
    address: params.address,
    abi: verityAbi,
    ...(options.blockNumber === undefined ? {} : { blockNumber: options.blockNumber }),
    functionName: 'subnetInfo',
    args: [params.netuid],
  })
}
