import type { Address, Chain, Client, Hex, Transport } from 'viem'
import { getContractEvents } from 'viem/actions'
import { verityAbi } from '../abis.ts'

export type GetQueuedChangesParameters = {
  /** The Verity contract. */
  address: Address
  /** The first block to read logs from (the deployment's block). */
  fromBlock: bigint
}

export type QueuedChange = { id: Hex; kind: number; data: Hex; nonce: bigint; eta: bigint }

export type GetQueuedChangesReturnType = QueuedChange[]

/**
 * Reads the governance changes queued and neither executed nor cancelled yet, from the core's
 * events (what executeGovernanceChange needs for each), oldest first.
 *
 * @example
 * const pending = await getQueuedChanges(publicClient, { address, fromBlock: deployment.block })
 */
export async function getQueuedChanges(
  client: Client<Transport, Chain>,
  params: GetQueuedChangesParameters,
  options: { signal?: AbortSignal } = {},
): Promise<GetQueuedChangesReturnType> {
  options.signal?.throwIfAborted()
  const range = { address: params.address, abi: verityAbi, fromBlock: params.fromBlock } as const
  const [queued, executed, cancelled] = await Promise.all([
    getContractEvents(client, { ...range, eventName: 'ChangeQueued' }),
    getContractEvents(client, { ...range, eventName: 'ChangeExecuted' }),
    getContractEvents(client, { ...range, eventName: 'ChangeCancelled' }),
  ])
  const done = new Set([...executed, ...cancelled].map((e) => e.args.id))
  return queued
    .filter((e) => !done.has(e.args.id))
    .map((e) => ({
      id: e.args.id!,
      kind: Number(e.args.kind),
      data: e.args.data!,
      nonce: e.args.nonce!,
      eta: BigInt(e.args.eta!),
    }))
}
