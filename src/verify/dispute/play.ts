import {
  type Account,
  type Address,
  type Chain,
  type Client,
  numberToHex,
  type Transport,
} from 'viem'
import { challengeBinding } from '../../chain/actions/challengeBinding.ts'
import { chooseChild } from '../../chain/actions/chooseChild.ts'
import { disputeSumMax } from '../../chain/actions/disputeSumMax.ts'
import { getDispute } from '../../chain/actions/getDispute.ts'
import { getDisputeLog } from '../../chain/actions/getDisputeLog.ts'
import { oneStep } from '../../chain/actions/oneStep.ts'
import { postPosition } from '../../chain/actions/postPosition.ts'
import { postSum } from '../../chain/actions/postSum.ts'
import { proveBinding } from '../../chain/actions/proveBinding.ts'
import { proveOutput } from '../../chain/actions/proveOutput.ts'
import { revealChildren } from '../../chain/actions/revealChildren.ts'
import { revealLeaf } from '../../chain/actions/revealLeaf.ts'
import { startSum } from '../../chain/actions/startSum.ts'
import { sumStep } from '../../chain/actions/sumStep.ts'
import { timeoutDispute } from '../../chain/actions/timeoutDispute.ts'
import { DisputePhase, type GameWriteReturnType } from '../../chain/dispute.ts'
import {
  type DisputeMove,
  type DisputePlayer,
  type DisputeRole,
  type DisputeView,
  minerToMove,
} from './player.ts'

/**
 * Driving a dispute on chain: reading its state, sending a player's move, and running both sides
 * to the end (tests, benchmarks, devnets).
 */

type Wallet = Client<Transport, Chain, Account>

/** A dispute's state and events as a player reads them. */
export async function readDispute(
  client: Client<Transport, Chain>,
  game: Address,
  id: bigint,
  options: { fromBlock?: bigint; signal?: AbortSignal } = {},
): Promise<DisputeView> {
  const dispute = await getDispute(client, { address: game, id }, options)
  const log = await getDisputeLog(
    client,
    {
      address: game,
      id,
      ...(options.fromBlock === undefined ? {} : { fromBlock: options.fromBlock }),
    },
    options,
  )
  return { dispute, log }
}

/** Sends a player's move as the matching chain action. */
export async function sendMove(
  wallet: Wallet,
  game: Address,
  id: bigint,
  move: DisputeMove,
  options: { signal?: AbortSignal } = {},
): Promise<GameWriteReturnType> {
  const base = { address: game, id }
  switch (move.kind) {
    case 'revealChildren':
      return await revealChildren(wallet, { ...base, nodes: move.nodes }, options)
    case 'chooseChild':
      return await chooseChild(wallet, { ...base, ...pick(move) }, options)
    case 'postPosition':
      return await postPosition(wallet, { ...base, ...pick(move) }, options)
    case 'challengeBinding':
      return await challengeBinding(wallet, { ...base, j: move.j }, options)
    case 'proveBinding':
      return await proveBinding(wallet, { ...base, ...pick(move) }, options)
    case 'revealLeaf':
      return await revealLeaf(wallet, { ...base, ...pick(move) }, options)
    case 'oneStep':
      return await oneStep(wallet, { ...base, proof: move.proof }, options)
    case 'startSum':
      return await startSum(wallet, { ...base, lane: move.lane }, options)
    case 'postSum':
      return await postSum(wallet, { ...base, ...pick(move) }, options)
    case 'sumStep':
      return await sumStep(wallet, { ...base, ...pick(move) }, options)
    case 'disputeSumMax':
      return await disputeSumMax(wallet, { ...base, openings: move.openings }, options)
    case 'proveOutput':
      return await proveOutput(wallet, { ...base, ...pick(move) }, options)
  }
}

function pick<T extends { kind: string }>(move: T): Omit<T, 'kind'> {
  const { kind: _, ...rest } = move
  return rest
}

export type PlaySide = { wallet: Wallet; player: DisputePlayer }

export type PlayedMove = {
  role: DisputeRole
  kind: string
  gas: bigint
  block: bigint
  /** The move and the state it was made in (absent for a timeout). */
  move?: DisputeMove
  view?: DisputeView
}

export type PlayResult = {
  minerLost: boolean
  reason: number
  moves: PlayedMove[]
  /** The miner's moves: one per round of challenge and answer. */
  rounds: number
  slashed: bigint
}

/**
 * Plays a dispute to its end: each side moves when it is its turn; a side without a move (a
 * cheater that cannot answer, or one told to stall) is timed out by the other.
 */
export async function playDispute(params: {
  client: Client<Transport, Chain>
  game: Address
  id: bigint
  miner: PlaySide
  challenger: PlaySide
  /** A side that stops moving after this many of its moves. */
  stall?: { role: DisputeRole; after: number }
  maxMoves?: number
  signal?: AbortSignal
}): Promise<PlayResult> {
  const { client, game, id } = params
  const moves: PlayedMove[] = []
  const made = { miner: 0, challenger: 0 }
  for (let n = 0; n < (params.maxMoves ?? 200); n++) {
    const view = await readDispute(client, game, id, params.signal ? { signal: params.signal } : {})
    const d = view.dispute
    if (d.phase === DisputePhase.DONE) {
      return {
        minerLost: view.log.decided!.minerLost,
        reason: view.log.decided!.reason,
        moves,
        rounds: moves.filter((m) => m.role === 'miner' && m.kind !== 'timeout').length,
        slashed: view.log.slashed?.slashed ?? 0n,
      }
    }
    const role: DisputeRole = minerToMove(d) ? 'miner' : 'challenger'
    const side = params[role]
    const stalled = params.stall?.role === role && made[role] >= params.stall.after
    const move = stalled ? undefined : side.player.nextMove(view)
    if (move) {
      const { receipt } = await sendMove(
        side.wallet,
        game,
        id,
        move,
        params.signal ? { signal: params.signal } : {},
      )
      moves.push({
        role,
        kind: move.kind,
        gas: receipt.gasUsed,
        block: receipt.blockNumber,
        move,
        view,
      })
      made[role]++
      continue
    }
    // No move: let the deadline pass, then the other side ends the dispute.
    const now = (await client.request({ method: 'eth_blockNumber' } as never)) as string
    const wait = Number(d.deadline) - Number(BigInt(now)) + 1
    if (wait > 0)
      await client.request({ method: 'anvil_mine', params: [numberToHex(wait)] } as never)
    const other = params[role === 'miner' ? 'challenger' : 'miner']
    const { receipt } = await timeoutDispute(other.wallet, { address: game, id })
    moves.push({
      role: role === 'miner' ? 'challenger' : 'miner',
      kind: 'timeout',
      gas: receipt.gasUsed,
      block: receipt.blockNumber,
    })
  }
  throw new Error(`dispute ${id} did not end within ${params.maxMoves ?? 200} moves`)
}
