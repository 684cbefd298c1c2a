import type { Address, Chain, Client, ContractFunctionReturnType, Transport } from 'viem'
import { readContract } from 'viem/actions'
import { verityAbi } from '../abis.ts'

export type GetNeuronParameters = {
  /** The Verity contract. */
  address: Address
  /** subnet */
  netuid: number
  /** uid */
  uid: number
}

export type GetNeuronReturnType = ContractFunctionReturnType<typeof verityAbi, 'view', 'neuron'>

/**
 * Reads a neuron: hotkey, blocks and the last epoch outputs.
 *
 * @example
 * const value = await getNeuron(publicClient, { address: devnet.addresses.verity, ... })
 */
export async function getNeuron(
  client: Client<Transport, Chain>,
  params: GetNeuronParameters,
  options: { signal?: AbortSignal } = {},
): Promise<GetNeuronReturnType> {
  options.signal?.throwIfAborted()
  return await readContract(client, {
    address: params.address,
    abi: verityAbi,
    functionName: 'neuron',
    args: [params.netuid, params.uid],
  })
}
