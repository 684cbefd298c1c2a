import type { Account, Address, Chain, Client, Hash, TransactionReceipt, Transport } from 'viem'
import { waitForTransactionReceipt, writeContract } from 'viem/actions'
import { ChainError } from '../../errors/chain.ts'
import { verityTokenAbi } from '../abis.ts'

export type ApproveTokenParameters = {
  /** The VTY token. */
  token: Address
  spender: Address
  amount: bigint
}

export type ApproveTokenReturnType = { hash: Hash; receipt: TransactionReceipt }

export type ApproveTokenErrorType = ChainError

/**
 * Approves `spender` (usually the Verity contract) to move the caller's VTY.
 *
 * @example
 * await approveToken(wallet, { token: devnet.addresses.token, spender: devnet.addresses.verity, amount })
 */
export async function approveToken(
  client: Client<Transport, Chain, Account>,
  params: ApproveTokenParameters,
  options: { signal?: AbortSignal } = {},
): Promise<ApproveTokenReturnType> {
  options.signal?.throwIfAborted()
  const hash = await writeContract(client, {
    address: params.token,
    abi: verityTokenAbi,
    functionName: 'approve',
    args: [params.spender, params.amount],
    account: client.account,
    chain: client.chain,
  })
  const receipt = await waitForTransactionReceipt(client, { hash, pollingInterval: 50 })
  if (receipt.status !== 'success') throw new ChainError(`approveToken: ${hash} reverted`)
  return { hash, receipt }
}
