import type { Account, Address, Chain, Client, Hash, TransactionReceipt, Transport } from 'viem'
import { waitForTransactionReceipt, writeContract } from 'viem/actions'
import { ChainError } from '../../errors/chain.ts'
import { verityAbi } from '../abis.ts'

export type SlashStakeParameters = {
  /** The Verity contract. */
  address: Address
  /** hotkey */
  hotkey: Address
  /** VTY base units */
  amount: bigint
  /** receives the slashed amount */
  recipient: Address
  /** Gas limit (estimated when omitted). */
  gas?: bigint
}

export type SlashStakeReturnType = { hash: Hash; receipt: TransactionReceipt }

export type SlashStakeErrorType = ChainError

/**
 * Slashes a hotkey's stake to a recipient (slasher only).
 * Waits for the receipt; a revert surfaces as viem's ContractFunctionExecutionError with the
 * decoded custom error.
 *
 * @example
 * const { receipt } = await slashStake(walletClient, { address: devnet.addresses.verity, ... })
 */
export async function slashStake(
  client: Client<Transport, Chain, Account>,
  params: SlashStakeParameters,
  options: { signal?: AbortSignal } = {},
): Promise<SlashStakeReturnType> {
  options.signal?.throwIfAborted()
  const hash = await writeContract(client, {
    address: params.address,
    abi: verityAbi,
    functionName: 'slash',
    args: [params.hotkey, params.amount, params.recipient],
    account: client.account,
    chain: client.chain,
    ...(params.gas === undefined ? {} : { gas: params.gas }),
  })
  const receipt = await waitForTransactionReceipt(client, { hash, pollingInterval: 50 })
  if (receipt.status !== 'success') throw new ChainError(`slashStake: transaction ${hash} reverted`)
  return { hash, receipt }
}
