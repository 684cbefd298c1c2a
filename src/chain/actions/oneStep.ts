import type { Account, Address, Chain, Client, Transport } from 'viem'
import type { ChainError } from '../../errors/chain.ts'
import type { StepProofArg } from '../../verify/dispute/openings.ts'
import { type GameWriteReturnType, writeGame } from '../dispute.ts'

export type OneStepParameters = {
  /** The DisputeGame contract. */
  address: Address
  /** The dispute. */
  id: bigint
  /** The lane and the proven inputs (src/verify/dispute/openings.ts). */
  proof: StepProofArg
  /** Gas limit (estimated when omitted). */
  gas?: bigint
}

export type OneStepReturnType = GameWriteReturnType

export type OneStepErrorType = ChainError

/**
 * Challenger, at the disputed chunk: the one step of one element (the contract recomputes it).
 * Waits for the receipt; a revert surfaces as viem's ContractFunctionExecutionError with the
 * game's decoded custom error.
 *
 * @example
 * await oneStep(walletClient, { address: game, id, ... })
 */
export async function oneStep(
  client: Client<Transport, Chain, Account>,
  params: OneStepParameters,
  options: { signal?: AbortSignal } = {},
): Promise<OneStepReturnType> {
  return await writeGame(client, params.address, 'oneStep', [params.id, params.proof], {
    ...(params.gas === undefined ? {} : { gas: params.gas }),
    ...(options.signal ? { signal: options.signal } : {}),
  })
}
