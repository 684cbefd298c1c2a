import {
  type Address,
  type Chain,
  type Client,
  formatEther,
  type Hex,
  type Log,
  numberToHex,
  pad,
  parseEventLogs,
  type Transport,
} from 'viem'
import { disputeGameAbi } from '../../src/chain/abis.ts'
import { getDispute } from '../../src/chain/actions/getDispute.ts'
import { type DisputeLog, getDisputeLog } from '../../src/chain/actions/getDisputeLog.ts'
import { listDisputes } from '../../src/chain/actions/listDisputes.ts'

// The game's constants, copied from src/chain/dispute.ts: that module deploys contracts through
// the devnet's node-only helpers, which a browser bundle cannot load.
const PHASES = [
  'none',
  'bisect',
  'position',
  'bisect2',
  'binding',
  'leaf',
  'chunks',
  'step',
  'sum post',
  'sum bisect',
  'sum step',
  'output',
  'done',
] as const
const REASONS: Record<number, string> = {
  1: 'trace leaves',
  2: 'early stop',
  3: 'too many tokens',
  4: 'no tokens',
  5: 'refused request',
  6: 'future receipt',
  7: 'bad token',
  10: 'timeout',
  11: 'one step',
  12: 'binding proven',
  13: 'output proven',
  14: 'sum step',
  15: 'sum max',
}
const TIMEOUT = 10
/** The phases that bisect a tree, whose current node is a range of leaves. */
const BISECTING = new Set([1, 3, 6, 9])
/**
 * The events of the miner's answers. A round is one challenge and its answer, counted by the
 * miner's transactions (one answer can emit two of these, e.g. LeafRevealed with its first
 * ChildrenRevealed), as src/verify/dispute/play.ts counts them.
 */
const ANSWERS = new Set(['ChildrenRevealed', 'PositionPosted', 'LeafRevealed', 'SumPosted'])

export type DisputeState = 'open' | 'rounds played' | 'decided'

/** One row of the disputes table. */
export type DisputeRow = {
  id: bigint
  netuid: number
  miner: Address
  challenger: Address
  receiptDigest: Hex
  state: DisputeState
  /** Rounds played: the miner's answers so far. */
  rounds: number
  phase: string
  /** The current bisection node's leaves [from, to) while the game bisects. */
  range: { from: bigint; to: bigint; height: number } | undefined
  outcome: string
  slashed: bigint
  bond: bigint
  openedBlock: bigint
}

/** One event of a dispute, in chain order. */
export type DisputeMove = { block: bigint; name: string; detail: string }

export const phaseName = (phase: number) => PHASES[phase] ?? `phase ${phase}`

/** "miner lost (one step)", "challenger lost (timeout)", or empty while undecided. */
export function outcomeText(decided: { minerLost: boolean; reason: number } | undefined): string {
  if (!decided) return ''
  const who = decided.minerLost ? 'miner lost' : 'challenger lost'
  const why = REASONS[decided.reason] ?? `reason ${decided.reason}`
  return decided.reason === TIMEOUT ? `timeout: ${who}` : `${who} (${why})`
}

/** The leaves the current node covers, while the phase bisects a tree. */
export function bisectionRange(phase: number, height: number, index: bigint) {
  if (!BISECTING.has(phase)) return undefined
  return { from: index << BigInt(height), to: (index + 1n) << BigInt(height), height }
}

/** Every dispute of the game with its stored state; undecided ones first, then by id. */
export async function readDisputes(
  client: Client<Transport, Chain>,
  game: Address,
  fromBlock: bigint,
  options: { signal?: AbortSignal } = {},
): Promise<DisputeRow[]> {
  const [summaries, moves] = await Promise.all([
    listDisputes(client, { address: game, fromBlock }, options),
    gameLogs(client, game, fromBlock, undefined, options),
  ])
  const answers = new Map<bigint, Set<Hex>>()
  for (const log of moves)
    if (ANSWERS.has(log.eventName)) {
      const id = (log.args as { id: bigint }).id
      answers.set(id, (answers.get(id) ?? new Set()).add(log.transactionHash))
    }
  const stored = await Promise.all(
    summaries.map((s) => getDispute(client, { address: game, id: s.id }, options)),
  )
  const rows = summaries.map((s, i): DisputeRow => {
    const d = stored[i]!
    const played = answers.get(s.id)?.size ?? 0
    return {
      id: s.id,
      netuid: s.netuid,
      miner: s.miner,
      challenger: s.challenger,
      receiptDigest: s.receiptDigest,
      state: s.decided ? 'decided' : played > 0 ? 'rounds played' : 'open',
      rounds: played,
      phase: phaseName(d.phase),
      range: s.decided ? undefined : bisectionRange(d.phase, d.height, d.index),
      outcome: outcomeText(s.decided),
      slashed: s.slashed,
      bond: d.bond,
      openedBlock: s.openedBlock,
    }
  })
  return rows.sort(
    (a, b) =>
      Number(a.state === 'decided') - Number(b.state === 'decided') || (a.id < b.id ? -1 : 1),
  )
}

/** A dispute's moves in chain order, and what they established (getDisputeLog). */
export async function readMoveLog(
  client: Client<Transport, Chain>,
  game: Address,
  id: bigint,
  fromBlock: bigint,
  options: { signal?: AbortSignal } = {},
): Promise<{ moves: DisputeMove[]; log: DisputeLog }> {
  const [logs, log] = await Promise.all([
    gameLogs(client, game, fromBlock, id, options),
    getDisputeLog(client, { address: game, id, fromBlock }, options),
  ])
  // a subnet's parameter events share the topic slot (netuid), so keep the dispute's own
  const moves = logs
    .filter((l) => (l.args as { id?: bigint }).id === id)
    .map((l) => ({
      block: l.blockNumber,
      name: l.eventName,
      detail: describe(l.eventName, l.args as Record<string, unknown>),
    }))
  return { moves, log }
}

/** What an event says, briefly: its arguments but the id, hashes shortened. */
function describe(name: string, args: Record<string, unknown>): string {
  if (name === 'DisputeDecided') return outcomeText(args as { minerLost: boolean; reason: number })
  return Object.entries(args)
    .filter(([k]) => k !== 'id')
    .map(([k, v]) => `${k} ${show(k, v)}`)
    .join(', ')
}

const AMOUNTS = new Set(['bond', 'slashAmount', 'slashed', 'paid', 'amount'])

function show(key: string, v: unknown): string {
  if (Array.isArray(v)) return `[${v.length}]`
  if (typeof v === 'string' && /^0x([0-9a-f]{40}|[0-9a-f]{64})$/i.test(v)) return short(v)
  if (AMOUNTS.has(key) && typeof v === 'bigint') return `${formatEther(v)} VTY`
  if (key === 'phase' && typeof v === 'number') return phaseName(v)
  return String(v)
}

/** 0x1234…cdef: enough to tell hashes apart by eye. */
export const short = (hex: string) => `${hex.slice(0, 6)}…${hex.slice(-4)}`

/** The game's logs (of one dispute, if `id` is given), decoded, in chain order. */
async function gameLogs(
  client: Client<Transport, Chain>,
  game: Address,
  fromBlock: bigint,
  id: bigint | undefined,
  options: { signal?: AbortSignal },
) {
  options.signal?.throwIfAborted()
  const raw = (await client.request({
    method: 'eth_getLogs',
    params: [
      {
        address: game,
        fromBlock: numberToHex(fromBlock),
        toBlock: 'latest',
        ...(id === undefined ? {} : { topics: [null, pad(numberToHex(id), { size: 32 })] }),
      },
    ],
  } as never)) as Log[]
  return parseEventLogs({ abi: disputeGameAbi, logs: raw })
}
