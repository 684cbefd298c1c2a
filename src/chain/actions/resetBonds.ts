import type { Account, Address, Chain, Client, Hash, TransactionReceipt, Transport } from 'viem'
import { waitForTransactionReceipt, writeContract } from 'viem/actions'
import { ChainError } from '../../errors/chain.ts'
import { verityAbi } from '../abis.ts'

export type ResetBondsParameters = {
  /** The Verity contract. */
  address: Address
  /** subnet */
  netuid: number
  /** Gas limit (estimated when omitted). */
  gas?: bigint
}

export type ResetBondsReturnType = { hash: Hash; receipt: TransactionReceipt }

export type ResetBondsErrorType = ChainError

/**
 * Removes the caller's bond column (when the subnet has bondsResetOn).
 * Waits for the receipt; a revert surfaces as viem's ContractFunctionExecutionError with the
 * decoded custom error.
 *
 * @example
 * const { receipt } = await resetBonds(walletClient, { address: devnet.addresses.verity, ... })
 */
export async function resetBonds(
  client: Client<Transport, Chain, Account>,
  params: ResetBondsParameters,
  options: { signal?: AbortSignal } = {},
): Promise<ResetBondsReturnType> {
  options.signal?.throwIfAborted()
  const hash = await writeContract(client, {
    address: params.address,
    abi: verityAbi,
    functionName: 'resetBonds',
    args: [params.netuid],
    account: client.account,
    chain: client.chain,
    ...(params.gas === undefined ? {} : { gas: params.gas }),
  })
  const receipt = await waitForTransactionReceipt(client, { hash, pollingInterval: 50 })
  if (receipt.status !== 'success') throw new ChainError(`resetBonds: transaction ${hash} reverted`)
  return { hash, receipt }
}
