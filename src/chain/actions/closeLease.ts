import type { Account, Address, Chain, Client, Transport } from 'viem'
import { type CloseReasonValue, type MarketWriteReturnType, writeMarket } from '../market.ts'

export type CloseLeaseParameters = {
  /** The ComputeMarket contract. */
  address: Address
  leaseId: bigint
  /** TENANT / PROVIDER_GONE (the tenant), PROVIDER (the provider), INSUFFICIENT_FUNDS (anyone, when depleted). */
  reason: CloseReasonValue
}

export type CloseLeaseReturnType = MarketWriteReturnType

/**
 * Closes an active lease after settling it: the provider gets its earnings and bid deposit, the
 * tenant the rest of the escrow. A depleted lease is recorded as INSUFFICIENT_FUNDS whoever closes it.
 * Waits for the receipt; a revert surfaces as viem's ContractFunctionExecutionError with the
 * market's decoded custom error.
 *
 * @example
 * await closeLease(tenantWallet, { address: market, leaseId, reason: CloseReason.TENANT })
 */
export async function closeLease(
  client: Client<Transport, Chain, Account>,
  params: CloseLeaseParameters,
  options: { signal?: AbortSignal } = {},
): Promise<CloseLeaseReturnType> {
  return await writeMarket(
    client,
    params.address,
    'closeLease',
    [params.leaseId, params.reason],
    options,
  )
}
