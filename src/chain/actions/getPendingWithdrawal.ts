import type { Address, Chain, Client, ContractFunctionReturnType, Transport } from 'viem'
import { readContract } from 'viem/actions'
import { verityAbi } from '../abis.ts'

export type GetPendingWithdrawalParameters = {
  /** The Verity contract. */
  address: Address
  /** coldkey */
  coldkey: Address
}

export type GetPendingWithdrawalReturnType = ContractFunctionReturnType<
  typeof verityAbi,
  'view',
  'pendingWithdrawal'
>

/**
 * Reads a coldkey's pending withdrawals: still locked, already unlocked, and the next unlock.
 *
 * @example
 * const value = await getPendingWithdrawal(publicClient, { address: devnet.addresses.verity, ... })
 */
export async function getPendingWithdrawal(
  client: Client<Transport, Chain>,
  params: GetPendingWithdrawalParameters,
  options: { signal?: AbortSignal } = {},
): Promise<GetPendingWithdrawalReturnType> {
  options.signal?.throwIfAborted()
  return await readContract(client, {
    address: params.address,
    abi: verityAbi,
    functionName: 'pendingWithdrawal',
    args: [params.coldkey],
  })
}
