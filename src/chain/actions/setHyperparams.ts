import type { Account, Address, Chain, Client, Hash, TransactionReceipt, Transport } from 'viem'
import { waitForTransactionReceipt, writeContract } from 'viem/actions'
import { ChainError } from '../../errors/chain.ts'
import { verityAbi } from '../abis.ts'
import type { Hyperparams } from '../types.ts'

export type SetHyperparamsParameters = {
  /** The Verity contract. */
  address: Address
  /** subnet */
  netuid: number
  /** new hyperparameters */
  params: Hyperparams
  /** Gas limit (estimated when omitted). */
  gas?: bigint
}

export type SetHyperparamsReturnType = { hash: Hash; receipt: TransactionReceipt }

export type SetHyperparamsErrorType = ChainError

/**
 * Proposes new hyperparameters for a subnet (its owner only); they apply at the begin of the
 * epoch after next (epoch index + 1), bounded by the protocol (see docs/SECURITY.md).
 * Waits for the receipt; a revert surfaces as viem's ContractFunctionExecutionError with the
 * decoded custom error.
 *
 * @example
 * const { receipt } = await setHyperparams(walletClient, { address: devnet.addresses.verity, ... })
 */
export async function setHyperparams(
  client: Client<Transport, Chain, Account>,
  params: SetHyperparamsParameters,
  options: { signal?: AbortSignal } = {},
): Promise<SetHyperparamsReturnType> {
  options.signal?.throwIfAborted()
  const hash = await writeContract(client, {
    address: params.address,
    abi: verityAbi,
    functionName: 'setHyperparams',
    args: [params.netuid, params.params],
    account: client.account,
    chain: client.chain,
    ...(params.gas === undefined ? {} : { gas: params.gas }),
  })
  const receipt = await waitForTransactionReceipt(client, { hash, pollingInterval: 50 })
  if (receipt.status !== 'success')
    throw new ChainError(`setHyperparams: transaction ${hash} reverted`)
  return { hash, receipt }
}
