import type { Address, Chain, Client, Transport } from 'viem'
import { getContractEvents, readContract } from 'viem/actions'
import { verityAbi } from '../../src/chain/abis.ts'

/** One finished epoch of a subnet, as the chain stood at the block that finished it. */
export type EpochPoint = {
  epoch: number
  /** The block of the EpochFinished event: the metagraph is read there. */
  block: bigint
  /** Per uid: that epoch's emission (wei) and incentive (the u16 over 65535). */
  emission: bigint[]
  incentive: number[]
  /** The subnet's total: the sum of the uids' emissions (the event's `distributed`). */
  total: bigint
}

export type EmissionHistory = {
  /** Hotkeys by uid, as of the last epoch read. */
  hotkeys: Address[]
  epochs: EpochPoint[]
}

const U16 = 65535

/**
 * A subnet's last `count` finished epochs: the EpochFinished events give each epoch's block, and
 * the metagraph read at that block (anvil and archive nodes keep state history) gives each uid's
 * emission and incentive for that epoch (the contract overwrites both every epoch).
 */
export async function readEmissionHistory(
  client: Client<Transport, Chain>,
  address: Address,
  netuid: number,
  count: number,
  options: { signal?: AbortSignal; fromBlock?: bigint } = {},
): Promise<EmissionHistory> {
  options.signal?.throwIfAborted()
  const finished = await getContractEvents(client, {
    address,
    abi: verityAbi,
    eventName: 'EpochFinished',
    args: { netuid },
    // the deployment's block: nothing before it, and a real node may refuse a search from 0
    fromBlock: options.fromBlock ?? 0n,
    toBlock: 'latest',
    strict: true,
  })
  const last = finished.slice(-count)
  const epochs = await Promise.all(
    last.map(async (log): Promise<EpochPoint & { hotkeys: Address[] }> => {
      options.signal?.throwIfAborted()
      const neurons = await readContract(client, {
        address,
        abi: verityAbi,
        functionName: 'metagraph',
        args: [netuid],
        blockNumber: log.blockNumber,
      })
      return {
        epoch: Number(log.args.epochIndex),
        block: log.blockNumber,
        emission: neurons.map((n) => BigInt(n.emission)),
        incentive: neurons.map((n) => n.incentive / U16),
        total: log.args.distributed,
        hotkeys: neurons.map((n) => n.hotkey),
      }
    }),
  )
  const hotkeys = epochs.at(-1)?.hotkeys ?? []
  return { hotkeys, epochs: epochs.map(({ hotkeys: _, ...point }) => point) }
}

/** `0x1234…cdef`: a hotkey short enough for a legend. */
export const shortHotkey = (hotkey: string) => `${hotkey.slice(0, 6)}…${hotkey.slice(-4)}`
