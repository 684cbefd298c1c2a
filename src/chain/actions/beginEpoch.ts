import type { Account, Address, Chain, Client, Hash, TransactionReceipt, Transport } from 'viem'
import { waitForTransactionReceipt, writeContract } from 'viem/actions'
import { ChainError } from '../../errors/chain.ts'
import { verityAbi } from '../abis.ts'

export type BeginEpochParameters = {
  /** The Verity contract. */
  address: Address
  /** subnet */
  netuid: number
  /** Gas limit (estimated when omitted). */
  gas?: bigint
}

export type BeginEpochReturnType = { hash: Hash; receipt: TransactionReceipt }

export type BeginEpochErrorType = ChainError

/**
 * Starts a subnet's epoch (first transaction of runEpoch).
 * Waits for the receipt; a revert surfaces as viem's ContractFunctionExecutionError with the
 * decoded custom error.
 *
 * @example
 * const { receipt } = await beginEpoch(walletClient, { address: devnet.addresses.verity, ... })
 */
export async function beginEpoch(
  client: Client<Transport, Chain, Account>,
  params: BeginEpochParameters,
  options: { signal?: AbortSignal } = {},
): Promise<BeginEpochReturnType> {
  options.signal?.throwIfAborted()
  const hash = await writeContract(client, {
    address: params.address,
    abi: verityAbi,
    functionName: 'epochBegin',
    args: [params.netuid],
    account: client.account,
    chain: client.chain,
    ...(params.gas === undefined ? {} : { gas: params.gas }),
  })
  const receipt = await waitForTransactionReceipt(client, { hash, pollingInterval: 50 })
  if (receipt.status !== 'success') throw new ChainError(`beginEpoch: transaction ${hash} reverted`)
  return { hash, receipt }
}
