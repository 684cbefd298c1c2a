import type { Account, Address, Chain, Client, Hash, TransactionReceipt, Transport } from 'viem'
import { waitForTransactionReceipt, writeContract } from 'viem/actions'
import { ChainError } from '../../errors/chain.ts'
import { verityAbi } from '../abis.ts'

export type SweepEmissionParameters = {
  /** The Verity contract. */
  address: Address
  /** subnet */
  netuid: number
  /** hotkey whose uid is swept */
  hotkey: Address
  /** Gas limit (estimated when omitted). */
  gas?: bigint
}

export type SweepEmissionReturnType = { hash: Hash; receipt: TransactionReceipt }

export type SweepEmissionErrorType = ChainError

/**
 * Moves a hotkey's unclaimed emission on a subnet to the hotkey (its take) and its stakers (the
 * rest, pro rata). Anyone may call it.
 * Waits for the receipt; a revert surfaces as viem's ContractFunctionExecutionError with the
 * decoded custom error.
 *
 * @example
 * const { receipt } = await sweepEmission(walletClient, { address: devnet.addresses.verity, ... })
 */
export async function sweepEmission(
  client: Client<Transport, Chain, Account>,
  params: SweepEmissionParameters,
  options: { signal?: AbortSignal } = {},
): Promise<SweepEmissionReturnType> {
  options.signal?.throwIfAborted()
  const hash = await writeContract(client, {
    address: params.address,
    abi: verityAbi,
    functionName: 'sweep',
    args: [params.netuid, params.hotkey],
    account: client.account,
    chain: client.chain,
    ...(params.gas === undefined ? {} : { gas: params.gas }),
  })
  const receipt = await waitForTransactionReceipt(client, { hash, pollingInterval: 50 })
  if (receipt.status !== 'success')
    throw new ChainError(`sweepEmission: transaction ${hash} reverted`)
  return { hash, receipt }
}
