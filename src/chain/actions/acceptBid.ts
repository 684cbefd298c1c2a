import {
  type Account,
  type Address,
  type Chain,
  type Client,
  parseEventLogs,
  type Transport,
} from 'viem'
import { ChainError } from '../../errors/chain.ts'
import { computeMarketAbi } from '../abis.ts'
import { type MarketWriteReturnType, writeMarket } from '../market.ts'

export type AcceptBidParameters = {
  /** The ComputeMarket contract. */
  address: Address
  bidId: bigint
}

export type AcceptBidReturnType = MarketWriteReturnType & { leaseId: bigint }

/**
 * The tenant accepts an open bid within the bid window; the lease (same id as the bid) starts at
 * the bid's price and every other open bid is lost, its deposit returned.
 * Waits for the receipt; a revert surfaces as viem's ContractFunctionExecutionError with the
 * market's decoded custom error.
 *
 * @example
 * const { leaseId } = await acceptBid(tenantWallet, { address: market, bidId })
 */
export async function acceptBid(
  client: Client<Transport, Chain, Account>,
  params: AcceptBidParameters,
  options: { signal?: AbortSignal } = {},
): Promise<AcceptBidReturnType> {
  const sent = await writeMarket(client, params.address, 'acceptBid', [params.bidId], options)
  const log = parseEventLogs({
    abi: computeMarketAbi,
    logs: sent.receipt.logs,
    eventName: 'LeaseCreated',
  })[0]
  if (!log) throw new ChainError('acceptBid: no LeaseCreated event in the receipt')
  return { ...sent, leaseId: log.args.leaseId }
}
