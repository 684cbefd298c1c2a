import type { Account, Address, Chain, Client, Hash, TransactionReceipt, Transport } from 'viem'
import { waitForTransactionReceipt, writeContract } from 'viem/actions'
import { ChainError } from '../../errors/chain.ts'
import { verityAbi } from '../abis.ts'

export type FinishEpochParameters = {
  /** The Verity contract. */
  address: Address
  /** subnet */
  netuid: number
  /** uids in this chunk (the last chunk ends the epoch) */
  count: number
  /** Gas limit (estimated when omitted). */
  gas?: bigint
}

export type FinishEpochReturnType = { hash: Hash; receipt: TransactionReceipt }

export type FinishEpochErrorType = ChainError

/**
 * Finishes the epoch: emission split, outputs, claimable balances.
 * Waits for the receipt; a revert surfaces as viem's ContractFunctionExecutionError with the
 * decoded custom error.
 *
 * @example
 * const { receipt } = await finishEpoch(walletClient, { address: devnet.addresses.verity, ... })
 */
export async function finishEpoch(
  client: Client<Transport, Chain, Account>,
  params: FinishEpochParameters,
  options: { signal?: AbortSignal } = {},
): Promise<FinishEpochReturnType> {
  options.signal?.throwIfAborted()
  const hash = await writeContract(client, {
    address: params.address,
    abi: verityAbi,
    functionName: 'epochFinish',
    args: [params.netuid, params.count],
    account: client.account,
    chain: client.chain,
    ...(params.gas === undefined ? {} : { gas: params.gas }),
  })
  const receipt = await waitForTransactionReceipt(client, { hash, pollingInterval: 50 })
  if (receipt.status !== 'success')
    throw new ChainError(`finishEpoch: transaction ${hash} reverted`)
  return { hash, receipt }
}
