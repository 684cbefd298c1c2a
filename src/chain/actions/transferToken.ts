import type { Account, Address, Chain, Client, Hash, TransactionReceipt, Transport } from 'viem'
import { waitForTransactionReceipt, writeContract } from 'viem/actions'
import { ChainError } from '../../errors/chain.ts'
import { verityTokenAbi } from '../abis.ts'

export type TransferTokenParameters = {
  /** The VTY token. */
  token: Address
  to: Address
  amount: bigint
}

export type TransferTokenReturnType = { hash: Hash; receipt: TransactionReceipt }

export type TransferTokenErrorType = ChainError

/**
 * Transfers the caller's VTY.
 *
 * @example
 * await transferToken(wallet, { token: devnet.addresses.token, to, amount })
 */
export async function transferToken(
  client: Client<Transport, Chain, Account>,
  params: TransferTokenParameters,
  options: { signal?: AbortSignal } = {},
): Promise<TransferTokenReturnType> {
  options.signal?.throwIfAborted()
  const hash = await writeContract(client, {
    address: params.token,
    abi: verityTokenAbi,
    functionName: 'transfer',
    args: [params.to, params.amount],
    account: client.account,
    chain: client.chain,
  })
  const receipt = await waitForTransactionReceipt(client, { hash, pollingInterval: 50 })
  if (receipt.status !== 'success') throw new ChainError(`transferToken: ${hash} reverted`)
  return { hash, receipt }
}
