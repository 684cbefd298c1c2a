import {
  type Address,
  type Chain,
  type Client,
  type Hex,
  type Log,
  numberToHex,
  parseEventLogs,
  type Transport,
  toEventSelector,
} from 'viem'
import { disputeGameAbi } from '../abis.ts'

export type ListDisputesParameters = {
  /** The DisputeGame contract. */
  address: Address
  /** Only disputes over this miner's receipts. */
  miner?: Address
  /** Only disputes on this subnet. */
  netuid?: number
  /** The first block to search (default 0). */
  fromBlock?: bigint
}

/** One dispute as the game's events tell it. */
export type DisputeSummary = {
  id: bigint
  netuid: number
  miner: Address
  challenger: Address
  receiptDigest: Hex
  claimedRoot: Hex
  openedBlock: bigint
  /** The decision, once there is one: whether the miner lost, and why (DisputeReason). */
  decided: { minerLost: boolean; reason: number; block: bigint } | undefined
  /** What the core slashed for it (0 when the receipt had already slashed through another). */
  slashed: bigint
}

export type ListDisputesReturnType = DisputeSummary[]

const EVENTS = ['DisputeOpened', 'DisputeDecided', 'MinerSlashed'] as const

/**
 * Lists disputes from the game's events (DisputeOpened, DisputeDecided, MinerSlashed), oldest
 * first: one eth_getLogs for the three event kinds.
 *
 * @example
 * const disputes = await listDisputes(publicClient, { address: game, miner: hotkey })
 */
export async function listDisputes(
  client: Client<Transport, Chain>,
  params: ListDisputesParameters,
  options: { signal?: AbortSignal } = {},
): Promise<ListDisputesReturnType> {
  options.signal?.throwIfAborted()
  const selectors = EVENTS.map((name) =>
    toEventSelector(disputeGameAbi.find((x) => x.type === 'event' && x.name === name) as never),
  )
  const raw = (await client.request({
    method: 'eth_getLogs',
    params: [
      {
        address: params.address,
        fromBlock: numberToHex(params.fromBlock ?? 0n),
        toBlock: 'latest',
        topics: [selectors],
      },
    ],
  } as never)) as Log[]
  const byId = new Map<bigint, DisputeSummary>()
  for (const log of parseEventLogs({ abi: disputeGameAbi, logs: raw })) {
    if (log.eventName === 'DisputeOpened') {
      byId.set(log.args.id, {
        id: log.args.id,
        netuid: log.args.netuid,
        miner: log.args.miner,
        challenger: log.args.challenger,
        receiptDigest: log.args.receiptDigest,
        claimedRoot: log.args.claimedRoot,
        openedBlock: log.blockNumber,
        decided: undefined,
        slashed: 0n,
      })
      continue
    }
    if (log.eventName === 'DisputeDecided') {
      const d = byId.get(log.args.id)
      if (d)
        d.decided = {
          minerLost: log.args.minerLost,
          reason: log.args.reason,
          block: log.blockNumber,
        }
    } else if (log.eventName === 'MinerSlashed') {
      const d = byId.get(log.args.id)
      if (d) d.slashed = log.args.slashed
    }
  }
  return [...byId.values()].filter(
    (d) =>
      (params.miner === undefined || d.miner.toLowerCase() === params.miner.toLowerCase()) &&
      (params.netuid === undefined || d.netuid === params.netuid),
  )
}
