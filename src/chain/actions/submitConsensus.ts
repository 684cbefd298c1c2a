import type { Account, Address, Chain, Client, Hash, TransactionReceipt, Transport } from 'viem'
import { waitForTransactionReceipt, writeContract } from 'viem/actions'
import { ChainError } from '../../errors/chain.ts'
import { verityAbi } from '../abis.ts'

export type SubmitConsensusParameters = {
  /** The Verity contract. */
  address: Address
  /** subnet */
  netuid: number
  /** weighted medians (I32F32 bits) of the next columns */
  medians: readonly bigint[]
  /** Gas limit (estimated when omitted). */
  gas?: bigint
}

export type SubmitConsensusReturnType = { hash: Hash; receipt: TransactionReceipt }

export type SubmitConsensusErrorType = ChainError

/**
 * Submits the next columns' weighted medians; the contract checks them exactly.
 * Waits for the receipt; a revert surfaces as viem's ContractFunctionExecutionError with the
 * decoded custom error.
 *
 * @example
 * const { receipt } = await submitConsensus(walletClient, { address: devnet.addresses.verity, ... })
 */
export async function submitConsensus(
  client: Client<Transport, Chain, Account>,
  params: SubmitConsensusParameters,
  options: { signal?: AbortSignal } = {},
): Promise<SubmitConsensusReturnType> {
  options.signal?.throwIfAborted()
  const hash = await writeContract(client, {
    address: params.address,
    abi: verityAbi,
    functionName: 'epochConsensus',
    args: [params.netuid, params.medians],
    account: client.account,
    chain: client.chain,
    ...(params.gas === undefined ? {} : { gas: params.gas }),
  })
  const receipt = await waitForTransactionReceipt(client, { hash, pollingInterval: 50 })
  if (receipt.status !== 'success')
    throw new ChainError(`submitConsensus: transaction ${hash} reverted`)
  return { hash, receipt }
}
