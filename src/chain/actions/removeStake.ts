import type { Account, Address, Chain, Client, Hash, TransactionReceipt, Transport } from 'viem'
import { waitForTransactionReceipt, writeContract } from 'viem/actions'
import { ChainError } from '../../errors/chain.ts'
import { verityAbi } from '../abis.ts'

export type RemoveStakeParameters = {
  /** The Verity contract. */
  address: Address
  /** subnet the stake is on */
  netuid: number
  /** hotkey */
  hotkey: Address
  /** VTY base units */
  amount: bigint
  /** Gas limit (estimated when omitted). */
  gas?: bigint
}

export type RemoveStakeReturnType = { hash: Hash; receipt: TransactionReceipt }

export type RemoveStakeErrorType = ChainError

/**
 * Unstakes from a hotkey on a subnet: a new withdrawal that unlocks after the unstake delay
 * (earlier withdrawals keep their own unlock), slashable by a dispute until then.
 * Waits for the receipt; a revert surfaces as viem's ContractFunctionExecutionError with the
 * decoded custom error.
 *
 * @example
 * const { receipt } = await removeStake(walletClient, { address: devnet.addresses.verity, ... })
 */
export async function removeStake(
  client: Client<Transport, Chain, Account>,
  params: RemoveStakeParameters,
  options: { signal?: AbortSignal } = {},
): Promise<RemoveStakeReturnType> {
  options.signal?.throwIfAborted()
  const hash = await writeContract(client, {
    address: params.address,
    abi: verityAbi,
    functionName: 'unstake',
    args: [params.netuid, params.hotkey, params.amount],
    account: client.account,
    chain: client.chain,
    ...(params.gas === undefined ? {} : { gas: params.gas }),
  })
  const receipt = await waitForTransactionReceipt(client, { hash, pollingInterval: 50 })
  if (receipt.status !== 'success')
    throw new ChainError(`removeStake: transaction ${hash} reverted`)
  return { hash, receipt }
}
