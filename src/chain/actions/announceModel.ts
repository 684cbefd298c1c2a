import type { Account, Address, Chain, Client, Hex, Transport } from 'viem'
import { type CompetitionWriteReturnType, writeCompetition } from '../competition.ts'

export type AnnounceModelParameters = {
  /** The ModelCompetition contract. */
  address: Address
  netuid: number
  /** modelCommitmentHash(...) of the model the hotkey will commit, with a secret salt. */
  commitment: Hex
}

/**
 * A registered hotkey announces the model it will commit, as a hash bound to itself and a salt
 * (ModelCompetition.announceModel): the commitment that reveals it must come in a later block, so
 * nobody who sees the reveal in the mempool can get ahead of it. Waits for the receipt; a revert
 * names its custom error (NotCompetition, NotRegistered, SubnetDissolved, InvalidParam).
 *
 * @example
 * await announceModel(minerWallet, { address: competition, netuid: 2, commitment })
 */
export async function announceModel(
  client: Client<Transport, Chain, Account>,
  params: AnnounceModelParameters,
  options: { gas?: bigint; signal?: AbortSignal } = {},
): Promise<CompetitionWriteReturnType> {
  return await writeCompetition(
    client,
    params.address,
    'announceModel',
    [params.netuid, params.commitment],
    options,
  )
}
