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

export type PlaceBidParameters = {
  /** The ComputeMarket contract. */
  address: Address
  orderId: bigint
  /** At most the order's ceiling. */
  pricePerBlock: bigint
}

export type PlaceBidReturnType = MarketWriteReturnType & { bidId: bigint }

/**
 * Bids on an open order as a registered provider whose attributes (and auditors' signatures)
 * meet its placement; locks the market's bid deposit from the caller's approved VTY.
 * Waits for the receipt; a revert surfaces as viem's ContractFunctionExecutionError with the
 * market's decoded custom error.
 *
 * @example
 * const { bidId } = await placeBid(providerWallet, { address: market, orderId, pricePerBlock: 1000n })
 */
export async function placeBid(
  client: Client<Transport, Chain, Account>,
  params: PlaceBidParameters,
  options: { signal?: AbortSignal } = {},
): Promise<PlaceBidReturnType> {
  const sent = await writeMarket(
    client,
    params.address,
    'placeBid',
    [params.orderId, params.pricePerBlock],
    options,
  )
  const log = parseEventLogs({
    abi: computeMarketAbi,
    logs: sent.receipt.logs,
    eventName: 'BidPlaced',
  })[0]
  if (!log) throw new ChainError('placeBid: no BidPlaced event in the receipt')
  return { ...sent, bidId: log.args.bidId }
}
