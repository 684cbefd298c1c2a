import type { Address, Chain, Client, ContractFunctionReturnType, Transport } from 'viem'
import { readContract } from 'viem/actions'
import { verityAbi } from '../abis.ts'

export type GetWeightsParameters = {
  /** The Verity contract. */
  address: Address
  /** subnet */
  netuid: number
  /** uid */
  uid: number
}

export type GetWeightsReturnType = ContractFunctionReturnType<typeof verityAbi, 'view', 'weightsOf'>

/**
 * Reads a stored weight row (explicit zeros included).
 *
 * @example
 * const value = await getWeights(publicClient, { address: devnet.addresses.verity, ... })
 */
export async function getWeights(
  client: Client<Transport, Chain>,
  params: GetWeightsParameters,
  options: { signal?: AbortSignal } = {},
): Promise<GetWeightsReturnType> {
  options.signal?.throwIfAborted()
  return await readContract(client, {
    address: params.address,
    abi: verityAbi,
    functionName: 'weightsOf',
    args: [params.netuid, params.uid],
  })
}
