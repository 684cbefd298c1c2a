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
import { type MarketWriteReturnType, type OrderSpec, orderParams, writeMarket } from '../market.ts'

export type CreateOrderParameters = {
  /** The ComputeMarket contract. */
  address: Address
  /** The deployment: spec hash, resources, price ceiling per block, bid window, placement. */
  order: OrderSpec
  /** The escrow it opens with (approved to the market first). */
  deposit: bigint
}

export type CreateOrderReturnType = MarketWriteReturnType & { orderId: bigint }

/**
 * Opens an order (one deployment) and its escrow, funded from the caller's approved VTY.
 * Waits for the receipt; a revert surfaces as viem's ContractFunctionExecutionError with the
 * market's decoded custom error.
 *
 * @example
 * const { orderId } = await createOrder(tenantWallet, { address: market, order, deposit: parseEther('10') })
 */
export async function createOrder(
  client: Client<Transport, Chain, Account>,
  params: CreateOrderParameters,
  options: { signal?: AbortSignal } = {},
): Promise<CreateOrderReturnType> {
  const sent = await writeMarket(
    client,
    params.address,
    'createOrder',
    [orderParams(params.order), params.deposit],
    options,
  )
  const log = parseEventLogs({
    abi: computeMarketAbi,
    logs: sent.receipt.logs,
    eventName: 'OrderCreated',
  })[0]
  if (!log) throw new ChainError('createOrder: no OrderCreated event in the receipt')
  return { ...sent, orderId: log.args.orderId }
}
