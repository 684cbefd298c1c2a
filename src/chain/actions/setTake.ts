import type { Account, Address, Chain, Client, Hash, TransactionReceipt, Transport } from 'viem'
import { waitForTransactionReceipt, writeContract } from 'viem/actions'
import { ChainError } from '../../errors/chain.ts'
import { verityAbi } from '../abis.ts'

export type SetTakeParameters = {
  /** The Verity contract. */
  address: Address
  /** u16 ratio /65535 */
  take: number
  /** Gas limit (estimated when omitted). */
  gas?: bigint
}

export type SetTakeReturnType = { hash: Hash; receipt: TransactionReceipt }

export type SetTakeErrorType = ChainError

/**
 * Sets the caller's (hotkey's) take of its emission, at most 18% (11796/65535); a decrease
 * applies at once, an increase after the unstake delay.
 * Waits for the receipt; a revert surfaces as viem's ContractFunctionExecutionError with the
 * decoded custom error.
 *
 * @example
 * const { receipt } = await setTake(walletClient, { address: devnet.addresses.verity, ... })
 */
export async function setTake(
  client: Client<Transport, Chain, Account>,
  params: SetTakeParameters,
  options: { signal?: AbortSignal } = {},
): Promise<SetTakeReturnType> {
  options.signal?.throwIfAborted()
  const hash = await writeContract(client, {
    address: params.address,
    abi: verityAbi,
    functionName: 'setTake',
    args: [params.take],
    account: client.account,
    chain: client.chain,
    ...(params.gas === undefined ? {} : { gas: params.gas }),
  })
  const receipt = await waitForTransactionReceipt(client, { hash, pollingInterval: 50 })
  if (receipt.status !== 'success') throw new ChainError(`setTake: transaction ${hash} reverted`)
  return { hash, receipt }
}
