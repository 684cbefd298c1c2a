import type { Account, Address, Chain, Client, Hash, TransactionReceipt, Transport } from 'viem'
import { waitForTransactionReceipt, writeContract } from 'viem/actions'
import { ChainError } from '../../errors/chain.ts'
import { verityAbi } from '../abis.ts'

export type SetSubnetEmissionShareParameters = {
  /** The Verity contract. */
  address: Address
  /** subnet */
  netuid: number
  /** share of the block emission, basis points */
  shareBps: number
  /** Gas limit (estimated when omitted). */
  gas?: bigint
}

export type SetSubnetEmissionShareReturnType = { hash: Hash; receipt: TransactionReceipt }

export type SetSubnetEmissionShareErrorType = ChainError

/**
 * Sets a subnet's share of the block emission (protocol owner only).
 * Waits for the receipt; a revert surfaces as viem's ContractFunctionExecutionError with the
 * decoded custom error.
 *
 * @example
 * const { receipt } = await setSubnetEmissionShare(walletClient, { address: devnet.addresses.verity, ... })
 */
export async function setSubnetEmissionShare(
  client: Client<Transport, Chain, Account>,
  params: SetSubnetEmissionShareParameters,
  options: { signal?: AbortSignal } = {},
): Promise<SetSubnetEmissionShareReturnType> {
  options.signal?.throwIfAborted()
  const hash = await writeContract(client, {
    address: params.address,
    abi: verityAbi,
    functionName: 'setSubnetEmissionShare',
    args: [params.netuid, params.shareBps],
    account: client.account,
    chain: client.chain,
    ...(params.gas === undefined ? {} : { gas: params.gas }),
  })
  const receipt = await waitForTransactionReceipt(client, { hash, pollingInterval: 50 })
  if (receipt.status !== 'success')
    throw new ChainError(`setSubnetEmissionShare: transaction ${hash} reverted`)
  return { hash, receipt }
}
