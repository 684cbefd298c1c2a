import type { Account, Address, Chain, Client, Transport } from 'viem'
import type { ChainError } from '../../errors/chain.ts'
import { type GameWriteReturnType, writeGame } from '../dispute.ts'

export type StartSumParameters = {
  /** The DisputeGame contract. */
  address: Address
  /** The dispute. */
  id: bigint
  /** The element's lane in its chunk. */
  lane: bigint
  /** Gas limit (estimated when omitted). */
  gas?: bigint
}

export type StartSumReturnType = GameWriteReturnType

export type StartSumErrorType = ChainError

/**
 * Challenger, at the disputed chunk: plays the element in `lane` as a sum (attn_mix, long projections, long softmax rows).
 * Waits for the receipt; a revert surfaces as viem's ContractFunctionExecutionError with the
 * game's decoded custom error.
 *
 * @example
 * await startSum(walletClient, { address: game, id, ... })
 */
export async function startSum(
  client: Client<Transport, Chain, Account>,
  params: StartSumParameters,
  options: { signal?: AbortSignal } = {},
): Promise<StartSumReturnType> {
  return await writeGame(client, params.address, 'startSum', [params.id, params.lane], {
    ...(params.gas === undefined ? {} : { gas: params.gas }),
    ...(options.signal ? { signal: options.signal } : {}),
  })
}
