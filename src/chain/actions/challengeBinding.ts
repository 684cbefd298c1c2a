import type { Account, Address, Chain, Client, Transport } from 'viem'
import type { ChainError } from '../../errors/chain.ts'
import { type GameWriteReturnType, writeGame } from '../dispute.ts'

export type ChallengeBindingParameters = {
  /** The DisputeGame contract. */
  address: Address
  /** The dispute. */
  id: bigint
  /** The boundary index. */
  j: bigint
  /** Gas limit (estimated when omitted). */
  gas?: bigint
}

export type ChallengeBindingReturnType = GameWriteReturnType

export type ChallengeBindingErrorType = ChainError

/**
 * Challenger, at R_p's root: claims boundary leaf j of c_p is not leaf binding(j) of R_p.
 * Waits for the receipt; a revert surfaces as viem's ContractFunctionExecutionError with the
 * game's decoded custom error.
 *
 * @example
 * await challengeBinding(walletClient, { address: game, id, ... })
 */
export async function challengeBinding(
  client: Client<Transport, Chain, Account>,
  params: ChallengeBindingParameters,
  options: { signal?: AbortSignal } = {},
): Promise<ChallengeBindingReturnType> {
  return await writeGame(client, params.address, 'challengeBinding', [params.id, params.j], {
    ...(params.gas === undefined ? {} : { gas: params.gas }),
    ...(options.signal ? { signal: options.signal } : {}),
  })
}
