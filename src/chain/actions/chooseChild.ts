import type { Account, Address, Chain, Client, Hex, Transport } from 'viem'
import type { ChainError } from '../../errors/chain.ts'
import { type GameWriteReturnType, writeGame } from '../dispute.ts'

export type ChooseChildParameters = {
  /** The DisputeGame contract. */
  address: Address
  /** The dispute. */
  id: bigint
  /** Its index among the revealed nodes. */
  index: bigint
  /** The node. */
  child: Hex
  /** Its siblings among the revealed nodes, bottom first. */
  proof: Hex[]
  /** Gas limit (estimated when omitted). */
  gas?: bigint
}

export type ChooseChildReturnType = GameWriteReturnType

export type ChooseChildErrorType = ChainError

/**
 * Challenger: picks the revealed node it disputes, with its siblings up to the current node.
 * Waits for the receipt; a revert surfaces as viem's ContractFunctionExecutionError with the
 * game's decoded custom error.
 *
 * @example
 * await chooseChild(walletClient, { address: game, id, ... })
 */
export async function chooseChild(
  client: Client<Transport, Chain, Account>,
  params: ChooseChildParameters,
  options: { signal?: AbortSignal } = {},
): Promise<ChooseChildReturnType> {
  return await writeGame(
    client,
    params.address,
    'chooseChild',
    [params.id, params.index, params.child, params.proof],
    {
      ...(params.gas === undefined ? {} : { gas: params.gas }),
      ...(options.signal ? { signal: options.signal } : {}),
    },
  )
}
