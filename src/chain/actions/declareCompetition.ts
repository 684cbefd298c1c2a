import type { Account, Address, Chain, Client, Hex, Transport } from 'viem'
import { type CompetitionWriteReturnType, writeCompetition } from '../competition.ts'

export type DeclareCompetitionParameters = {
  /** The ModelCompetition contract. */
  address: Address
  netuid: number
  /** sha256 of the evaluation spec validators run (src/competition/evaluate.ts). */
  evalSpecHash: Hex
  /** Largest parameter count a commitment may declare. */
  maxParams: bigint
  /** Margin a later model must beat an earlier one by, ppm of its loss (< 1,000,000). */
  epsilonPpm: number
  /** Blocks a commitment must be older than the evaluation seed's block. */
  minCommitAge: number
}

export type DeclareCompetitionReturnType = CompetitionWriteReturnType

/**
 * The subnet owner makes its subnet a model competition: once, before the subnet's first epoch;
 * the rules never change after. Waits for the receipt; a revert surfaces as viem's
 * ContractFunctionExecutionError with the decoded custom error (NotSubnetOwner, AlreadyDeclared,
 * SubnetAlreadyStarted, InvalidParam).
 *
 * @example
 * await declareCompetition(ownerWallet, { address: competition, netuid: 1, evalSpecHash, maxParams: 10_000_000n, epsilonPpm: 5000, minCommitAge: 2 })
 */
export async function declareCompetition(
  client: Client<Transport, Chain, Account>,
  params: DeclareCompetitionParameters,
  options: { signal?: AbortSignal } = {},
): Promise<DeclareCompetitionReturnType> {
  return await writeCompetition(
    client,
    params.address,
    'declareCompetition',
    [params.netuid, params.evalSpecHash, params.maxParams, params.epsilonPpm, params.minCommitAge],
    options,
  )
}
