import { randomBytes } from 'node:crypto'
import type { Message } from '@libp2p/gossipsub'
import type { Startable } from '@libp2p/interface'
import { bytesToHex, type Hex } from 'viem'
import type { LocalAccount } from 'viem/accounts'
import { commitWeights } from '../chain/actions/commitWeights.ts'
import { computeCommitHash } from '../chain/actions/computeCommitHash.ts'
import { revealWeights } from '../chain/actions/revealWeights.ts'
import { setWeights } from '../chain/actions/setWeights.ts'
import { BaseError } from '../errors/base.ts'
import { RemoteError } from '../errors/node.ts'
import type { Model } from '../runtime/model/load.ts'
import type { Tokenizer } from '../runtime/tokenizer/index.ts'
import { toHex } from '../runtime/trace/merkle.ts'
import type { InferenceRequest, MinerClient, SignedReceipt } from '../types/inference.ts'
import { parseReceiptBundle } from '../verify/bundle.ts'
import { verifyReceipt } from '../verify/receipt.ts'
import { reexecuteReceipt } from '../verify/reexecute.ts'
import {
  type ChainContext,
  type NeuronNode,
  readEpoch,
  readHyperparams,
  readNeurons,
} from './chain.ts'
import { collect, Libp2pMinerClient } from './client.ts'
import { log } from './log.ts'
import type { Peer } from './peer.ts'
import type { CheckRow, NodeStore } from './store.ts'
import { syntheticRequest } from './synthetic.ts'

/** The gossipsub topic on which gateways share receipt bundles of user traffic. */
export const receiptTopic = (netuid: number) => `/verity/receipts/1/${netuid}`

/** Publishes a receipt bundle (request, receipt, tokens) for validators to sample. */
export async function publishReceipt(
  peer: Peer,
  netuid: number,
  bundle: { request: InferenceRequest; receipt: SignedReceipt; tokens: number[] },
): Promise<void> {
  await peer.services.pubsub.publish(
    receiptTopic(netuid),
    new TextEncoder().encode(JSON.stringify(bundle)),
  )
}

export type ValidatorInit = {
  hotkey: LocalAccount
  chain: ChainContext
  model: Model
  tokenizer: Tokenizer
  store: NodeStore
  /** Synthetic requests per miner per tempo (default 4). */
  queriesPerMiner?: number
  /** Share of gossiped receipts re-executed (default 0.25). */
  gossipSampleRate?: number
  /** Seed of the synthetic prompts (default: random per process). */
  seed?: number
  /** Epochs of checks a score looks back over (default 4). */
  scoreWindow?: number
  /** How often the loop polls the chain (default 1000 ms). */
  pollMs?: number
  /** Per-request limit (default 30 s). */
  requestTimeoutMs?: number
  /** Override how miners are reached (tests); default: libp2p clients from the chain. */
  miners?: (neurons: NeuronNode[]) => Promise<{ uid: number; client: MinerClient }[]>
}

export type Score = {
  uid: number
  hotkey: string
  asked: number
  ok: number
  mismatches: number
  weight: number
}

/**
 * The validator service. Every tempo (a new epoch index on chain) it reveals its due weight
 * commits, queries every miner with seeded synthetic prompts, re-executes each answer bit for
 * bit, scores the miners and commits the new weights (commit-reveal, salts kept in SQLite, so a
 * restart can still reveal; plain setWeights when the subnet has commit-reveal off). It also
 * re-executes a share of the receipts gateways gossip. Any mismatch zeroes a miner and stores the
 * evidence.
 */
export class ValidatorService implements Startable {
  readonly peer: Peer
  private readonly init: ValidatorInit

  /** The validator's store: checked answers, evidence of mismatches, commit salts. */
  get store(): NodeStore {
    return this.init.store
  }
  private readonly log = log('node:validator')
  private readonly seed: number
  private readonly modelRoot: Hex
  private timer: ReturnType<typeof setTimeout> | undefined
  private controller: AbortController | undefined
  private running: Promise<unknown> | undefined
  private neurons: NeuronNode[] = []
  private lastEpoch = -1

  constructor(peer: Peer, init: ValidatorInit) {
    this.peer = peer
    this.init = init
    this.seed = init.seed ?? randomBytes(4).readUInt32BE(0)
    this.modelRoot = toHex(init.model.modelRoot)
    this.lastEpoch = init.store.lastCommitEpoch(init.chain.netuid)
  }

  async start(): Promise<void> {
    if (this.controller) return
    this.controller = new AbortController()
    const pubsub = this.peer.services.pubsub
    pubsub.subscribe(receiptTopic(this.init.chain.netuid))
    pubsub.addEventListener('message', this.onGossip)
    const loop = () => {
      const signal = this.controller?.signal
      if (!signal || signal.aborted) return
      this.running = this.tick({ signal })
        .catch((error) => {
          if (!signal.aborted) this.log.error('tick failed: %e', error)
        })
        .finally(() => {
          if (!signal.aborted) this.timer = setTimeout(loop, this.init.pollMs ?? 1000)
        })
    }
    loop()
  }

  async stop(): Promise<void> {
    if (!this.controller) return
    this.controller.abort()
    this.controller = undefined
    clearTimeout(this.timer)
    const pubsub = this.peer.services.pubsub
    pubsub.removeEventListener('message', this.onGossip)
    pubsub.unsubscribe(receiptTopic(this.init.chain.netuid))
    await this.running
  }

  /**
   * One step of the loop: reveal what is due; on a new epoch, run a round of checks and commit
   * weights. Safe to call by hand (tests drive it epoch by epoch).
   */
  async tick(
    options: { signal?: AbortSignal } = {},
  ): Promise<{ epoch: number; revealed: number; committed: boolean }> {
    const { chain } = this.init
    const { epoch } = await readEpoch(chain, options)
    const hp = await readHyperparams(chain, options)
    const revealed = hp.commitReveal
      ? await this.revealDue(epoch, hp.revealPeriodEpochs, options)
      : 0
    if (epoch <= this.lastEpoch) return { epoch, revealed, committed: false }
    await this.round(epoch, options)
    const scores = this.scores(epoch)
    const uids = scores.filter((s) => s.weight > 0).map((s) => s.uid)
    const weights = scores.filter((s) => s.weight > 0).map((s) => s.weight)
    if (uids.length === 0) {
      this.lastEpoch = epoch
      return { epoch, revealed, committed: false }
    }
    const versionKey = BigInt(hp.weightsVersionKey)
    if (hp.commitReveal) {
      const salt = bytesToHex(randomBytes(32))
      const hash = computeCommitHash({
        hotkey: this.init.hotkey.address,
        netuid: chain.netuid,
        uids,
        values: weights,
        salt,
        versionKey,
      })
      // Salt first: a crash after the transaction must still be able to reveal.
      this.init.store.putCommit({
        hash,
        netuid: chain.netuid,
        epoch,
        uids,
        weights,
        salt,
        versionKey,
      })
      await commitWeights(
        chain.walletClient,
        { address: chain.address, netuid: chain.netuid, hash },
        options,
      )
      this.log('epoch %d: committed weights %o for uids %o', epoch, weights, uids)
    } else {
      await setWeights(
        chain.walletClient,
        { address: chain.address, netuid: chain.netuid, uids, values: weights, versionKey },
        options,
      )
      this.init.store.putCommit({
        hash: `0x${'00'.repeat(31)}${(epoch % 256).toString(16).padStart(2, '0')}` as Hex,
        netuid: chain.netuid,
        epoch,
        uids,
        weights,
        salt: '0x',
        versionKey,
      })
      this.init.store.markRevealed(
        `0x${'00'.repeat(31)}${(epoch % 256).toString(16).padStart(2, '0')}` as Hex,
      )
      this.log('epoch %d: set weights %o for uids %o', epoch, weights, uids)
    }
    this.lastEpoch = epoch
    return { epoch, revealed, committed: true }
  }

  private async revealDue(
    epoch: number,
    period: number,
    options: { signal?: AbortSignal },
  ): Promise<number> {
    const { chain, store } = this.init
    let revealed = 0
    for (const c of store.pendingCommits(chain.netuid)) {
      if (epoch < c.epoch + period) continue
      if (epoch > c.epoch + period) {
        store.markRevealed(c.hash, 2)
        this.log('commit of epoch %d expired unrevealed', c.epoch)
        continue
      }
      try {
        await revealWeights(
          chain.walletClient,
          {
            address: chain.address,
            netuid: chain.netuid,
            uids: c.uids,
            values: c.weights,
            salt: c.salt,
            versionKey: c.versionKey,
          },
          options,
        )
        store.markRevealed(c.hash)
        revealed++
        this.log('epoch %d: revealed the commit of epoch %d', epoch, c.epoch)
      } catch (error) {
        const text = error instanceof Error ? error.message : String(error)
        if (/CommitNotFound|RevealExpired/.test(text)) store.markRevealed(c.hash, 2)
        else throw error
      }
    }
    return revealed
  }

  /** Queries every miner with synthetic prompts and re-executes each answer. */
  private async round(epoch: number, options: { signal?: AbortSignal }): Promise<void> {
    const { chain, store } = this.init
    this.neurons = await readNeurons(chain, options)
    const miners = await (this.init.miners ?? ((n) => this.libp2pMiners(n)))(this.neurons)
    const count = this.init.queriesPerMiner ?? 4
    await Promise.all(
      miners.map(async ({ uid, client }) => {
        for (let index = 0; index < count; index++) {
          options.signal?.throwIfAborted()
          const request = syntheticRequest(
            this.init.tokenizer,
            this.modelRoot,
            { seed: this.seed, epoch, uid, index },
            { contextLength: this.init.model.config.contextLength },
          )
          const row: CheckRow = {
            epoch,
            uid,
            hotkey: client.hotkey,
            kind: 'synthetic',
            outcome: 'unavailable',
            latencyMs: null,
          }
          const t0 = performance.now()
          try {
            const answer = await collect(client, request, {
              signal: AbortSignal.any([
                ...(options.signal ? [options.signal] : []),
                AbortSignal.timeout(this.init.requestTimeoutMs ?? 30_000),
              ]),
            })
            row.latencyMs = performance.now() - t0
            row.outcome = this.check(uid, epoch, request, answer.receipt, answer.tokens)
              ? 'ok'
              : 'mismatch'
          } catch (error) {
            options.signal?.throwIfAborted()
            // A published peer that does not speak the infer protocol is not a miner (a validator, a gateway).
            if (error instanceof RemoteError && error.code === 'unsupported_protocol') return
            this.log(
              'uid %d unavailable: %s',
              uid,
              error instanceof BaseError ? error.shortMessage : String(error),
            )
          }
          store.putCheck(row)
        }
      }),
    )
  }

  /** Re-executes one answer; a mismatch is stored as evidence. */
  private check(
    uid: number,
    epoch: number,
    request: InferenceRequest,
    receipt: SignedReceipt,
    tokens: number[],
  ): boolean {
    const { model, tokenizer, store } = this.init
    const result = reexecuteReceipt(model, tokenizer, request, receipt)
    const mismatches = [...result.mismatches]
    if (result.local && result.local.tokens.join(',') !== tokens.join(','))
      mismatches.push('tokens: the streamed tokens differ from the local run')
    if (mismatches.length === 0) return true
    this.log('uid %d: MISMATCH %o', uid, mismatches)
    store.putEvidence({
      hotkey: receipt.minerHotkey,
      uid,
      epoch,
      request,
      receipt,
      tokens,
      mismatches,
    })
    return false
  }

  private onGossip = (event: CustomEvent<Message>) => {
    const message = event.detail
    if (message.topic !== receiptTopic(this.init.chain.netuid)) return
    if (Math.random() >= (this.init.gossipSampleRate ?? 0.25)) return
    void this.checkGossip(message.data).catch((error) => this.log('gossip check failed: %e', error))
  }

  private async checkGossip(data: Uint8Array): Promise<void> {
    const bundle = parseReceiptBundle(JSON.parse(new TextDecoder().decode(data)))
    await verifyReceipt(bundle.receipt, {
      request: bundle.request,
      ...(bundle.tokens ? { tokens: bundle.tokens } : {}),
    })
    if (
      bundle.receipt.chainId !== this.init.chain.chainId ||
      bundle.receipt.netuid !== this.init.chain.netuid
    )
      return
    if (bundle.request.modelRoot.toLowerCase() !== this.modelRoot) return
    const neuron = this.neurons.find(
      (n) => n.hotkey.toLowerCase() === bundle.receipt.minerHotkey.toLowerCase(),
    )
    if (!neuron) return
    const epoch = Math.max(this.lastEpoch, 0)
    const ok = this.check(neuron.uid, epoch, bundle.request, bundle.receipt, bundle.tokens ?? [])
    this.init.store.putCheck({
      epoch,
      uid: neuron.uid,
      hotkey: neuron.hotkey,
      kind: 'gossip',
      outcome: ok ? 'ok' : 'mismatch',
      latencyMs: null,
    })
  }

  /** libp2p clients for every uid published on chain (peers without the infer protocol drop out when queried). */
  private async libp2pMiners(neurons: NeuronNode[]) {
    const out: { uid: number; client: MinerClient }[] = []
    for (const n of neurons) {
      if (
        n.peerId === undefined ||
        n.hotkey.toLowerCase() === this.init.hotkey.address.toLowerCase()
      )
        continue
      const client = new Libp2pMinerClient({
        peer: this.peer,
        hotkey: n.hotkey,
        peerId: n.peerId,
        multiaddrs: n.multiaddrs,
        caller: this.init.hotkey,
        timeoutMs: this.init.requestTimeoutMs ?? 30_000,
      })
      out.push({ uid: n.uid, client })
    }
    return out
  }

  /**
   * Scores over the last `scoreWindow` epochs: 0 for a hotkey with any evidence of a wrong
   * answer; otherwise availability (answered / asked) times a latency factor
   * 1 / (1 + median latency / 1 s), scaled so the best miner gets 65535.
   */
  scores(epoch: number): Score[] {
    const { store } = this.init
    const window = this.init.scoreWindow ?? 4
    const cheaters = store.cheaters()
    const by = new Map<
      number,
      { hotkey: string; asked: number; ok: number; mismatches: number; latencies: number[] }
    >()
    for (const c of store.checks(epoch - window + 1)) {
      const s = by.get(c.uid) ?? { hotkey: c.hotkey, asked: 0, ok: 0, mismatches: 0, latencies: [] }
      s.hotkey = c.hotkey
      s.asked++
      if (c.outcome === 'ok') s.ok++
      if (c.outcome === 'mismatch') s.mismatches++
      if (c.latencyMs !== null) s.latencies.push(c.latencyMs)
      by.set(c.uid, s)
    }
    const raw = [...by.entries()].map(([uid, s]) => {
      let value = 0
      if (!cheaters.has(s.hotkey.toLowerCase()) && s.mismatches === 0 && s.asked > 0) {
        const sorted = s.latencies.sort((a, b) => a - b)
        const median = sorted.length ? sorted[Math.floor(sorted.length / 2)]! : 0
        value = (s.ok / s.asked) * (1 / (1 + median / 1000))
      }
      return { uid, hotkey: s.hotkey, asked: s.asked, ok: s.ok, mismatches: s.mismatches, value }
    })
    const max = Math.max(0, ...raw.map((r) => r.value))
    return raw
      .sort((a, b) => a.uid - b.uid)
      .map(({ value, ...r }) => ({
        ...r,
        weight: max > 0 ? Math.max(value > 0 ? 1 : 0, Math.round((value / max) * 65535)) : 0,
      }))
  }
}
