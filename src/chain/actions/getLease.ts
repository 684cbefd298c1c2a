import type { Address, Chain, Client, ContractFunctionReturnType, Transport } from 'viem'
import { readContract } from 'viem/actions'
import { computeMarketAbi } from '../abis.ts'

export type GetLeaseParameters = {
  /** The ComputeMarket contract. */
  address: Address
  leaseId: bigint
}

export type GetLeaseReturnType = ContractFunctionReturnType<
  typeof computeMarketAbi,
  'view',
  'getLease'
>

/**
 * Reads a lease as stored: settled up to `settledBlock`, `earned` unwithdrawn, `paid` over its life,
 * and its close reason (getPendingSettlement tells what settling now would add).
 *
 * @example
 * const lease = await getLease(publicClient, { address: market, leaseId })
 */
export async function getLease(
  client: Client<Transport, Chain>,
  params: GetLeaseParameters,
  options: { signal?: AbortSignal } = {},
): Promise<GetLeaseReturnType> {
  options.signal?.throwIfAborted()
  return await readContract(client, {
    address: params.address,
    abi: computeMarketAbi,
    functionName: 'getLease',
    args: [params.leaseId],
  })
}
