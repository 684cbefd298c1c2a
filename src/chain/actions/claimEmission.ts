import type { Account, Address, Chain, Client, Hash, TransactionReceipt, Transport } from 'viem'
import { waitForTransactionReceipt, writeContract } from 'viem/actions'
import { ChainError } from '../../errors/chain.ts'
import { verityAbi } from '../abis.ts'

export type ClaimEmissionParameters = {
  /** The Verity contract. */
  address: Address
  /** recipient */
  to: Address
  /** Gas limit (estimated when omitted). */
  gas?: bigint
}

export type ClaimEmissionReturnType = { hash: Hash; receipt: TransactionReceipt }

export type ClaimEmissionErrorType = ChainError

/**
 * Sends the caller's claimable emission to `to`.
 * Waits for the receipt; a revert surfaces as viem's ContractFunctionExecutionError with the
 * decoded custom error.
 *
 * @example
 * const { receipt } = await claimEmission(walletClient, { address: devnet.addresses.verity, ... })
 */
export async function claimEmission(
  client: Client<Transport, Chain, Account>,
  params: ClaimEmissionParameters,
  options: { signal?: AbortSignal } = {},
): Promise<ClaimEmissionReturnType> {
  options.signal?.throwIfAborted()
  const hash = await writeContract(client, {
    address: params.address,
    abi: verityAbi,
    functionName: 'claim',
    args: [params.to],
    account: client.account,
    chain: client.chain,
    ...(params.gas === undefined ? {} : { gas: params.gas }),
  })
  const receipt = await waitForTransactionReceipt(client, { hash, pollingInterval: 50 })
  if (receipt.status !== 'success')
    throw new ChainError(`claimEmission: transaction ${hash} reverted`)
  return { hash, receipt }
}
