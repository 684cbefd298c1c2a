import type { Account, Address, Chain, Client, Hash, TransactionReceipt, Transport } from 'viem'
import { waitForTransactionReceipt, writeContract } from 'viem/actions'
import { ChainError } from '../../errors/chain.ts'
import { verityAbi } from '../abis.ts'

export type DissolveSubnetParameters = {
  /** The Verity contract. */
  address: Address
  /** subnet */
  netuid: number
  /** Gas limit (estimated when omitted). */
  gas?: bigint
}

export type DissolveSubnetReturnType = { hash: Hash; receipt: TransactionReceipt }

export type DissolveSubnetErrorType = ChainError

/**
 * Dissolves a subnet (its owner only): the lock returns to the owner's claimable balance;
 * stakers keep unstaking, withdrawing and claiming.
 * Waits for the receipt; a revert surfaces as viem's ContractFunctionExecutionError with the
 * decoded custom error.
 *
 * @example
 * const { receipt } = await dissolveSubnet(walletClient, { address: devnet.addresses.verity, ... })
 */
export async function dissolveSubnet(
  client: Client<Transport, Chain, Account>,
  params: DissolveSubnetParameters,
  options: { signal?: AbortSignal } = {},
): Promise<DissolveSubnetReturnType> {
  options.signal?.throwIfAborted()
  const hash = await writeContract(client, {
    address: params.address,
    abi: verityAbi,
    functionName: 'dissolveSubnet',
    args: [params.netuid],
    account: client.account,
    chain: client.chain,
    ...(params.gas === undefined ? {} : { gas: params.gas }),
  })
  const receipt = await waitForTransactionReceipt(client, { hash, pollingInterval: 50 })
  if (receipt.status !== 'success')
    throw new ChainError(`dissolveSubnet: transaction ${hash} reverted`)
  return { hash, receipt }
}
