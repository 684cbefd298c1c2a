import type { Account, Address, Chain, Client, Hex, Transport } from 'viem'
import { type PaymentsWriteReturnType, writePayments } from '../payments.ts'

export type SettleChannelParameters = {
  /** The PaymentChannels contract. */
  address: Address
  channelId: Hex
  /** The voucher's cumulative amount. */
  cumulativeAmount: bigint
  /** The receipt digest the voucher is bound to. */
  receiptDigest: Hex
  /** The payer's EIP-712 signature (src/verify/voucher.ts). */
  signature: Hex
}

export type SettleChannelReturnType = PaymentsWriteReturnType

/**
 * The miner redeems the payer's voucher: it is paid min(cumulativeAmount, deposit) minus what it was already paid. Stale, forged, other-channel and voided vouchers revert by name.
 * Waits for the receipt; a revert surfaces as viem's ContractFunctionExecutionError with the
 * decoded custom error.
 *
 * @example
 * await settleChannel(minerWallet, { address: payments, ...book.latest(channelId) })
 */
export async function settleChannel(
  client: Client<Transport, Chain, Account>,
  params: SettleChannelParameters,
  options: { signal?: AbortSignal } = {},
): Promise<SettleChannelReturnType> {
  return await writePayments(
    client,
    params.address,
    'settle',
    [params.channelId, params.cumulativeAmount, params.receiptDigest, params.signature],
    options,
  )
}
