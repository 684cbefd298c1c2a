import type { Account, Address, Chain, Client, Hash, TransactionReceipt, Transport } from 'viem'
import { waitForTransactionReceipt, writeContract } from 'viem/actions'
import { ChainError } from '../../errors/chain.ts'
import { verityAbi } from '../abis.ts'

export type SetWeightsParameters = {
  /** The Verity contract. */
  address: Address
  /** subnet */
  netuid: number
  /** target uids */
  uids: readonly number[]
  /** u16 weights */
  values: readonly number[]
  /** weights version key */
  versionKey: bigint
  /** Gas limit (estimated when omitted). */
  gas?: bigint
}

export type SetWeightsReturnType = { hash: Hash; receipt: TransactionReceipt }

export type SetWeightsErrorType = ChainError

/**
 * Sets the caller's weights (subtensor set_weights checks).
 * Waits for the receipt; a revert surfaces as viem's ContractFunctionExecutionError with the
 * decoded custom error.
 *
 * @example
 * const { receipt } = await setWeights(walletClient, { address: devnet.addresses.verity, ... })
 */
export async function setWeights(
  client: Client<Transport, Chain, Account>,
  params: SetWeightsParameters,
  options: { signal?: AbortSignal } = {},
): Promise<SetWeightsReturnType> {
  options.signal?.throwIfAborted()
  const hash = await writeContract(client, {
    address: params.address,
    abi: verityAbi,
    functionName: 'setWeights',
    args: [params.netuid, params.uids, params.values, params.versionKey],
    account: client.account,
    chain: client.chain,
    ...(params.gas === undefined ? {} : { gas: params.gas }),
  })
  const receipt = await waitForTransactionReceipt(client, { hash, pollingInterval: 50 })
  if (receipt.status !== 'success') throw new ChainError(`setWeights: transaction ${hash} reverted`)
  return { hash, receipt }
}
