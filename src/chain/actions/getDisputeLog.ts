import {
  type Address,
  type Chain,
  type Client,
  type Hex,
  type Log,
  numberToHex,
  pad,
  parseEventLogs,
  type Transport,
} from 'viem'
import { disputeGameAbi } from '../abis.ts'

export type GetDisputeLogParameters = {
  /** The DisputeGame contract. */
  address: Address
  /** The dispute. */
  id: bigint
  /** The first block to search (the dispute's opening block, or 0). */
  fromBlock?: bigint
}

/** A dispute's history as its events tell it: everything a party resuming it needs to know. */
export type DisputeLog = {
  /** The challenger's traceRoot. */
  claimedRoot: Hex | undefined
  /** The output claim (index, token), if the dispute is one. */
  output: { index: bigint; token: bigint } | undefined
  /** Every node the miner revealed, by phase then `${height}/${index}`. */
  revealed: Map<number, Map<string, Hex>>
  /** The boundary leaves the miner posted with R_p. */
  boundaryLeaves: Hex[] | undefined
  /** The disputed op's vecRoot. */
  vecRoot: Hex | undefined
  /** The decision: whether the miner lost, and why (DisputeReason). */
  decided: { minerLost: boolean; reason: number } | undefined
  /** What the hook slashed and paid the challenger. */
  slashed: { slashed: bigint; paid: bigint } | undefined
}

/**
 * Reads a dispute's events (one eth_getLogs on the game for the dispute's id).
 *
 * @example
 * const log = await getDisputeLog(publicClient, { address: game, id })
 */
export async function getDisputeLog(
  client: Client<Transport, Chain>,
  params: GetDisputeLogParameters,
  options: { signal?: AbortSignal } = {},
): Promise<DisputeLog> {
  options.signal?.throwIfAborted()
  const raw = (await client.request({
    method: 'eth_getLogs',
    params: [
      {
        address: params.address,
        fromBlock: numberToHex(params.fromBlock ?? 0n),
        toBlock: 'latest',
        topics: [null, pad(numberToHex(params.id), { size: 32 })],
      },
    ],
  } as never)) as Log[]
  const out: DisputeLog = {
    claimedRoot: undefined,
    output: undefined,
    revealed: new Map(),
    boundaryLeaves: undefined,
    vecRoot: undefined,
    decided: undefined,
    slashed: undefined,
  }
  for (const log of parseEventLogs({ abi: disputeGameAbi, logs: raw })) {
    switch (log.eventName) {
      case 'DisputeOpened':
        out.claimedRoot = log.args.claimedRoot
        break
      case 'OutputClaimed':
        out.output = { index: log.args.index, token: log.args.token }
        break
      case 'ChildrenRevealed': {
        let map = out.revealed.get(log.args.phase)
        if (!map) {
          map = new Map()
          out.revealed.set(log.args.phase, map)
        }
        const h = Number(log.args.height)
        const first = Number(log.args.firstIndex)
        log.args.nodes.forEach((n, j) => {
          map.set(`${h}/${first + j}`, n)
        })
        break
      }
      case 'PositionPosted':
        out.boundaryLeaves = [...log.args.boundaryLeaves]
        break
      case 'LeafRevealed':
        out.vecRoot = log.args.vecRoot
        break
      case 'DisputeDecided':
        out.decided = { minerLost: log.args.minerLost, reason: log.args.reason }
        break
      case 'MinerSlashed':
        out.slashed = { slashed: log.args.slashed, paid: log.args.paid }
        break
      default:
        break
    }
  }
  return out
}
