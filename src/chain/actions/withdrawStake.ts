import type { Account, Address, Chain, Client, Hash, TransactionReceipt, Transport } from 'viem'
import { waitForTransactionReceipt, writeContract } from 'viem/actions'
import { ChainError } from '../../errors/chain.ts'
import { verityAbi } from '../abis.ts'

export type WithdrawStakeParameters = {
  /** The Verity contract. */
  address: Address
  /** recipient */
  to: Address
  /** Gas limit (estimated when omitted). */
  gas?: bigint
}

export type WithdrawStakeReturnType = { hash: Hash; receipt: TransactionReceipt }

export type WithdrawStakeErrorType = ChainError

/**
 * Withdraws the caller's unlocked unstaked tokens.
 * Waits for the receipt; a revert surfaces as viem's ContractFunctionExecutionError with the
 * decoded custom error.
 *
 * @example
 * const { receipt } = await withdrawStake(walletClient, { address: devnet.addresses.verity, ... })
 */
export async function withdrawStake(
  client: Client<Transport, Chain, Account>,
  params: WithdrawStakeParameters,
  options: { signal?: AbortSignal } = {},
): Promise<WithdrawStakeReturnType> {
  options.signal?.throwIfAborted()
  const hash = await writeContract(client, {
    address: params.address,
    abi: verityAbi,
    functionName: 'withdraw',
    args: [params.to],
    account: client.account,
    chain: client.chain,
    ...(params.gas === undefined ? {} : { gas: params.gas }),
  })
  const receipt = await waitForTransactionReceipt(client, { hash, pollingInterval: 50 })
  if (receipt.status !== 'success')
    throw new ChainError(`withdrawStake: transaction ${hash} reverted`)
  return { hash, receipt }
}
