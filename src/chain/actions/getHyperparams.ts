import type { Address, Chain, Client, ContractFunctionReturnType, Transport } from 'viem'
import { readContract } from 'viem/actions'
import { verityAbi } from '../abis.ts'

export type GetHyperparamsParameters = {
  /** The Verity contract. */
  address: Address
  /** subnet */
  netuid: number
}

export type GetHyperparamsReturnType = ContractFunctionReturnType<
  typeof verityAbi,
  'view',
  'hyperparams'
>

/**
 * Reads a subnet's hyperparameters.
 *
 * @example
 * const value = await getHyperparams(publicClient, { address: devnet.addresses.verity, ... })
 */
export async function getHyperparams(
  client: Client<Transport, Chain>,
  params: GetHyperparamsParameters,
  options: { signal?: AbortSignal } = {},
): Promise<GetHyperparamsReturnType> {
  options.signal?.throwIfAborted()
  return await readContract(client, {
    address: params.address,
    abi: verityAbi,
    functionName: 'hyperparams',
    args: [params.netuid],
  })
}
