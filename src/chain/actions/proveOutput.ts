import type { Account, Address, Chain, Client, Hex, Transport } from 'viem'
import type { ChainError } from '../../errors/chain.ts'
import { type GameWriteReturnType, writeGame } from '../dispute.ts'

export type ProveOutputParameters = {
  /** The DisputeGame contract. */
  address: Address
  /** The dispute. */
  id: bigint
  /** The position's boundaryRoot. */
  boundaryRoot: Hex
  /** Its checkpoint's compact proof under traceRoot. */
  checkpointProof: Hex[]
  /** The sample entry's chunk. */
  sample: Hex
  /** The sample leaf's compact proof under boundaryRoot. */
  boundaryProof: Hex[]
  /** Gas limit (estimated when omitted). */
  gas?: bigint
}

export type ProveOutputReturnType = GameWriteReturnType

export type ProveOutputErrorType = ChainError

/**
 * Miner, on an output claim: opens element 0 of the sample at position T - 1 + k under traceRoot.
 * Waits for the receipt; a revert surfaces as viem's ContractFunctionExecutionError with the
 * game's decoded custom error.
 *
 * @example
 * await proveOutput(walletClient, { address: game, id, ... })
 */
export async function proveOutput(
  client: Client<Transport, Chain, Account>,
  params: ProveOutputParameters,
  options: { signal?: AbortSignal } = {},
): Promise<ProveOutputReturnType> {
  return await writeGame(
    client,
    params.address,
    'proveOutput',
    [params.id, params.boundaryRoot, params.checkpointProof, params.sample, params.boundaryProof],
    {
      ...(params.gas === undefined ? {} : { gas: params.gas }),
      ...(options.signal ? { signal: options.signal } : {}),
    },
  )
}
