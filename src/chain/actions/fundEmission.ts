import type { Account, Address, Chain, Client, Hash, TransactionReceipt, Transport } from 'viem'
import { waitForTransactionReceipt, writeContract } from 'viem/actions'
import { ChainError } from '../../errors/chain.ts'
import { verityAbi } from '../abis.ts'

export type FundEmissionParameters = {
  /** The Verity contract. */
  address: Address
  /** subnet */
  netuid: number
  /** VTY base units (approved beforehand) */
  amount: bigint
  /** Gas limit (estimated when omitted). */
  gas?: bigint
}

export type FundEmissionReturnType = { hash: Hash; receipt: TransactionReceipt }

export type FundEmissionErrorType = ChainError

/**
 * Adds the caller's tokens to the emission the next epoch distributes.
 * Waits for the receipt; a revert surfaces as viem's ContractFunctionExecutionError with the
 * decoded custom error.
 *
 * @example
 * const { receipt } = await fundEmission(walletClient, { address: devnet.addresses.verity, ... })
 */
export async function fundEmission(
  client: Client<Transport, Chain, Account>,
  params: FundEmissionParameters,
  options: { signal?: AbortSignal } = {},
): Promise<FundEmissionReturnType> {
  options.signal?.throwIfAborted()
  const hash = await writeContract(client, {
    address: params.address,
    abi: verityAbi,
    functionName: 'fundEmission',
    args: [params.netuid, params.amount],
    account: client.account,
    chain: client.chain,
    ...(params.gas === undefined ? {} : { gas: params.gas }),
  })
  const receipt = await waitForTransactionReceipt(client, { hash, pollingInterval: 50 })
  if (receipt.status !== 'success')
    throw new ChainError(`fundEmission: transaction ${hash} reverted`)
  return { hash, receipt }
}
