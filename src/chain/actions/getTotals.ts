import type { Address, Chain, Client, ContractFunctionReturnType, Transport } from 'viem'
import { readContract } from 'viem/actions'
import { verityAbi } from '../abis.ts'

export type GetTotalsParameters = {
  /** The Verity contract. */
  address: Address
}

export type GetTotalsReturnType = ContractFunctionReturnType<typeof verityAbi, 'view', 'totals'>

/**
 * Reads the protocol's accounting totals.
 *
 * @example
 * const value = await getTotals(publicClient, { address: devnet.addresses.verity, ... })
 */
export async function getTotals(
  client: Client<Transport, Chain>,
  params: GetTotalsParameters,
  options: { signal?: AbortSignal } = {},
): Promise<GetTotalsReturnType> {
  options.signal?.throwIfAborted()
  return await readContract(client, {
    address: params.address,
    abi: verityAbi,
    functionName: 'totals',
    args: [],
  })
}
