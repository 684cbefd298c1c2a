import type { Account, Address, Chain, Client, Hex, Transport } from 'viem'
import { type CompetitionWriteReturnType, writeCompetition } from '../competition.ts'

export type CommitModelParameters = {
  /** The ModelCompetition contract. */
  address: Address
  netuid: number
  /** The model's modelRoot (docs/DETERMINISM.md, "modelRoot"). */
  modelRoot: Hex
  /** sha256 of the GGUF file. */
  fileHash: Hex
  /** The file's size in bytes. */
  size: bigint
  /** The model's parameter count (at most the competition's maxParams). */
  params: bigint
}

export type CommitModelReturnType = CompetitionWriteReturnType

/**
 * A registered hotkey commits its model to a competition subnet; a new commitment replaces the
 * caller's previous one and takes the new block. Waits for the receipt; a revert surfaces as
 * viem's ContractFunctionExecutionError with the decoded custom error (NotCompetition,
 * NotRegistered, ParamsOverLimit, SameModel, InvalidParam).
 *
 * @example
 * await commitModel(minerWallet, { address: competition, netuid: 1, modelRoot, fileHash, size, params })
 */
export async function commitModel(
  client: Client<Transport, Chain, Account>,
  params: CommitModelParameters,
  options: { gas?: bigint; signal?: AbortSignal } = {},
): Promise<CommitModelReturnType> {
  return await writeCompetition(
    client,
    params.address,
    'commitModel',
    [params.netuid, params.modelRoot, params.fileHash, params.size, params.params],
    options,
  )
}
