import type { Account, Address, Chain, Client, Hash, TransactionReceipt, Transport } from 'viem'
import { waitForTransactionReceipt, writeContract } from 'viem/actions'
import { ChainError } from '../../errors/chain.ts'
import { verityAbi } from '../abis.ts'

export type AbortEpochParameters = {
  /** The Verity contract. */
  address: Address
  /** subnet */
  netuid: number
  /** Gas limit (estimated when omitted). */
  gas?: bigint
}

export type AbortEpochReturnType = { hash: Hash; receipt: TransactionReceipt }

export type AbortEpochErrorType = ChainError

/**
 * Aborts an epoch stuck in its consensus stage past the protocol's epoch deadline (anyone).
 * Waits for the receipt; a revert surfaces as viem's ContractFunctionExecutionError with the
 * decoded custom error.
 *
 * @example
 * const { receipt } = await abortEpoch(walletClient, { address: devnet.addresses.verity, ... })
 */
export async function abortEpoch(
  client: Client<Transport, Chain, Account>,
  params: AbortEpochParameters,
  options: { signal?: AbortSignal } = {},
): Promise<AbortEpochReturnType> {
  options.signal?.throwIfAborted()
  const hash = await writeContract(client, {
    address: params.address,
    abi: verityAbi,
    functionName: 'epochAbort',
    args: [params.netuid],
    account: client.account,
    chain: client.chain,
    ...(params.gas === undefined ? {} : { gas: params.gas }),
  })
  const receipt = await waitForTransactionReceipt(client, { hash, pollingInterval: 50 })
  if (receipt.status !== 'success') throw new ChainError(`abortEpoch: transaction ${hash} reverted`)
  return { hash, receipt }
}
