import type { Account, Address, Chain, Client, Hex, Transport } from 'viem'
import { type PaymentsWriteReturnType, writePayments } from '../payments.ts'

export type FinishCloseChannelParameters = {
  /** The PaymentChannels contract. */
  address: Address
  channelId: Hex
}

export type FinishCloseChannelReturnType = PaymentsWriteReturnType

/**
 * Ends a closing channel once its challenge period is over (anyone): the rest returns to the payer.
 * Waits for the receipt; a revert surfaces as viem's ContractFunctionExecutionError with the
 * decoded custom error.
 *
 * @example
 * await finishCloseChannel(payerWallet, { address: payments, channelId })
 */
export async function finishCloseChannel(
  client: Client<Transport, Chain, Account>,
  params: FinishCloseChannelParameters,
  options: { signal?: AbortSignal } = {},
): Promise<FinishCloseChannelReturnType> {
  return await writePayments(client, params.address, 'finishClose', [params.channelId], options)
}
