import type { Account, Address, Chain, Client, Hex, Transport } from 'viem'
import type { ChainError } from '../../errors/chain.ts'
import type { SumOpeningsArg } from '../../verify/dispute/openings.ts'
import { type GameWriteReturnType, writeGame } from '../dispute.ts'

export type PostSumParameters = {
  /** The DisputeGame contract. */
  address: Address
  /** The dispute. */
  id: bigint
  /** The partial sums' root. */
  accRoot: Hex
  /** The last partial sum. */
  last: bigint
  /** Its compact proof. */
  lastProof: Hex[]
  /** The final check's openings. */
  openings: SumOpeningsArg
  /** The first reveal (empty for one partial sum). */
  nodes: Hex[]
  /** Gas limit (estimated when omitted). */
  gas?: bigint
}

export type PostSumReturnType = GameWriteReturnType

export type PostSumErrorType = ChainError

/**
 * Miner: posts its partial sums' root, the last sum with its proof, the final check's openings and the first level of the sums' descent.
 * Waits for the receipt; a revert surfaces as viem's ContractFunctionExecutionError with the
 * game's decoded custom error.
 *
 * @example
 * await postSum(walletClient, { address: game, id, ... })
 */
export async function postSum(
  client: Client<Transport, Chain, Account>,
  params: PostSumParameters,
  options: { signal?: AbortSignal } = {},
): Promise<PostSumReturnType> {
  return await writeGame(
    client,
    params.address,
    'postSum',
    [params.id, params.accRoot, params.last, params.lastProof, params.openings, params.nodes],
    {
      ...(params.gas === undefined ? {} : { gas: params.gas }),
      ...(options.signal ? { signal: options.signal } : {}),
    },
  )
}
