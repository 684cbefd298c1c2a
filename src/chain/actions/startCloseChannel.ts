import type { Account, Address, Chain, Client, Hex, Transport } from 'viem'
import { type PaymentsWriteReturnType, writePayments } from '../payments.ts'

export type StartCloseChannelParameters = {
  /** The PaymentChannels contract. */
  address: Address
  channelId: Hex
}

export type StartCloseChannelReturnType = PaymentsWriteReturnType

/**
 * The payer or the miner starts closing a channel: the miner may still settle for the challenge period.
 * Waits for the receipt; a revert surfaces as viem's ContractFunctionExecutionError with the
 * decoded custom error.
 *
 * @example
 * await startCloseChannel(payerWallet, { address: payments, channelId })
 */
export async function startCloseChannel(
  client: Client<Transport, Chain, Account>,
  params: StartCloseChannelParameters,
  options: { signal?: AbortSignal } = {},
): Promise<StartCloseChannelReturnType> {
  return await writePayments(client, params.address, 'startClose', [params.channelId], options)
}
