import type { Account, Address, Chain, Client, Transport } from 'viem'
import { getBlockNumber } from 'viem/actions'
import { timeoutDispute } from '../../chain/actions/timeoutDispute.ts'
import { DisputePhase } from '../../chain/dispute.ts'
import { readDispute, sendMove } from './play.ts'
import { type DisputePlayer, minerToMove } from './player.ts'

/**
 * One side of a dispute, as a node or a user plays it against a counterparty it does not
 * control: each step reads the chain, moves when it is this side's turn, and times the other
 * side out once its deadline has passed. Nothing is kept between steps but the player's caches,
 * so a restarted node resumes from the chain alone.
 */

type Wallet = Client<Transport, Chain, Account>

export type SideStep =
  | { kind: 'done'; minerLost: boolean; reason: number; slashed: bigint; block: bigint }
  | { kind: 'moved'; move: string; block: bigint }
  /** This side ended the dispute: the other side let its deadline pass. */
  | { kind: 'timedOut'; block: bigint }
  /** The other side's turn (or this side has no move: it waits to be timed out). */
  | { kind: 'waiting'; ourTurn: boolean; deadline: bigint; block: bigint }

export type SideParameters = {
  client: Client<Transport, Chain>
  wallet: Wallet
  game: Address
  id: bigint
  player: DisputePlayer
  /** The block the dispute was opened in (its events are read from there). */
  fromBlock?: bigint
}

/** Reads the dispute and makes this side's one next step. */
export async function stepSide(
  params: SideParameters,
  options: { signal?: AbortSignal } = {},
): Promise<SideStep> {
  const { client, wallet, game, id, player } = params
  const signal = options.signal ? { signal: options.signal } : {}
  const [view, head] = await Promise.all([
    readDispute(client, game, id, {
      ...signal,
      ...(params.fromBlock === undefined ? {} : { fromBlock: params.fromBlock }),
    }),
    getBlockNumber(client, { cacheTime: 0 }),
  ])
  const d = view.dispute
  if (d.phase === DisputePhase.DONE)
    return {
      kind: 'done',
      minerLost: view.log.decided?.minerLost ?? false,
      reason: view.log.decided?.reason ?? 0,
      slashed: view.log.slashed?.slashed ?? 0n,
      block: head,
    }
  const deadline = BigInt(d.deadline)
  const ours = minerToMove(d) === (player.options.role === 'miner')
  if (ours) {
    // Past its own deadline a side has lost: the other side (or anyone) ends it.
    const move = head >= deadline ? undefined : player.nextMove(view)
    if (!move) return { kind: 'waiting', ourTurn: true, deadline, block: head }
    const { receipt } = await sendMove(wallet, game, id, move, signal)
    return { kind: 'moved', move: move.kind, block: receipt.blockNumber }
  }
  // The timeout goes in a later block than `head`: it must be past the deadline.
  if (head > deadline) {
    const { receipt } = await timeoutDispute(wallet, { address: game, id }, signal)
    return { kind: 'timedOut', block: receipt.blockNumber }
  }
  return { kind: 'waiting', ourTurn: false, deadline, block: head }
}

/**
 * Plays one side to the end of the dispute, polling every `pollMs` (default 250) while the other
 * side thinks. `onStep` sees every step (progress lines in the CLI).
 */
export async function playSide(
  params: SideParameters & { pollMs?: number; onStep?: (step: SideStep) => void },
  options: { signal?: AbortSignal } = {},
): Promise<Extract<SideStep, { kind: 'done' }>> {
  for (;;) {
    options.signal?.throwIfAborted()
    const step = await stepSide(params, options)
    params.onStep?.(step)
    if (step.kind === 'done') return step
    if (step.kind === 'waiting')
      await new Promise((resolve) => setTimeout(resolve, params.pollMs ?? 250))
  }
}
