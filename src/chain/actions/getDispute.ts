import type { Address, Chain, Client, ContractFunctionReturnType, Transport } from 'viem'
import { readContract } from 'viem/actions'
import { disputeGameAbi } from '../abis.ts'

export type GetDisputeParameters = {
  /** The DisputeGame contract. */
  address: Address
  /** The dispute. */
  id: bigint
}

export type GetDisputeReturnType = ContractFunctionReturnType<
  typeof disputeGameAbi,
  'view',
  'dispute'
>

/**
 * Reads a dispute as stored: phase, parties, deadline, the bisection's node and what each level
 * fixed (position, op, element, roots).
 *
 * @example
 * const d = await getDispute(publicClient, { address: game, id })
 */
export async function getDispute(
  client: Client<Transport, Chain>,
  params: GetDisputeParameters,
  options: { signal?: AbortSignal } = {},
): Promise<GetDisputeReturnType> {
  options.signal?.throwIfAborted()
  return await readContract(client, {
    address: params.address,
    abi: disputeGameAbi,
    functionName: 'dispute',
    args: [params.id],
  })
}
