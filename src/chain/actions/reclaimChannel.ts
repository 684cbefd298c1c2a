import type { Account, Address, Chain, Client, Hex, Transport } from 'viem'
import { type PaymentsWriteReturnType, writePayments } from '../payments.ts'

export type ReclaimChannelParameters = {
  /** The PaymentChannels contract. */
  address: Address
  channelId: Hex
}

export type ReclaimChannelReturnType = PaymentsWriteReturnType

/**
 * Ends a channel once its expiry and settle grace are over (anyone): the rest returns to the payer.
 * Waits for the receipt; a revert surfaces as viem's ContractFunctionExecutionError with the
 * decoded custom error.
 *
 * @example
 * await reclaimChannel(payerWallet, { address: payments, channelId })
 */
export async function reclaimChannel(
  client: Client<Transport, Chain, Account>,
  params: ReclaimChannelParameters,
  options: { signal?: AbortSignal } = {},
): Promise<ReclaimChannelReturnType> {
  return await writePayments(client, params.address, 'reclaim', [params.channelId], options)
}
