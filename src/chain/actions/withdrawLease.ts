import type { Account, Address, Chain, Client, Transport } from 'viem'
import { type MarketWriteReturnType, writeMarket } from '../market.ts'

export type WithdrawLeaseParameters = {
  /** The ComputeMarket contract. */
  address: Address
  leaseId: bigint
  /** At most what the lease has earned once settled (see getPendingSettlement). */
  amount: bigint
}

export type WithdrawLeaseReturnType = MarketWriteReturnType

/**
 * The provider withdraws part of what a lease has earned (settled first). If the escrow turns out
 * depleted the lease closes for insufficient funds and the rest is paid too.
 * Waits for the receipt; a revert surfaces as viem's ContractFunctionExecutionError with the
 * market's decoded custom error.
 *
 * @example
 * await withdrawLease(providerWallet, { address: market, leaseId, amount })
 */
export async function withdrawLease(
  client: Client<Transport, Chain, Account>,
  params: WithdrawLeaseParameters,
  options: { signal?: AbortSignal } = {},
): Promise<WithdrawLeaseReturnType> {
  return await writeMarket(
    client,
    params.address,
    'withdrawLease',
    [params.leaseId, params.amount],
    options,
  )
}
