import type { Address, Chain, Client, ContractFunctionReturnType, Transport } from 'viem'
import { readContract } from 'viem/actions'
import { computeMarketAbi } from '../abis.ts'

export type GetPendingSettlementParameters = {
  /** The ComputeMarket contract. */
  address: Address
  leaseId: bigint
}

export type GetPendingSettlementReturnType = ContractFunctionReturnType<
  typeof computeMarketAbi,
  'view',
  'pendingSettlement'
>

/**
 * What settling a lease now would pay its provider, and whether the escrow falls short of the
 * blocks elapsed (then anyone may close it for insufficient funds).
 *
 * @example
 * const [pay, depleted] = await getPendingSettlement(publicClient, { address: market, leaseId })
 */
export async function getPendingSettlement(
  client: Client<Transport, Chain>,
  params: GetPendingSettlementParameters,
  options: { signal?: AbortSignal } = {},
): Promise<GetPendingSettlementReturnType> {
  options.signal?.throwIfAborted()
  return await readContract(client, {
    address: params.address,
    abi: computeMarketAbi,
    functionName: 'pendingSettlement',
    args: [params.leaseId],
  })
}
