import type { Address, Chain, Client, ContractFunctionReturnType, Transport } from 'viem'
import { readContract } from 'viem/actions'
import { verityAbi } from '../abis.ts'

export type GetBondsParameters = {
  /** The Verity contract. */
  address: Address
  /** subnet */
  netuid: number
  /** uid */
  uid: number
}

export type GetBondsReturnType = ContractFunctionReturnType<typeof verityAbi, 'view', 'bondsOf'>

/**
 * Reads a stored bond row (u16 per uid).
 *
 * @example
 * const value = await getBonds(publicClient, { address: devnet.addresses.verity, ... })
 */
export async function getBonds(
  client: Client<Transport, Chain>,
  params: GetBondsParameters,
  options: { signal?: AbortSignal } = {},
): Promise<GetBondsReturnType> {
  options.signal?.throwIfAborted()
  return await readContract(client, {
    address: params.address,
    abi: verityAbi,
    functionName: 'bondsOf',
    args: [params.netuid, params.uid],
  })
}
