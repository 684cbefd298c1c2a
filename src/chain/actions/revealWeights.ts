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

export type RevealWeightsParameters = {
  /** The Verity contract. */
  address: Address
  /** subnet */
  netuid: number
  /** target uids */
  uids: readonly number[]
  /** u16 weights */
  values: readonly number[]
  /** 32-byte salt */
  salt: Hex
  /** weights version key */
  versionKey: bigint
  /** Gas limit (estimated when omitted). */
  gas?: bigint
}

export type RevealWeightsReturnType = { hash: Hash; receipt: TransactionReceipt }

export type RevealWeightsErrorType = ChainError

/**
 * Reveals committed weights inside the reveal epoch.
 * Waits for the receipt; a revert surfaces as viem's ContractFunctionExecutionError with the
 * decoded custom error.
 *
 * @example
 * const { receipt } = await revealWeights(walletClient, { address: devnet.addresses.verity, ... })
 */
export async function revealWeights(
  client: Client<Transport, Chain, Account>,
  params: RevealWeightsParameters,
  options: { signal?: AbortSignal } = {},
): Promise<RevealWeightsReturnType> {
  options.signal?.throwIfAborted()
  const hash = await writeContract(client, {
    address: params.address,
    abi: verityAbi,
    functionName: 'revealWeights',
    args: [params.netuid, params.uids, params.values, params.salt, params.versionKey],
    account: client.account,
    chain: client.chain,
    ...(params.gas === undefined ? {} : { gas: params.gas }),
  })
  const receipt = await waitForTransactionReceipt(client, { hash, pollingInterval: 50 })
  if (receipt.status !== 'success')
    throw new ChainError(`revealWeights: transaction ${hash} reverted`)
  return { hash, receipt }
}
