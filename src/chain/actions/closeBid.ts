import type { Account, Address, Chain, Client, Transport } from 'viem'
import { type MarketWriteReturnType, writeMarket } from '../market.ts'

export type CloseBidParameters = {
  /** The ComputeMarket contract. */
  address: Address
  bidId: bigint
}

export type CloseBidReturnType = MarketWriteReturnType

/**
 * Closes an open bid and returns its deposit: its provider may at any time, anyone once the
 * order's bid window has passed.
 * Waits for the receipt; a revert surfaces as viem's ContractFunctionExecutionError with the
 * market's decoded custom error.
 *
 * @example
 * await closeBid(anyWallet, { address: market, bidId })
 */
export async function closeBid(
  client: Client<Transport, Chain, Account>,
  params: CloseBidParameters,
  options: { signal?: AbortSignal } = {},
): Promise<CloseBidReturnType> {
  return await writeMarket(client, params.address, 'closeBid', [params.bidId], options)
}
