import type { Address, Chain, Client, ContractFunctionReturnType, Transport } from 'viem'
import { readContract } from 'viem/actions'
import { modelCompetitionAbi } from '../abis.ts'

export type GetCompetitionParameters = {
  /** The ModelCompetition contract. */
  address: Address
  netuid: number
}

export type GetCompetitionReturnType = ContractFunctionReturnType<
  typeof modelCompetitionAbi,
  'view',
  'competition'
> & { commitCount: bigint }

/**
 * Reads a subnet's competition rules (declaredAt 0n: not a competition) and how many commitments
 * it has had.
 *
 * @example
 * const rules = await getCompetition(publicClient, { address: competition, netuid: 1 })
 */
export async function getCompetition(
  client: Client<Transport, Chain>,
  params: GetCompetitionParameters,
  options: { signal?: AbortSignal } = {},
): Promise<GetCompetitionReturnType> {
  options.signal?.throwIfAborted()
  const call = { address: params.address, abi: modelCompetitionAbi, args: [params.netuid] } as const
  const [rules, commitCount] = await Promise.all([
    readContract(client, { ...call, functionName: 'competition' }),
    readContract(client, { ...call, functionName: 'commitCount' }),
  ])
  return { ...rules, commitCount }
}
