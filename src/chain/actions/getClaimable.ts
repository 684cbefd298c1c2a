import type { Address, Chain, Client, ContractFunctionReturnType, Transport } from 'viem'
import { readContract } from 'viem/actions'
import { verityAbi } from '../abis.ts'

export type GetClaimableParameters = {
  /** The Verity contract. */
  address: Address
  /** account */
  account: Address
}

export type GetClaimableReturnType = ContractFunctionReturnType<
  typeof verityAbi,
  'view',
  'claimable'
>

/**
 * Reads an account's claimable emission.
 *
 * @example
 * const value = await getClaimable(publicClient, { address: devnet.addresses.verity, ... })
 */
export async function getClaimable(
  client: Client<Transport, Chain>,
  params: GetClaimableParameters,
  options: { signal?: AbortSignal } = {},
): Promise<GetClaimableReturnType> {
  options.signal?.throwIfAborted()
  return await readContract(client, {
    address: params.address,
    abi: verityAbi,
    functionName: 'claimable',
    args: [params.account],
  })
}
