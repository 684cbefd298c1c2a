import type { Account, Address, Chain, Client, Hex, Transport } from 'viem'
import type { ChainError } from '../../errors/chain.ts'
import { type GameWriteReturnType, writeGame } from '../dispute.ts'

export type PostPositionParameters = {
  /** The DisputeGame contract. */
  address: Address
  /** The dispute. */
  id: bigint
  /** R_p. */
  positionRoot: Hex
  /** The leaves under p's boundaryRoot, in order. */
  boundaryLeaves: Hex[]
  /** R_p's left child. */
  left: Hex
  /** R_p's right child. */
  right: Hex
  /** Gas limit (estimated when omitted). */
  gas?: bigint
}

export type PostPositionReturnType = GameWriteReturnType

export type PostPositionErrorType = ChainError

/**
 * Miner, at the disputed checkpoint c_p: posts R_p (with its two children) and p's boundary leaves.
 * Waits for the receipt; a revert surfaces as viem's ContractFunctionExecutionError with the
 * game's decoded custom error.
 *
 * @example
 * await postPosition(walletClient, { address: game, id, ... })
 */
export async function postPosition(
  client: Client<Transport, Chain, Account>,
  params: PostPositionParameters,
  options: { signal?: AbortSignal } = {},
): Promise<PostPositionReturnType> {
  return await writeGame(
    client,
    params.address,
    'postPosition',
    [params.id, params.positionRoot, params.boundaryLeaves, params.left, params.right],
    {
      ...(params.gas === undefined ? {} : { gas: params.gas }),
      ...(options.signal ? { signal: options.signal } : {}),
    },
  )
}
