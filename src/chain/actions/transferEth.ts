import type { Account, Address, Chain, Client, Hash, TransactionReceipt, Transport } from 'viem'
import { sendTransaction, waitForTransactionReceipt } from 'viem/actions'
import { ChainError } from '../../errors/chain.ts'

export type TransferEthParameters = {
  to: Address
  /** wei */
  amount: bigint
}

export type TransferEthReturnType = { hash: Hash; receipt: TransactionReceipt }

export type TransferEthErrorType = ChainError

/**
 * Sends the caller's ETH (gas money, e.g. for a hotkey that registers or sets weights).
 *
 * @example
 * await transferEth(wallet, { to: hotkey, amount: parseEther('0.1') })
 */
export async function transferEth(
  client: Client<Transport, Chain, Account>,
  params: TransferEthParameters,
  options: { signal?: AbortSignal } = {},
): Promise<TransferEthReturnType> {
  options.signal?.throwIfAborted()
  const hash = await sendTransaction(client, {
    to: params.to,
    value: params.amount,
    account: client.account,
    chain: client.chain,
  })
  const receipt = await waitForTransactionReceipt(client, { hash, pollingInterval: 50 })
  if (receipt.status !== 'success') throw new ChainError(`transferEth: ${hash} reverted`)
  return { hash, receipt }
}
