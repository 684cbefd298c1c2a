import type { Account, Address, Chain, Client, Hex, Transport } from 'viem'
import type { ChainError } from '../../errors/chain.ts'
import { type GameWriteReturnType, writeGame } from '../dispute.ts'

export type ProveBindingParameters = {
  /** The DisputeGame contract. */
  address: Address
  /** The dispute. */
  id: bigint
  /** The leaf. */
  leaf: Hex
  /** Its compact proof under boundaryRoot. */
  boundaryProof: Hex[]
  /** Its compact proof under R_p. */
  positionProof: Hex[]
  /** Gas limit (estimated when omitted). */
  gas?: bigint
}

export type ProveBindingReturnType = GameWriteReturnType

export type ProveBindingErrorType = ChainError

/**
 * Miner: proves boundary leaf j and leaf binding(j) of R_p are one leaf.
 * Waits for the receipt; a revert surfaces as viem's ContractFunctionExecutionError with the
 * game's decoded custom error.
 *
 * @example
 * await proveBinding(walletClient, { address: game, id, ... })
 */
export async function proveBinding(
  client: Client<Transport, Chain, Account>,
  params: ProveBindingParameters,
  options: { signal?: AbortSignal } = {},
): Promise<ProveBindingReturnType> {
  return await writeGame(
    client,
    params.address,
    'proveBinding',
    [params.id, params.leaf, params.boundaryProof, params.positionProof],
    {
      ...(params.gas === undefined ? {} : { gas: params.gas }),
      ...(options.signal ? { signal: options.signal } : {}),
    },
  )
}
