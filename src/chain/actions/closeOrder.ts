import type { Account, Address, Chain, Client, Transport } from 'viem'
import { type MarketWriteReturnType, writeMarket } from '../market.ts'

export type CloseOrderParameters = {
  /** The ComputeMarket contract. */
  address: Address
  orderId: bigint
}

export type CloseOrderReturnType = MarketWriteReturnType

/**
 * Closes an order without a lease: its open bids close (deposits returned) and its escrow returns
 * to the tenant. The tenant may at any time, anyone once the bid window has passed.
 * Waits for the receipt; a revert surfaces as viem's ContractFunctionExecutionError with the
 * market's decoded custom error.
 *
 * @example
 * await closeOrder(tenantWallet, { address: market, orderId })
 */
export async function closeOrder(
  client: Client<Transport, Chain, Account>,
  params: CloseOrderParameters,
  options: { signal?: AbortSignal } = {},
): Promise<CloseOrderReturnType> {
  return await writeMarket(client, params.address, 'closeOrder', [params.orderId], options)
}
