import type { Account, Address, Chain, Client, Hash, TransactionReceipt, Transport } from 'viem'
import { waitForTransactionReceipt, writeContract } from 'viem/actions'
import { ChainError } from '../../errors/chain.ts'
import { verityAbi } from '../abis.ts'

export type AddStakeParameters = {
  /** The Verity contract. */
  address: Address
  /** subnet the stake is on */
  netuid: number
  /** hotkey to stake to */
  hotkey: Address
  /** VTY base units (approved beforehand) */
  amount: bigint
  /** Gas limit (estimated when omitted). */
  gas?: bigint
}

export type AddStakeReturnType = { hash: Hash; receipt: TransactionReceipt }

export type AddStakeErrorType = ChainError

/**
 * Stakes the caller's (coldkey's) tokens to a hotkey on a subnet. It counts from the next epoch on
 * (stake that arrives in an epoch does not count at its begin).
 * Waits for the receipt; a revert surfaces as viem's ContractFunctionExecutionError with the
 * decoded custom error.
 *
 * @example
 * const { receipt } = await addStake(walletClient, { address: devnet.addresses.verity, ... })
 */
export async function addStake(
  client: Client<Transport, Chain, Account>,
  params: AddStakeParameters,
  options: { signal?: AbortSignal } = {},
): Promise<AddStakeReturnType> {
  options.signal?.throwIfAborted()
  const hash = await writeContract(client, {
    address: params.address,
    abi: verityAbi,
    functionName: 'stake',
    args: [params.netuid, params.hotkey, params.amount],
    account: client.account,
    chain: client.chain,
    ...(params.gas === undefined ? {} : { gas: params.gas }),
  })
  const receipt = await waitForTransactionReceipt(client, { hash, pollingInterval: 50 })
  if (receipt.status !== 'success') throw new ChainError(`addStake: transaction ${hash} reverted`)
  return { hash, receipt }
}
