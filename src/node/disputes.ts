import type { Startable } from '@libp2p/interface'
import { type Address, BaseError as ViemBaseError } from 'viem'
import { getBlockNumber, getContractEvents, readContract } from 'viem/actions'
import { disputeGameAbi } from '../chain/abis.ts'
import { DisputeReason } from '../chain/dispute.ts'
import type { Model } from '../runtime/model/load.ts'
import type { TraceFault } from '../runtime/trace/ops.ts'
import type { InferenceRequest } from '../types/inference.ts'
import type { ReceiptBundle } from '../verify/bundle.ts'
import { disputeRequest } from '../verify/dispute/open.ts'
import { DisputePlayer, type DisputeRole } from '../verify/dispute/player.ts'
import { type SideStep, stepSide } from '../verify/dispute/side.ts'
import { receiptDigest } from '../verify/receipt.ts'
import type { ChainContext } from './chain.ts'
import { openChallenge, revertOf } from './challenge.ts'
import { type CheatMode, madeUp, subtleFault } from './cheat.ts'
import { log } from './log.ts'
import { NodeMetrics } from './metrics.ts'
import type { DisputeRow, NodeStore } from './store.ts'

export type DisputeServiceInit = {
  /** `miner`: answers disputes over its own receipts; `challenger`: a validator's disputes. */
  role: DisputeRole
  chain: ChainContext
  /** The DisputeGame contract (from the deployment, never guessed). */
  game: Address
  model: Model
  store: NodeStore
  /** A miner's cheat mode: it answers from the run it signed, so a subtle cheater loses. */
  cheat?: CheatMode
  /** How often games under way are read (default 250 ms). */
  pollMs?: number
  /**
   * A challenger's most disputes under way at once (default 1): every move mines a block, so many
   * games at once on a busy chain eat into each other's response windows; evidence beyond that
   * counts in scoring, and later evidence is disputed once a game has ended.
   */
  maxActive?: number
  /** Tests: a challenger that names random parts instead of the differing ones. */
  liar?: { seed: number }
  /** Where the node's metrics go (default: a registry of this service's own). */
  metrics?: NodeMetrics
}

/** What a challenge came to. */
export type ChallengeResult =
  /** `claim`: why, in words (the roots or the output token that differ). */
  { opened: true; id: bigint; claim: string } | { opened: false; reason: string }

/** Counters for devnet reports and tests. */
export type DisputeStats = {
  opened: number
  won: number
  lost: number
  timedOut: number
  /** Disputes over receipts this miner does not hold (it cannot answer them). */
  unknown: number
  errors: number
}

/**
 * A node's side of the dispute game. A challenger (validator) opens a dispute when its own
 * re-execution disagrees with a signed receipt (its own traceRoot, or an output claim when the
 * trace agrees but the tokens do not), with a bond from its wallet, at most once per receipt; a
 * miner watches DisputeOpened for its hotkey and answers from the request and tokens it stored.
 * Both play every game to the end with DisputePlayer and time out a silent counterparty. What is
 * under way lives in SQLite (`disputes`) and the game's state on chain, so a restarted node
 * resumes every game where the chain says it stands.
 */
export class DisputeService implements Startable {
  readonly init: DisputeServiceInit
  readonly stats: DisputeStats = { opened: 0, won: 0, lost: 0, timedOut: 0, unknown: 0, errors: 0 }
  private readonly log = log('node:disputes')
  private readonly players = new Map<string, DisputePlayer>()
  private controller: AbortController | undefined
  private timer: ReturnType<typeof setTimeout> | undefined
  private round: Promise<void> | undefined
  /** Every write of this service goes through one queue: one wallet, one nonce sequence. */
  private lock: Promise<unknown> = Promise.resolve()
  private partElements = 4096

  readonly metrics: NodeMetrics

  constructor(init: DisputeServiceInit) {
    this.init = init
    this.metrics = init.metrics ?? new NodeMetrics()
  }

  get game(): Address {
    return this.init.game
  }

  /** Games under way (rows in SQLite). */
  get active(): DisputeRow[] {
    return this.init.store.disputes(this.init.game, this.init.role, 'active')
  }

  async start(): Promise<void> {
    if (this.controller) return
    this.controller = new AbortController()
    const { publicClient } = this.init.chain
    this.partElements = Number(
      await readContract(publicClient, {
        address: this.init.game,
        abi: disputeGameAbi,
        functionName: 'partElements',
      }),
    )
    const signal = this.controller.signal
    const loop = () => {
      if (signal.aborted) return
      this.round = this.exclusive(() => this.poll(signal))
        .catch((error) => {
          if (!signal.aborted) this.log.error('dispute round failed: %s', short(error))
        })
        .finally(() => {
          if (!signal.aborted) this.timer = setTimeout(loop, this.init.pollMs ?? 250)
        })
    }
    loop()
  }

  async stop(): Promise<void> {
    if (!this.controller) return
    this.controller.abort()
    this.controller = undefined
    clearTimeout(this.timer)
    await this.round?.catch(() => {})
    await this.lock.catch(() => {})
  }

  /** Waits until no game is under way, or `timeoutMs` passes (devnet reports, tests). */
  async idle(timeoutMs: number): Promise<boolean> {
    const end = Date.now() + timeoutMs
    while (this.active.length > 0) {
      if (Date.now() > end) return false
      await new Promise((r) => setTimeout(r, 200))
    }
    return true
  }

  private exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const next = this.lock.then(fn, fn)
    this.lock = next.catch(() => {})
    return next
  }

  // --- challenger

  /**
   * Disputes a receipt this node's re-execution disagrees with: the honest run of the request
   * over the receipt's tokens gives the claim (its traceRoot, or the first output token that
   * differs). Opens at most once per receipt; nothing is opened when the run agrees, the receipt
   * is no longer disputable, or the wallet cannot pay the bond.
   */
  async challenge(
    bundle: Pick<ReceiptBundle, 'request' | 'tokens' | 'receipt'>,
    options: { signal?: AbortSignal } = {},
  ): Promise<ChallengeResult> {
    if (this.init.role !== 'challenger') throw new Error('a miner does not challenge')
    // A stopped service opens nothing: nobody would play the game, and the bond would be lost.
    if (!this.controller) return { opened: false, reason: 'the dispute service is stopped' }
    return await this.exclusive(() => this.open(bundle, options))
  }

  private async open(
    bundle: Pick<ReceiptBundle, 'request' | 'tokens' | 'receipt'>,
    options: { signal?: AbortSignal },
  ): Promise<ChallengeResult> {
    const { store, chain, game, model } = this.init
    const { request, tokens, receipt } = bundle
    const digest = receiptDigest(receipt)
    if (store.hasDispute(game, digest, 'challenger'))
      return { opened: false, reason: 'already disputed by this node' }
    if (this.active.length >= (this.init.maxActive ?? 1))
      return { opened: false, reason: 'too many disputes under way' }
    let id: bigint
    let block: bigint
    let claim = ''
    try {
      const result = await openChallenge({ chain, game, model, bundle }, options)
      if (!result.opened) return result
      ;({ id, block } = result)
      claim = result.claim.why
    } catch (error) {
      const revert = revertOf(error)
      if (revert?.errorName === 'ReceiptAlreadyDisputed') {
        // Opened before a restart that lost the row: resume it (its events are read from 0).
        id = revert.args?.[1] as bigint
        block = 0n
      } else if (revert?.errorName === 'ReceiptAlreadySlashed')
        // Another challenger won over this receipt first: a receipt slashes once.
        return { opened: false, reason: 'the receipt already slashed its miner' }
      else throw error
    }
    store.putDispute({
      game,
      id,
      role: 'challenger',
      digest,
      request,
      tokens,
      status: 'active',
      openedBlock: block,
    })
    this.stats.opened++
    this.metrics.disputes.inc({ role: 'challenger', event: 'opened' })
    this.log.info(
      'opened dispute %s over receipt %s of %s: %s',
      id,
      digest,
      receipt.minerHotkey,
      claim,
    )
    return { opened: true, id, claim }
  }

  // --- both sides

  /** One round: a miner learns of new disputes, then every game under way takes a step. */
  private async poll(signal: AbortSignal): Promise<void> {
    if (this.init.role === 'miner') await this.watch(signal)
    for (const row of this.active) {
      if (signal.aborted) return
      try {
        await this.step(row, signal)
      } catch (error) {
        if (signal.aborted) return
        this.stats.errors++
        this.log.error('dispute %s: %s', row.id, short(error))
      }
    }
  }

  /** A miner reads DisputeOpened for its hotkey since its cursor and files each one. */
  private async watch(signal: AbortSignal): Promise<void> {
    const { store, chain, game } = this.init
    const head = await getBlockNumber(chain.publicClient, { cacheTime: 0 })
    const from = store.disputeCursor(game) ?? BigInt(store.oldestReceiptBlock() ?? Number(head))
    if (from > head) return
    signal.throwIfAborted()
    const events = await getContractEvents(chain.publicClient, {
      address: game,
      abi: disputeGameAbi,
      eventName: 'DisputeOpened',
      args: { miner: chain.walletClient.account.address },
      fromBlock: from,
      toBlock: head,
      strict: true,
    })
    for (const e of events) {
      const { id, receiptDigest: digest } = e.args
      const held = store.receiptByDigest(digest)
      const filed = store.putDispute({
        game,
        id,
        role: 'miner',
        digest,
        request: held?.request,
        tokens: held?.tokens,
        status: held ? 'active' : 'unplayable',
        openedBlock: e.blockNumber,
      })
      if (!filed) continue
      if (held) {
        this.stats.opened++
        this.metrics.disputes.inc({ role: 'miner', event: 'opened' })
        this.log.info('dispute %s opened by %s over receipt %s', id, e.args.challenger, digest)
      } else {
        this.stats.unknown++
        this.log.error(
          'dispute %s over receipt %s, which this miner does not hold: it cannot answer',
          id,
          digest,
        )
      }
    }
    store.setDisputeCursor(game, head + 1n)
  }

  private player(row: DisputeRow): DisputePlayer {
    const key = row.id.toString()
    let player = this.players.get(key)
    if (!player) {
      const { model, cheat, liar, role } = this.init
      let request = row.request!
      let fault: TraceFault | undefined
      // A miner answers from the run it signed (DisputePlayer keeps no state: this is all it needs).
      if (role === 'miner' && cheat === 'subtle') fault = subtleFault(model.config, request)
      if (role === 'miner' && cheat === 'always') request = madeUp(request).request
      player = new DisputePlayer({
        model,
        request: disputeRequest(request as InferenceRequest, row.tokens!),
        role,
        partElements: this.partElements,
        ...(fault ? { fault } : {}),
        ...(role === 'challenger' && liar ? { liar } : {}),
      })
      this.players.set(key, player)
    }
    return player
  }

  private async step(row: DisputeRow, signal: AbortSignal): Promise<void> {
    const { chain, game, store, role } = this.init
    const step: SideStep = await stepSide(
      {
        client: chain.publicClient,
        wallet: chain.walletClient,
        game,
        id: row.id,
        player: this.player(row),
        fromBlock: row.openedBlock,
      },
      { signal },
    )
    if (step.kind === 'moved') this.log.trace('dispute %s: %s', row.id, step.move)
    if (step.kind === 'timedOut') this.log('dispute %s: timed out the other side', row.id)
    if (step.kind !== 'done') {
      store.updateDispute(game, row.id, role, { lastSeenBlock: step.block })
      return
    }
    store.updateDispute(game, row.id, role, {
      lastSeenBlock: step.block,
      decided: { minerLost: step.minerLost, reason: step.reason, slashed: step.slashed },
    })
    this.players.delete(row.id.toString())
    const won = step.minerLost === (role === 'challenger')
    if (won) this.stats.won++
    else this.stats.lost++
    this.metrics.disputes.inc({ role, event: won ? 'won' : 'lost' })
    if (step.reason === DisputeReason.TIMEOUT) this.stats.timedOut++
    this.log.info(
      'dispute %s decided: the %s lost (reason %d), slashed %s',
      row.id,
      step.minerLost ? 'miner' : 'challenger',
      step.reason,
      step.slashed,
    )
  }
}

function short(error: unknown): string {
  if (error instanceof ViemBaseError) return error.shortMessage
  return error instanceof Error ? error.message.split('\n')[0]! : String(error)
}
