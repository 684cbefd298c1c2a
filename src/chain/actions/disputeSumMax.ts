import type { Account, Address, Chain, Client, Transport } from 'viem'
import type { ChainError } from '../../errors/chain.ts'
import type { SumOpeningsArg } from '../../verify/dispute/openings.ts'
import { type GameWriteReturnType, writeGame } from '../dispute.ts'

export type DisputeSumMaxParameters = {
  /** The DisputeGame contract. */
  address: Address
  /** The dispute. */
  id: bigint
  /** The element above the maximum. */
  openings: SumOpeningsArg
  /** Gas limit (estimated when omitted). */
  gas?: bigint
}

export type DisputeSumMaxReturnType = GameWriteReturnType

export type DisputeSumMaxErrorType = ChainError

/**
 * Challenger, during a projection or softmax sum: shows an input above the posted maximum.
 * Waits for the receipt; a revert surfaces as viem's ContractFunctionExecutionError with the
 * game's decoded custom error.
 *
 * @example
 * await disputeSumMax(walletClient, { address: game, id, ... })
 */
export async function disputeSumMax(
  client: Client<Transport, Chain, Account>,
  params: DisputeSumMaxParameters,
  options: { signal?: AbortSignal } = {},
): Promise<DisputeSumMaxReturnType> {
  return await writeGame(client, params.address, 'disputeSumMax', [params.id, params.openings], {
    ...(params.gas === undefined ? {} : { gas: params.gas }),
    ...(options.signal ? { signal: options.signal } : {}),
  })
}
