import type { Address, Chain, Client, Transport } from 'viem'
import { readContract } from 'viem/actions'
import { disputeGameAbi } from '../abis.ts'
import type { DisputeParams } from '../dispute.ts'

export type GetDisputeParamsParameters = {
  /** The DisputeGame contract. */
  address: Address
  netuid: number
}

export type GetDisputeParamsReturnType = DisputeParams

/**
 * Reads the dispute parameters a dispute on `netuid` opened now would take.
 *
 * @example
 * const { bond, window } = await getDisputeParams(publicClient, { address: game, netuid: 1 })
 */
export async function getDisputeParams(
  client: Client<Transport, Chain>,
  params: GetDisputeParamsParameters,
  options: { signal?: AbortSignal } = {},
): Promise<GetDisputeParamsReturnType> {
  options.signal?.throwIfAborted()
  return await readContract(client, {
    address: params.address,
    abi: disputeGameAbi,
    functionName: 'paramsOf',
    args: [params.netuid],
  })
}
