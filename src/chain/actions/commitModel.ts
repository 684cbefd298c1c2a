import type { Account, Address, Chain, Client, Hex, Transport } from 'viem'
import {
  type CompetitionWriteReturnType,
  modelCommitmentHash,
  randomSalt,
  writeCompetition,
} from '../competition.ts'
import { announceModel } from './announceModel.ts'

export type CommitModelParameters = {
  /** The ModelCompetition contract. */
  address: Address
  netuid: number
  /** The model's modelRoot (docs/DETERMINISM.md, "modelRoot"). */
  modelRoot: Hex
  /** The file's commitment (src/cli/model-commitment.ts). */
  fileHash: Hex
  /** The file's size in bytes. */
  size: bigint
  /** The model's parameter count (at most the competition's maxParams). */
  params: bigint
}

export type CommitModelReturnType = CompetitionWriteReturnType & {
  /** The announcement's transaction (the commitment's block is later). */
  announcement: CompetitionWriteReturnType
}

/**
 * A registered hotkey commits its model to a competition subnet, in two transactions: the
 * announcement (a salted hash bound to the hotkey), then the commitment that reveals it (sent
 * once the announcement is mined, so in a later block). A new commitment replaces the caller's
 * previous one and takes the new block. Waits for both receipts; a revert surfaces as viem's ContractFunctionExecutionError with the decoded
 * custom error (NotCompetition, NotRegistered, ParamsOverLimit, SameModel, InvalidParam).
 *
 * @example
 * await commitModel(minerWallet, { address: competition, netuid: 1, modelRoot, fileHash, size, params })
 */
export async function commitModel(
  client: Client<Transport, Chain, Account>,
  params: CommitModelParameters,
  options: { gas?: bigint; signal?: AbortSignal; salt?: Hex } = {},
): Promise<CommitModelReturnType> {
  const salt = options.salt ?? randomSalt()
  const { address, netuid, modelRoot, fileHash, size } = params
  const commitment = modelCommitmentHash({
    netuid,
    hotkey: client.account.address,
    modelRoot,
    fileHash,
    size,
    params: params.params,
    salt,
  })
  const writeOptions = { ...(options.signal ? { signal: options.signal } : {}) }
  const announcement = await announceModel(client, { address, netuid, commitment }, writeOptions)
  // The announcement is mined: the reveal, sent now, can only land in a later block.
  const revealed = await writeCompetition(
    client,
    address,
    'commitModel',
    [netuid, modelRoot, fileHash, size, params.params, salt],
    options,
  )
  return { ...revealed, announcement }
}
