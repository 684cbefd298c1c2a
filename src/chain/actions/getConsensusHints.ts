import type { Address, Chain, Client, ContractFunctionReturnType, Transport } from 'viem'
import { readContract } from 'viem/actions'
import { verityAbi } from '../abis.ts'

export type GetConsensusHintsParameters = {
  /** The Verity contract. */
  address: Address
  /** subnet */
  netuid: number
  /** first column */
  from: number
  /** columns */
  count: number
}

export type GetConsensusHintsReturnType = ContractFunctionReturnType<
  typeof verityAbi,
  'view',
  'consensusHints'
>

/**
 * Computes weighted medians for the running epoch (eth_call).
 *
 * @example
 * const value = await getConsensusHints(publicClient, { address: devnet.addresses.verity, ... })
 */
export async function getConsensusHints(
  client: Client<Transport, Chain>,
  params: GetConsensusHintsParameters,
  options: { signal?: AbortSignal } = {},
): Promise<GetConsensusHintsReturnType> {
  options.signal?.throwIfAborted()
  return await readContract(client, {
    address: params.address,
    abi: verityAbi,
    functionName: 'consensusHints',
    args: [params.netuid, params.from, params.count],
  })
}
