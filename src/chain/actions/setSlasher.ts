import type { Account, Address, Chain, Client, Hash, TransactionReceipt, Transport } from 'viem'
import { waitForTransactionReceipt, writeContract } from 'viem/actions'
import { ChainError } from '../../errors/chain.ts'
import { verityAbi } from '../abis.ts'

export type SetSlasherParameters = {
  /** The Verity contract. */
  address: Address
  /** account */
  account: Address
  /** grant or revoke */
  allowed: boolean
  /** Gas limit (estimated when omitted). */
  gas?: bigint
}

export type SetSlasherReturnType = { hash: Hash; receipt: TransactionReceipt }

export type SetSlasherErrorType = ChainError

/**
 * Grants or revokes the slasher role (protocol owner only).
 * Waits for the receipt; a revert surfaces as viem's ContractFunctionExecutionError with the
 * decoded custom error.
 *
 * @example
 * const { receipt } = await setSlasher(walletClient, { address: devnet.addresses.verity, ... })
 */
export async function setSlasher(
  client: Client<Transport, Chain, Account>,
  params: SetSlasherParameters,
  options: { signal?: AbortSignal } = {},
): Promise<SetSlasherReturnType> {
  options.signal?.throwIfAborted()
  const hash = await writeContract(client, {
    address: params.address,
    abi: verityAbi,
    functionName: 'setSlasher',
    args: [params.account, params.allowed],
    account: client.account,
    chain: client.chain,
    ...(params.gas === undefined ? {} : { gas: params.gas }),
  })
  const receipt = await waitForTransactionReceipt(client, { hash, pollingInterval: 50 })
  if (receipt.status !== 'success') throw new ChainError(`setSlasher: transaction ${hash} reverted`)
  return { hash, receipt }
}
