import type { Address, Chain, Client, ContractFunctionReturnType, Hex, Transport } from 'viem'
import { readContract } from 'viem/actions'
import { verityAbi } from '../abis.ts'

export type GetModelParameters = {
  /** The Verity contract. */
  address: Address
  /** model root */
  modelRoot: Hex
}

export type GetModelReturnType = ContractFunctionReturnType<typeof verityAbi, 'view', 'model'>

/**
 * Reads a registered model.
 *
 * @example
 * const value = await getModel(publicClient, { address: devnet.addresses.verity, ... })
 */
export async function getModel(
  client: Client<Transport, Chain>,
  params: GetModelParameters,
  options: { signal?: AbortSignal } = {},
): Promise<GetModelReturnType> {
  options.signal?.throwIfAborted()
  return await readContract(client, {
    address: params.address,
    abi: verityAbi,
    functionName: 'model',
    args: [params.modelRoot],
  })
}
