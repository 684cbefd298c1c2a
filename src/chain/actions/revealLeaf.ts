import type { Account, Address, Chain, Client, Hex, Transport } from 'viem'
import type { ChainError } from '../../errors/chain.ts'
import { type GameWriteReturnType, writeGame } from '../dispute.ts'

export type RevealLeafParameters = {
  /** The DisputeGame contract. */
  address: Address
  /** The dispute. */
  id: bigint
  /** The op output's vecRoot. */
  vecRoot: Hex
  /** The first reveal of the chunk tree (empty for a one-chunk vector). */
  nodes: Hex[]
  /** Gas limit (estimated when omitted). */
  gas?: bigint
}

export type RevealLeafReturnType = GameWriteReturnType

export type RevealLeafErrorType = ChainError

/**
 * Miner, at the disputed op: reveals its vecRoot and the first level of its chunk tree's descent.
 * Waits for the receipt; a revert surfaces as viem's ContractFunctionExecutionError with the
 * game's decoded custom error.
 *
 * @example
 * await revealLeaf(walletClient, { address: game, id, ... })
 */
export async function revealLeaf(
  client: Client<Transport, Chain, Account>,
  params: RevealLeafParameters,
  options: { signal?: AbortSignal } = {},
): Promise<RevealLeafReturnType> {
  return await writeGame(
    client,
    params.address,
    'revealLeaf',
    [params.id, params.vecRoot, params.nodes],
    {
      ...(params.gas === undefined ? {} : { gas: params.gas }),
      ...(options.signal ? { signal: options.signal } : {}),
    },
  )
}
