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
import { encodeAbiParameters, parseEventLogs } from 'viem'
import { waitForTransactionReceipt, writeContract } from 'viem/actions'
import { ChainError } from '../../errors/chain.ts'
import { verityAbi } from '../abis.ts'
import { CHANGE_KIND, type ProtocolParams } from '../types.ts'

/** A change governance can make, each bounded by the contract (docs/SECURITY.md). */
export type GovernanceChange =
  | { kind: 'params'; params: ProtocolParams }
  | { kind: 'emissionShare'; netuid: number; shareBps: number }
  | { kind: 'disputeGame'; game: Address }
  | { kind: 'guardian'; guardian: Address }

const protocolParamsType = (() => {
  const fn = verityAbi.find((x) => x.type === 'function' && x.name === 'protocolParams')
  if (fn?.type !== 'function') throw new ChainError('abi: protocolParams missing')
  return fn.outputs[0]
})()

/** The `kind` and `data` arguments of queueChange / executeChange for a change. */
export function encodeGovernanceChange(change: GovernanceChange): { kind: number; data: Hex } {
  switch (change.kind) {
    case 'params':
      return {
        kind: CHANGE_KIND.params,
        data: encodeAbiParameters([protocolParamsType], [change.params]),
      }
    case 'emissionShare':
      return {
        kind: CHANGE_KIND.emissionShare,
        data: encodeAbiParameters(
          [{ type: 'uint16' }, { type: 'uint16' }],
          [change.netuid, change.shareBps],
        ),
      }
    case 'disputeGame':
      return {
        kind: CHANGE_KIND.disputeGame,
        data: encodeAbiParameters([{ type: 'address' }], [change.game]),
      }
    case 'guardian':
      return {
        kind: CHANGE_KIND.guardian,
        data: encodeAbiParameters([{ type: 'address' }], [change.guardian]),
      }
  }
}

export type QueueGovernanceChangeParameters = {
  /** The Verity contract. */
  address: Address
  change: GovernanceChange
  /** Gas limit (estimated when omitted). */
  gas?: bigint
}

export type QueueGovernanceChangeReturnType = {
  hash: Hash
  receipt: TransactionReceipt
  /** The queued change's id, and what executeGovernanceChange needs. */
  id: Hex
  kind: number
  data: Hex
  nonce: bigint
  /** Clock from which anyone may execute it. */
  eta: bigint
}

export type QueueGovernanceChangeErrorType = ChainError

/**
 * Queues a governance change (protocol owner only); anyone may execute it once its delay has
 * passed (for a new dispute game: the longest unstake delay, so stakers can leave first).
 * Waits for the receipt; a revert surfaces as viem's ContractFunctionExecutionError with the
 * decoded custom error.
 *
 * @example
 * const q = await queueGovernanceChange(owner, { address, change: { kind: 'emissionShare', netuid: 1, shareBps: 5000 } })
 */
export async function queueGovernanceChange(
  client: Client<Transport, Chain, Account>,
  params: QueueGovernanceChangeParameters,
  options: { signal?: AbortSignal } = {},
): Promise<QueueGovernanceChangeReturnType> {
  options.signal?.throwIfAborted()
  const { kind, data } = encodeGovernanceChange(params.change)
  const hash = await writeContract(client, {
    address: params.address,
    abi: verityAbi,
    functionName: 'queueChange',
    args: [kind, data],
    account: client.account,
    chain: client.chain,
    ...(params.gas === undefined ? {} : { gas: params.gas }),
  })
  const receipt = await waitForTransactionReceipt(client, { hash, pollingInterval: 50 })
  if (receipt.status !== 'success')
    throw new ChainError(`queueGovernanceChange: transaction ${hash} reverted`)
  const [event] = parseEventLogs({ abi: verityAbi, logs: receipt.logs, eventName: 'ChangeQueued' })
  if (!event) throw new ChainError('queueGovernanceChange: no ChangeQueued event')
  return {
    hash,
    receipt,
    id: event.args.id,
    kind,
    data,
    nonce: event.args.nonce,
    eta: BigInt(event.args.eta),
  }
}
