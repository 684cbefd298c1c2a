import type { Account, Address, Chain, Client, Hash, TransactionReceipt, Transport } from 'viem'
import { simulateContract, waitForTransactionReceipt, writeContract } from 'viem/actions'
import { ChainError } from '../../errors/chain.ts'
import { verityAbi } from '../abis.ts'

export type RegisterNeuronParameters = {
  /** The Verity contract. */
  address: Address
  /** subnet */
  netuid: number
  /** most the caller agrees to burn */
  maxBurn: bigint
  /** Gas limit (estimated when omitted). */
  gas?: bigint
}

export type RegisterNeuronReturnType = { hash: Hash; receipt: TransactionReceipt; uid: number }

export type RegisterNeuronErrorType = ChainError

/**
 * Registers the caller as a hotkey by burning the registration price; returns the uid.
 * Waits for the receipt; a revert surfaces as viem's ContractFunctionExecutionError with the
 * decoded custom error.
 *
 * @example
 * const { receipt } = await registerNeuron(walletClient, { address: devnet.addresses.verity, ... })
 */
export async function registerNeuron(
  client: Client<Transport, Chain, Account>,
  params: RegisterNeuronParameters,
  options: { signal?: AbortSignal } = {},
): Promise<RegisterNeuronReturnType> {
  options.signal?.throwIfAborted()
  const { result, request } = await simulateContract(client, {
    address: params.address,
    abi: verityAbi,
    functionName: 'register',
    args: [params.netuid, params.maxBurn],
    account: client.account,
    chain: client.chain,
  })
  const hash = await writeContract(client, request)
  const receipt = await waitForTransactionReceipt(client, { hash, pollingInterval: 50 })
  if (receipt.status !== 'success')
    throw new ChainError(`registerNeuron: transaction ${hash} reverted`)
  const uid = Number(result)
  return { hash, receipt, uid }
}
