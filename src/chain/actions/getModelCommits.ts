import type { Address, Chain, Client, ContractFunctionReturnType, Transport } from 'viem'
import { readContract } from 'viem/actions'
import { modelCompetitionAbi } from '../abis.ts'

export type GetModelCommitsParameters = {
  /** The ModelCompetition contract. */
  address: Address
  netuid: number
  /** The hotkeys to read (a validator passes the metagraph's). */
  hotkeys: readonly Address[]
}

export type GetModelCommitsReturnType = ContractFunctionReturnType<
  typeof modelCompetitionAbi,
  'view',
  'commitsOf'
>

/**
 * Reads the current commitments of many hotkeys in one call, in the order given.
 *
 * @example
 * const commits = await getModelCommits(publicClient, { address: competition, netuid: 1, hotkeys })
 */
export async function getModelCommits(
  client: Client<Transport, Chain>,
  params: GetModelCommitsParameters,
  options: { signal?: AbortSignal } = {},
): Promise<GetModelCommitsReturnType> {
  options.signal?.throwIfAborted()
  return await readContract(client, {
    address: params.address,
    abi: modelCompetitionAbi,
    functionName: 'commitsOf',
    args: [params.netuid, params.hotkeys],
  })
}
