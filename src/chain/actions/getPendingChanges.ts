import type { Address, Chain, Client, Hex, Transport } from 'viem'
import { readContract } from 'viem/actions'
import { verityAbi } from '../abis.ts'

export type GetPendingChangesParameters = {
  /** The Verity contract. */
  address: Address
  /** subnet */
  netuid: number
}

export type GetPendingChangesReturnType = {
  /** Owner hyperparameters wait for `epoch`. */
  hasParams: boolean
  /** A model the owner set while the subnet already served one (zero when none waits). */
  model: Hex
  /** The epoch index at whose begin the pending changes apply. */
  epoch: bigint
}

/**
 * Reads what a subnet owner changed that waits for the next epoch (SubnetLib.setModel queues a
 * new model when the subnet already has one, so miners switch at an epoch boundary).
 *
 * @example
 * const { model, epoch } = await getPendingChanges(publicClient, { address, netuid: 1 })
 */
export async function getPendingChanges(
  client: Client<Transport, Chain>,
  params: GetPendingChangesParameters,
  options: { signal?: AbortSignal } = {},
): Promise<GetPendingChangesReturnType> {
  options.signal?.throwIfAborted()
  const [hasParams, model, epoch] = await readContract(client, {
    address: params.address,
    abi: verityAbi,
    functionName: 'pendingChanges',
    args: [params.netuid],
  })
  return { hasParams, model, epoch }
}
