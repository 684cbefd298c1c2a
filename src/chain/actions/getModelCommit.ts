import type { Address, Chain, Client, ContractFunctionReturnType, Transport } from 'viem'
import { readContract } from 'viem/actions'
import { modelCompetitionAbi } from '../abis.ts'

export type GetModelCommitParameters = {
  /** The ModelCompetition contract. */
  address: Address
  netuid: number
  hotkey: Address
}

export type GetModelCommitReturnType = ContractFunctionReturnType<
  typeof modelCompetitionAbi,
  'view',
  'commitOf'
>

/**
 * Reads a hotkey's current commitment on a competition subnet (commitBlock 0n: none; copyOf not
 * the zero address: another hotkey committed the same model first).
 *
 * @example
 * const commit = await getModelCommit(publicClient, { address: competition, netuid: 1, hotkey })
 */
export async function getModelCommit(
  client: Client<Transport, Chain>,
  params: GetModelCommitParameters,
  options: { signal?: AbortSignal } = {},
): Promise<GetModelCommitReturnType> {
  options.signal?.throwIfAborted()
  return await readContract(client, {
    address: params.address,
    abi: modelCompetitionAbi,
    functionName: 'commitOf',
    args: [params.netuid, params.hotkey],
  })
}
