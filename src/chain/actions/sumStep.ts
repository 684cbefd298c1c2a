import type { Account, Address, Chain, Client, Hex, Transport } from 'viem'
import type { ChainError } from '../../errors/chain.ts'
import type { SumOpeningsArg } from '../../verify/dispute/openings.ts'
import { type GameWriteReturnType, writeGame } from '../dispute.ts'

export type SumStepParameters = {
  /** The DisputeGame contract. */
  address: Address
  /** The dispute. */
  id: bigint
  /** Acc_{s-1} (0 for s = 0). */
  previous: bigint
  /** Its compact proof (empty for s = 0). */
  previousProof: Hex[]
  /** Term s's openings. */
  openings: SumOpeningsArg
  /** Gas limit (estimated when omitted). */
  gas?: bigint
}

export type SumStepReturnType = GameWriteReturnType

export type SumStepErrorType = ChainError

/**
 * Challenger, at the disputed partial sum s: acc_{s-1} under accRoot and the inputs of term s.
 * Waits for the receipt; a revert surfaces as viem's ContractFunctionExecutionError with the
 * game's decoded custom error.
 *
 * @example
 * await sumStep(walletClient, { address: game, id, ... })
 */
export async function sumStep(
  client: Client<Transport, Chain, Account>,
  params: SumStepParameters,
  options: { signal?: AbortSignal } = {},
): Promise<SumStepReturnType> {
  return await writeGame(
    client,
    params.address,
    'sumStep',
    [params.id, params.previous, params.previousProof, params.openings],
    {
      ...(params.gas === undefined ? {} : { gas: params.gas }),
      ...(options.signal ? { signal: options.signal } : {}),
    },
  )
}
