import type { Account, Address, Chain, Client, Hex, Transport } from 'viem'
import { type PaymentsWriteReturnType, writePayments } from '../payments.ts'

export type TopUpChannelParameters = {
  /** The PaymentChannels contract. */
  address: Address
  channelId: Hex
  /** VTY added (approved first; 0 to only extend the expiry). */
  amount: bigint
  /** The new expiry, at least the current one. */
  expiry: bigint
}

export type TopUpChannelReturnType = PaymentsWriteReturnType

/**
 * The payer adds VTY to an open channel and may push its expiry later (pass the current one to keep it).
 * Waits for the receipt; a revert surfaces as viem's ContractFunctionExecutionError with the
 * decoded custom error.
 *
 * @example
 * await topUpChannel(payerWallet, { address: payments, channelId, amount: parseEther('5'), expiry })
 */
export async function topUpChannel(
  client: Client<Transport, Chain, Account>,
  params: TopUpChannelParameters,
  options: { signal?: AbortSignal } = {},
): Promise<TopUpChannelReturnType> {
  return await writePayments(
    client,
    params.address,
    'topUp',
    [params.channelId, params.amount, params.expiry],
    options,
  )
}
