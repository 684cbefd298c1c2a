import type { Account, Address, Chain, Client, Transport } from 'viem'
import type { ChainError } from '../../errors/chain.ts'
import { type GameWriteReturnType, writeGame } from '../dispute.ts'

export type TimeoutDisputeParameters = {
  /** The DisputeGame contract. */
  address: Address
  /** The dispute. */
  id: bigint
  /** Gas limit (estimated when omitted). */
  gas?: bigint
}

export type TimeoutDisputeReturnType = GameWriteReturnType

export type TimeoutDisputeErrorType = ChainError

/**
 * Anyone, once the deadline has passed: ends the dispute; the party to move loses.
 * Waits for the receipt; a revert surfaces as viem's ContractFunctionExecutionError with the
 * game's decoded custom error.
 *
 * @example
 * await timeoutDispute(walletClient, { address: game, id, ... })
 */
export async function timeoutDispute(
  client: Client<Transport, Chain, Account>,
  params: TimeoutDisputeParameters,
  options: { signal?: AbortSignal } = {},
): Promise<TimeoutDisputeReturnType> {
  return await writeGame(client, params.address, 'timeout', [params.id], {
    ...(params.gas === undefined ? {} : { gas: params.gas }),
    ...(options.signal ? { signal: options.signal } : {}),
  })
}
