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

export type ServeNodeParameters = {
  /** The Verity contract. */
  address: Address
  /** subnet */
  netuid: number
  /** libp2p peer id bytes */
  peerId: Hex
  /** multiaddrs */
  multiaddrs: readonly string[]
  /** Gas limit (estimated when omitted). */
  gas?: bigint
}

export type ServeNodeReturnType = { hash: Hash; receipt: TransactionReceipt }

export type ServeNodeErrorType = ChainError

/**
 * Publishes the caller's libp2p peer id and multiaddrs for its hotkey.
 * Waits for the receipt; a revert surfaces as viem's ContractFunctionExecutionError with the
 * decoded custom error.
 *
 * @example
 * const { receipt } = await serveNode(walletClient, { address: devnet.addresses.verity, ... })
 */
export async function serveNode(
  client: Client<Transport, Chain, Account>,
  params: ServeNodeParameters,
  options: { signal?: AbortSignal } = {},
): Promise<ServeNodeReturnType> {
  options.signal?.throwIfAborted()
  const hash = await writeContract(client, {
    address: params.address,
    abi: verityAbi,
    functionName: 'serveNode',
    args: [params.netuid, params.peerId, params.multiaddrs],
    account: client.account,
    chain: client.chain,
    ...(params.gas === undefined ? {} : { gas: params.gas }),
  })
  const receipt = await waitForTransactionReceipt(client, { hash, pollingInterval: 50 })
  if (receipt.status !== 'success') throw new ChainError(`serveNode: transaction ${hash} reverted`)
  return { hash, receipt }
}
