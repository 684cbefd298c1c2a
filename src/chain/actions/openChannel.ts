import {
  type Account,
  type Address,
  type Chain,
  type Client,
  type Hex,
  parseEventLogs,
  type Transport,
} from 'viem'
import { ChainError } from '../../errors/chain.ts'
import { paymentChannelsAbi } from '../abis.ts'
import { type PaymentsWriteReturnType, writePayments } from '../payments.ts'

export type OpenChannelParameters = {
  /** The PaymentChannels contract. */
  address: Address
  /** The miner the channel pays. */
  miner: Address
  /** VTY locked in the channel (approved to the contract first). */
  deposit: bigint
  /** The block after which the payer may reclaim the rest (the miner keeps settleGrace more). */
  expiry: bigint
}

export type OpenChannelReturnType = PaymentsWriteReturnType & { channelId: Hex }

/**
 * The payer opens a channel to a miner with a deposit of its approved VTY.
 * Waits for the receipt; a revert surfaces as viem's ContractFunctionExecutionError with the
 * decoded custom error.
 *
 * @example
 * const { channelId } = await openChannel(payerWallet, { address: payments, miner, deposit: parseEther('10'), expiry: 10_000n })
 */
export async function openChannel(
  client: Client<Transport, Chain, Account>,
  params: OpenChannelParameters,
  options: { signal?: AbortSignal } = {},
): Promise<OpenChannelReturnType> {
  const sent = await writePayments(
    client,
    params.address,
    'open',
    [params.miner, params.deposit, params.expiry],
    options,
  )
  const log = parseEventLogs({
    abi: paymentChannelsAbi,
    logs: sent.receipt.logs,
    eventName: 'ChannelOpened',
  })[0]
  if (!log) throw new ChainError('openChannel: no ChannelOpened event in the receipt')
  return { ...sent, channelId: log.args.channelId }
}
