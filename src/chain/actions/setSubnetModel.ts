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

export type SetSubnetModelParameters = {
  /** The Verity contract. */
  address: Address
  /** subnet */
  netuid: number
  /** registered model root */
  modelRoot: Hex
  /** Gas limit (estimated when omitted). */
  gas?: bigint
}

export type SetSubnetModelReturnType = { hash: Hash; receipt: TransactionReceipt }

export type SetSubnetModelErrorType = ChainError

/**
 * Names the model a subnet serves (subnet owner only).
 * Waits for the receipt; a revert surfaces as viem's ContractFunctionExecutionError with the
 * decoded custom error.
 *
 * @example
 * const { receipt } = await setSubnetModel(walletClient, { address: devnet.addresses.verity, ... })
 */
export async function setSubnetModel(
  client: Client<Transport, Chain, Account>,
  params: SetSubnetModelParameters,
  options: { signal?: AbortSignal } = {},
): Promise<SetSubnetModelReturnType> {
  options.signal?.throwIfAborted()
  const hash = await writeContract(client, {
    address: params.address,
    abi: verityAbi,
    functionName: 'setSubnetModel',
    args: [params.netuid, params.modelRoot],
    account: client.account,
    chain: client.chain,
    ...(params.gas === undefined ? {} : { gas: params.gas }),
  })
  const receipt = await waitForTransactionReceipt(client, { hash, pollingInterval: 50 })
  if (receipt.status !== 'success')
    throw new ChainError(`setSubnetModel: transaction ${hash} reverted`)
  return { hash, receipt }
}
