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

export type RegisterModelParameters = {
  /** The Verity contract. */
  address: Address
  /** Merkle root over weights and config */
  modelRoot: Hex
  /** model name */
  name: string
  /** sha256 of the GGUF file */
  ggufHash: Hex
  /** Gas limit (estimated when omitted). */
  gas?: bigint
}

export type RegisterModelReturnType = { hash: Hash; receipt: TransactionReceipt }

export type RegisterModelErrorType = ChainError

/**
 * Registers a model in the model registry.
 * Waits for the receipt; a revert surfaces as viem's ContractFunctionExecutionError with the
 * decoded custom error.
 *
 * @example
 * const { receipt } = await registerModel(walletClient, { address: devnet.addresses.verity, ... })
 */
export async function registerModel(
  client: Client<Transport, Chain, Account>,
  params: RegisterModelParameters,
  options: { signal?: AbortSignal } = {},
): Promise<RegisterModelReturnType> {
  options.signal?.throwIfAborted()
  const hash = await writeContract(client, {
    address: params.address,
    abi: verityAbi,
    functionName: 'registerModel',
    args: [params.modelRoot, params.name, params.ggufHash],
    account: client.account,
    chain: client.chain,
    ...(params.gas === undefined ? {} : { gas: params.gas }),
  })
  const receipt = await waitForTransactionReceipt(client, { hash, pollingInterval: 50 })
  if (receipt.status !== 'success')
    throw new ChainError(`registerModel: transaction ${hash} reverted`)
  return { hash, receipt }
}
