import type { Account, Address, Chain, Client, Hex, Transport } from 'viem'
import type { ChainError } from '../../errors/chain.ts'
import { type GameWriteReturnType, writeGame } from '../dispute.ts'

export type RevealChildrenParameters = {
  /** The DisputeGame contract. */
  address: Address
  /** The dispute. */
  id: bigint
  /** The nodes, left to right. */
  nodes: Hex[]
  /** Gas limit (estimated when omitted). */
  gas?: bigint
}

export type RevealChildrenReturnType = GameWriteReturnType

export type RevealChildrenErrorType = ChainError

/**
 * Miner: reveals the nodes below the current bisection node (2 in the checkpoint and position bisections, up to 256 in the chunk and partial-sum descents), in order.
 * Waits for the receipt; a revert surfaces as viem's ContractFunctionExecutionError with the
 * game's decoded custom error.
 *
 * @example
 * await revealChildren(walletClient, { address: game, id, ... })
 */
export async function revealChildren(
  client: Client<Transport, Chain, Account>,
  params: RevealChildrenParameters,
  options: { signal?: AbortSignal } = {},
): Promise<RevealChildrenReturnType> {
  return await writeGame(client, params.address, 'revealChildren', [params.id, params.nodes], {
    ...(params.gas === undefined ? {} : { gas: params.gas }),
    ...(options.signal ? { signal: options.signal } : {}),
  })
}
