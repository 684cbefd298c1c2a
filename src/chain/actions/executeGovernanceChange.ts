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

export type ExecuteGovernanceChangeParameters = {
  /** The Verity contract. */
  address: Address
  /** As queueGovernanceChange returned them. */
  kind: number
  data: Hex
  nonce: bigint
  /** Gas limit (estimated when omitted). */
  gas?: bigint
}

export type ExecuteGovernanceChangeReturnType = { hash: Hash; receipt: TransactionReceipt }

export type ExecuteGovernanceChangeErrorType = ChainError

/**
 * Executes a queued governance change whose delay has passed (anyone); the contract checks it
 * against its bounds again.
 * Waits for the receipt; a revert surfaces as viem's ContractFunctionExecutionError with the
 * decoded custom error.
 *
 * @example
 * await executeGovernanceChange(anyWallet, { address, kind: q.kind, data: q.data, nonce: q.nonce })
 */
export async function executeGovernanceChange(
  client: Client<Transport, Chain, Account>,
  params: ExecuteGovernanceChangeParameters,
  options: { signal?: AbortSignal } = {},
): Promise<ExecuteGovernanceChangeReturnType> {
  options.signal?.throwIfAborted()
  const hash = await writeContract(client, {
    address: params.address,
    abi: verityAbi,
    functionName: 'executeChange',
    args: [params.kind, params.data, params.nonce],
    account: client.account,
    chain: client.chain,
    ...(params.gas === undefined ? {} : { gas: params.gas }),
  })
  const receipt = await waitForTransactionReceipt(client, { hash, pollingInterval: 50 })
  if (receipt.status !== 'success')
    throw new ChainError(`executeGovernanceChange: transaction ${hash} reverted`)
  return { hash, receipt }
}
