import type { Account, Address, Chain, Client, Hash, TransactionReceipt, Transport } from 'viem'
import { waitForTransactionReceipt, writeContract } from 'viem/actions'
import { ChainError } from '../../errors/chain.ts'
import { verityAbi } from '../abis.ts'

export type ComputeBondsParameters = {
  /** The Verity contract. */
  address: Address
  /** subnet */
  netuid: number
  /** columns (a multiple of 16 unless last) */
  count: number
  /** Gas limit (estimated when omitted). */
  gas?: bigint
}

export type ComputeBondsReturnType = { hash: Hash; receipt: TransactionReceipt }

export type ComputeBondsErrorType = ChainError

/**
 * Computes bonds and dividends for the next columns.
 * Waits for the receipt; a revert surfaces as viem's ContractFunctionExecutionError with the
 * decoded custom error.
 *
 * @example
 * const { receipt } = await computeBonds(walletClient, { address: devnet.addresses.verity, ... })
 */
export async function computeBonds(
  client: Client<Transport, Chain, Account>,
  params: ComputeBondsParameters,
  options: { signal?: AbortSignal } = {},
): Promise<ComputeBondsReturnType> {
  options.signal?.throwIfAborted()
  const hash = await writeContract(client, {
    address: params.address,
    abi: verityAbi,
    functionName: 'epochBonds',
    args: [params.netuid, params.count],
    account: client.account,
    chain: client.chain,
    ...(params.gas === undefined ? {} : { gas: params.gas }),
  })
  const receipt = await waitForTransactionReceipt(client, { hash, pollingInterval: 50 })
  if (receipt.status !== 'success')
    throw new ChainError(`computeBonds: transaction ${hash} reverted`)
  return { hash, receipt }
}
