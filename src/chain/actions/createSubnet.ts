import type { Account, Address, Chain, Client, Hash, TransactionReceipt, Transport } from 'viem'
import {
  readContract,
  simulateContract,
  waitForTransactionReceipt,
  writeContract,
} from 'viem/actions'
import { ChainError } from '../../errors/chain.ts'
import { verityAbi } from '../abis.ts'
import type { Hyperparams } from '../types.ts'

export type CreateSubnetParameters = {
  /** The Verity contract. */
  address: Address
  /** hyperparameters */
  params: Hyperparams
  /**
   * The most the caller agrees to lock (approved beforehand); default: the current lock cost.
   */
  maxLock?: bigint
  /** Gas limit (estimated when omitted). */
  gas?: bigint
}

export type CreateSubnetReturnType = { hash: Hash; receipt: TransactionReceipt; netuid: number }

export type CreateSubnetErrorType = ChainError

/**
 * Creates a subnet owned by the caller, locking the current creation lock, and returns its netuid.
 * Waits for the receipt; a revert surfaces as viem's ContractFunctionExecutionError with the
 * decoded custom error.
 *
 * @example
 * const { receipt } = await createSubnet(walletClient, { address: devnet.addresses.verity, ... })
 */
export async function createSubnet(
  client: Client<Transport, Chain, Account>,
  params: CreateSubnetParameters,
  options: { signal?: AbortSignal } = {},
): Promise<CreateSubnetReturnType> {
  options.signal?.throwIfAborted()
  const maxLock =
    params.maxLock ??
    (await readContract(client, {
      address: params.address,
      abi: verityAbi,
      functionName: 'lockCost',
    }))
  const { result, request } = await simulateContract(client, {
    address: params.address,
    abi: verityAbi,
    functionName: 'createSubnet',
    args: [params.params, maxLock],
    account: client.account,
    chain: client.chain,
  })
  const hash = await writeContract(client, request)
  const receipt = await waitForTransactionReceipt(client, { hash, pollingInterval: 50 })
  if (receipt.status !== 'success')
    throw new ChainError(`createSubnet: transaction ${hash} reverted`)
  const netuid = Number(result)
  return { hash, receipt, netuid }
}
