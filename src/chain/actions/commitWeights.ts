import type {
  Account,
  Address,
  Chain,
  Client,
  Hash,
  Hex,
  TransactionReceipt,
  Transport,
} from 'viem'
import { waitForTransactionReceipt, writeContract } from 'viem/actions'
import { ChainError } from '../../errors/chain.ts'
import { verityAbi } from '../abis.ts'

export type CommitWeightsParameters = {
  /** The Verity contract. */
  address: Address
  /** subnet */
  netuid: number
  /** see computeCommitHash */
  hash: Hex
  /** Gas limit (estimated when omitted). */
  gas?: bigint
}

export type CommitWeightsReturnType = { hash: Hash; receipt: TransactionReceipt }

export type CommitWeightsErrorType = ChainError

/**
 * Commits a weights hash (commit-reveal).
 * Waits for the receipt; a revert surfaces as viem's ContractFunctionExecutionError with the
 * decoded custom error.
 *
 * @example
 * const { receipt } = await commitWeights(walletClient, { address: devnet.addresses.verity, ... })
 */
export async function commitWeights(
  client: Client<Transport, Chain, Account>,
  params: CommitWeightsParameters,
  options: { signal?: AbortSignal } = {},
): Promise<CommitWeightsReturnType> {
  options.signal?.throwIfAborted()
  const hash = await writeContract(client, {
    address: params.address,
    abi: verityAbi,
    functionName: 'commitWeights',
    args: [params.netuid, params.hash],
    account: client.account,
    chain: client.chain,
    ...(params.gas === undefined ? {} : { gas: params.gas }),
  })
  const receipt = await waitForTransactionReceipt(client, { hash, pollingInterval: 50 })
  if (receipt.status !== 'success')
    throw new ChainError(`commitWeights: transaction ${hash} reverted`)
  return { hash, receipt }
}
