import { randomBytes } from 'node:crypto'
import type { Startable } from '@libp2p/interface'
import { bytesToHex, type Hex } from 'viem'
import type { LocalAccount } from 'viem/accounts'
import { commitWeights } from '../chain/actions/commitWeights.ts'
import { computeCommitHash } from '../chain/actions/computeCommitHash.ts'
import { revealWeights } from '../chain/actions/revealWeights.ts'
import { setWeights } from '../chain/actions/setWeights.ts'
import { BaseError } from '../errors/base.ts'
import { RemoteError } from '../errors/node.ts'
import { describeLoadedModel, type ServedModel } from '../gateway/model.ts'
import { parseChatRequest } from '../gateway/params.ts'
import { chatRequest } from '../gateway/request.ts'
import type { Model } from '../runtime/model/load.ts'
import type { Tokenizer } from '../runtime/tokenizer/index.ts'
import type { Address, InferenceRequest, MinerClient } from '../types/inference.ts'
import { parseReceiptBundle, type ReceiptBundle, verifyBundle } from '../verify/bundle.ts'
import { checkAnswer, type Evidence } from '../verify/evidence.ts'
import { promptRenderer } from '../verify/prompt/render.ts'
import { type ChainContext, type NeuronNode, readHyperparams } from './chain.ts'
import { collect, Libp2pMinerClient } from './client.ts'
import { MinerDiscovery } from './discover.ts'
import type { DisputeService } from './disputes.ts'
import { evidenceTopic, guardEvidenceTopic, guardReceiptTopic, secretSample } from './gossip.ts'
import { log } from './log.ts'
import { NodeMetrics } from './metrics.ts'
import type { Peer } from './peer.ts'
import type { CheckRow, NodeStore } from './store.ts'
import { SubnetView } from './subnet-view.ts'
import { type ChatBody, ChatWorkload } from './workload.ts'

export type ValidatorInit = {
  hotkey: LocalAccount
  chain: ChainContext
  model: Model
  tokenizer: Tokenizer
  store: NodeStore
  /**
   * Where synthetic checks go: a gateway's OpenAI API (`http://host:port`), so that they reach
   * miners exactly as users' requests do. Without one, checks are sent straight to miners over
   * libp2p, signed by this validator's hotkey: a miner can tell those apart (documented).
   */
  gatewayUrl?: string
  /** Synthetic checks per miner per epoch (default 4). */
  queriesPerMiner?: number
  /**
   * When synthetic checks are sent: `spread` over the epoch at random times (the default when
   * the service loop runs), or `epoch`: a round at each new epoch, in `tick()` (tests).
   */
  probe?: 'spread' | 'epoch'
  /** Share of gossiped receipt bundles re-executed, chosen by a secret keyed hash (default 0.25). */
  sampleRate?: number
  /** Largest number of checks waiting for re-execution; more are dropped and counted (default 1024). */
  maxQueue?: number
  /** Seed of the synthetic traffic (default: random per process). */
  seed?: number
  /** Epochs a score looks back over, evidence included (default 4). */
  scoreWindow?: number
  /** How often the loop polls the chain (default 1000 ms). */
  pollMs?: number
  /** Per-request limit (default 30 s). */
  requestTimeoutMs?: number
  /** The shortest dispute window a receipt may give (validUntilBlock - issuedBlock; default 100). */
  minDisputeBlocks?: number
  /**
   * The validator's side of the dispute game: evidence of a wrong trace or output is disputed on
   * chain (absent: evidence only counts against the miner's score).
   */
  disputes?: DisputeService
  /** Where the node's metrics go (default: a registry of this service's own). */
  metrics?: NodeMetrics
  /** Override how miners are reached directly (tests); default: libp2p clients from the chain. */
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

/** Counters of what the validator did with gossip and checks (devnet reports, tests). */
export type ValidatorStats = {
  gossipAccepted: number
  gossipRejected: number
  gossipIgnored: number
  gossipLimited: number
  sampled: number
  checked: number
  dropped: number
  evidence: number
  /** Wall time spent re-executing answers, in ms. */
  checkMs: number
}

/**
 * The validator service. Every answer on the subnet may be checked after the fact: gateways
 * gossip every receipt bundle, and this validator re-executes a secret sample of them (a keyed
 * hash of the receipt decides, so no miner can tell which answers will be checked). It also sends
 * its own synthetic checks through a gateway, drawn from the same chat workload as user traffic,
 * spread over the epoch at random times. Every check is a bit-for-bit re-execution; a mismatch
 * stores self-proving evidence (the miner's signed receipt and what it commits to) and shares it.
 * Every tempo it scores the miners and commits weights (commit-reveal with salts in SQLite, so a
 * restart can still reveal; plain setWeights when the subnet has commit-reveal off).
 */
export class ValidatorService implements Startable {
  readonly peer: Peer
  readonly view: SubnetView
  private readonly init: ValidatorInit
  private readonly log = log('node:validator')
  private readonly workload: ChatWorkload
  private readonly sampleKey = randomBytes(32)
  private readonly queue: Array<{
    bundle: ReceiptBundle
    uid: number
    kind: CheckRow['kind']
    latencyMs: number | null
  }> = []
  private draining: Promise<void> | undefined
  private timer: ReturnType<typeof setTimeout> | undefined
  private probeTimer: ReturnType<typeof setTimeout> | undefined
  private controller: AbortController | undefined
  private running: Promise<unknown> | undefined
  private guard: ReturnType<typeof guardReceiptTopic> | undefined
  private evidenceGuard: ReturnType<typeof guardEvidenceTopic> | undefined
  /** Receipts already queued (requestHash:nonce), so no answer is re-executed twice. */
  private readonly seen = new Set<string>()
  private lastEpoch = -1
  private epochStartedAt = 0
  private epochMs = 15_000
  private probeCursor = 0
  private readonly discovery: MinerDiscovery
  readonly metrics: NodeMetrics
  readonly stats: ValidatorStats = {
    gossipAccepted: 0,
    gossipRejected: 0,
    gossipIgnored: 0,
    gossipLimited: 0,
    sampled: 0,
    checked: 0,
    dropped: 0,
    evidence: 0,
    checkMs: 0,
  }

  /** The validator's store: checked answers, evidence of mismatches, commit salts. */
  get store(): NodeStore {
    return this.init.store
  }

  constructor(peer: Peer, init: ValidatorInit) {
    this.peer = peer
    this.init = init
    this.workload = new ChatWorkload(
      promptRenderer(init.model.metadata),
      init.model.config.contextLength,
      init.seed ?? randomBytes(4).readUInt32BE(0),
    )
    this.metrics = init.metrics ?? new NodeMetrics()
    this.lastEpoch = init.store.lastCommitEpoch(init.chain.netuid)
    this.discovery = new MinerDiscovery(peer)
    this.view = new SubnetView({
      publicClient: init.chain.publicClient,
      address: init.chain.address,
      netuid: init.chain.netuid,
    })
  }

  /** Starts the gossip guard and the chain view; with `loop`, also the tick and probe loops. */
  async start(options: { loop?: boolean } = {}): Promise<void> {
    if (this.controller) return
    this.controller = new AbortController()
    await this.view.start()
    const { chain } = this.init
    this.guard = guardReceiptTopic(this.peer, {
      chainId: chain.chainId,
      netuid: chain.netuid,
      verifyingContract: chain.address,
      view: this.view,
      onBundle: (bundle, uid) => this.onBundle(bundle, uid),
      onReject: (reason, from) => this.log('rejected gossip from %p: %s', from, reason),
    })
    this.evidenceGuard = guardEvidenceTopic(this.peer, {
      chainId: chain.chainId,
      netuid: chain.netuid,
      verifyingContract: chain.address,
      view: this.view,
      // Another validator's evidence is a bundle to re-execute first: if it holds, this
      // validator's own re-execution makes it evidence here too.
      onBundle: (bundle, uid) =>
        this.enqueue({ bundle, uid, kind: 'gossip', latencyMs: null }, true),
    })
    if (options.loop === false) return
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
    if ((this.init.probe ?? 'spread') === 'spread') this.scheduleProbe()
  }

  /** Starts the spread-out synthetic checks alone (when something else drives `tick`). */
  async startProbes(): Promise<void> {
    if (!this.controller) await this.start({ loop: false })
    if (this.probeTimer === undefined) this.scheduleProbe()
  }

  async stop(): Promise<void> {
    if (!this.controller) return
    this.controller.abort()
    this.controller = undefined
    clearTimeout(this.timer)
    clearTimeout(this.probeTimer)
    this.guard?.uninstall()
    this.evidenceGuard?.uninstall()
    await this.view.stop()
    await this.running
    await this.draining
  }

  /** Counters of the gossip guard and the check queue. */
  snapshot(): ValidatorStats {
    const c = this.guard?.counters
    return {
      ...this.stats,
      gossipAccepted: c?.accepted ?? 0,
      gossipRejected: c?.rejected ?? 0,
      gossipIgnored: c?.ignored ?? 0,
      gossipLimited: c?.limited ?? 0,
    }
  }

  // --- sampling of gossiped answers

  /** Whether this validator re-executes a gossiped answer (`secretSample` under its key). */
  sampled(bundle: ReceiptBundle): boolean {
    return secretSample(this.sampleKey, bundle, this.init.sampleRate ?? 0.25)
  }

  private onBundle(bundle: ReceiptBundle, uid: number): void {
    if (!this.sampled(bundle)) return
    this.stats.sampled++
    this.enqueue({ bundle, uid, kind: 'gossip', latencyMs: null })
  }

  private enqueue(item: (typeof this.queue)[number], first = false): void {
    const key = `${item.bundle.receipt.requestHash}:${item.bundle.receipt.nonce}`.toLowerCase()
    if (this.seen.has(key)) return
    if (this.queue.length >= (this.init.maxQueue ?? 1024)) {
      this.stats.dropped++
      return
    }
    this.seen.add(key)
    if (this.seen.size > 100_000) this.seen.delete(this.seen.values().next().value!)
    if (first) this.queue.unshift(item)
    else this.queue.push(item)
    this.draining ??= this.drain().finally(() => {
      this.draining = undefined
    })
  }

  /** Re-executes queued answers one at a time, pausing on the event loop between tokens. */
  private async drain(): Promise<void> {
    for (let item = this.queue.shift(); item; item = this.queue.shift()) {
      if (this.controller?.signal.aborted) return
      await this.check(item.uid, item.bundle, item.kind, item.latencyMs).catch((error) =>
        this.log.error('check failed: %e', error),
      )
    }
  }

  /** Waits until every queued check is done (tests, the devnet's epoch driver). */
  async settled(): Promise<void> {
    while (this.draining) await this.draining
  }

  /**
   * Re-executes one verified bundle. Only a complete bundle signed by the miner ever gets here;
   * a disagreement is stored (and gossiped) as self-proving evidence.
   */
  private async check(
    uid: number,
    bundle: ReceiptBundle,
    kind: CheckRow['kind'],
    latencyMs: number | null,
  ): Promise<boolean> {
    const { model, tokenizer, store } = this.init
    const epoch = Math.max(this.view.epoch, 0)
    const signal = this.controller?.signal
    const t0 = performance.now()
    const result = await checkAnswer(model, tokenizer, bundle, signal ? { signal } : {})
    this.stats.checkMs += performance.now() - t0
    let evidence: Evidence | undefined = result.ok ? undefined : result.evidence
    const window = bundle.receipt.validUntilBlock - bundle.receipt.issuedBlock
    const minimum = this.init.minDisputeBlocks ?? 100
    if (window < minimum) {
      const line = `validUntilBlock: disputable for ${window} blocks after issue, the subnet requires ${minimum}`
      evidence = evidence
        ? { ...evidence, mismatches: [...evidence.mismatches, line] }
        : {
            bundle,
            local: {
              tokens: bundle.tokens,
              outputHash: bundle.receipt.outputHash,
              traceRoot: bundle.receipt.traceRoot,
              traceLeaves: bundle.receipt.traceLeaves,
            },
            mismatches: [line],
          }
    }
    this.stats.checked++
    this.metrics.checks.inc({ kind, outcome: evidence ? 'mismatch' : 'ok' })
    store.putCheck({
      epoch,
      uid,
      hotkey: bundle.receipt.minerHotkey,
      kind,
      outcome: evidence ? 'mismatch' : 'ok',
      latencyMs,
    })
    if (!evidence) return true
    this.log.warn('uid %d: MISMATCH %o', uid, evidence.mismatches)
    this.stats.evidence++
    this.metrics.mismatches.inc()
    store.putEvidence({ uid, epoch, evidence })
    await this.peer.services.pubsub
      .publish(
        evidenceTopic(this.init.chain.netuid),
        new TextEncoder().encode(JSON.stringify(evidence)),
      )
      .catch(() => {})
    this.dispute(evidence)
    return false
  }

  /**
   * Disputes on chain what the evidence shows about the trace or the output (a receipt's window
   * alone is not something the game judges). The open is queued in the dispute service; checks
   * go on meanwhile.
   */
  private dispute(evidence: Evidence): void {
    const disputes = this.init.disputes
    if (!disputes) return
    if (!evidence.mismatches.some((m) => /^(traceRoot|outputHash|tokens)\b/.test(m))) return
    const signal = this.controller?.signal
    void disputes
      .challenge(evidence.bundle, signal ? { signal } : {})
      .then((r) => {
        if (!r.opened)
          this.log(
            'no dispute over a receipt of %s: %s',
            evidence.bundle.receipt.minerHotkey,
            r.reason,
          )
      })
      .catch((error) => {
        if (!signal?.aborted) this.log.error('opening a dispute failed: %e', error)
      })
  }

  // --- synthetic checks

  /**
   * The subnet's miners as this validator knows them: published nodes, not itself, that speak the
   * infer protocol (asked through identify; nodes not asked yet are asked in the background).
   */
  private minerNeurons(): NeuronNode[] {
    const self = this.init.hotkey.address.toLowerCase()
    return this.view.neurons.filter((n) => {
      if (n.peerId === undefined || n.hotkey.toLowerCase() === self) return false
      const miner = this.discovery.cached(n)
      if (miner === undefined) void this.discovery.isMiner(n)
      return miner === true
    })
  }

  /** Learns which published nodes are miners (probe rounds and tests wait for it). */
  async discoverMiners(): Promise<NeuronNode[]> {
    const self = this.init.hotkey.address.toLowerCase()
    await Promise.all(
      this.view.neurons
        .filter((n) => n.peerId !== undefined && n.hotkey.toLowerCase() !== self)
        .map((n) => this.discovery.isMiner(n)),
    )
    return this.minerNeurons()
  }

  private scheduleProbe(): void {
    const signal = this.controller?.signal
    if (!signal || signal.aborted) return
    const miners = Math.max(1, this.minerNeurons().length)
    const mean = this.epochMs / ((this.init.queriesPerMiner ?? 4) * miners)
    // Exponential gaps: a Poisson stream of checks, no rhythm to lock on to.
    const gap = -Math.log(1 - Math.random()) * mean
    this.probeTimer = setTimeout(() => {
      const targets = this.minerNeurons()
      if (targets.length > 0) {
        const target = targets[this.probeCursor++ % targets.length]!
        void this.probe(target).catch((error) => this.log('probe failed: %e', error))
      }
      this.scheduleProbe()
    }, gap)
  }

  /** Sends one synthetic check to one miner and queues its answer for re-execution. */
  async probe(target: NeuronNode): Promise<void> {
    const body = this.workload.next(this.init.model.config.name)
    const t0 = performance.now()
    let bundle: ReceiptBundle
    try {
      bundle = this.init.gatewayUrl
        ? await this.viaGateway(body, target.hotkey)
        : await this.direct(body, target)
    } catch (error) {
      if (error instanceof SkipCheck) return
      this.metrics.checks.inc({ kind: 'synthetic', outcome: 'unavailable' })
      this.init.store.putCheck({
        epoch: Math.max(this.view.epoch, 0),
        uid: target.uid,
        hotkey: target.hotkey,
        kind: 'synthetic',
        outcome: 'unavailable',
        latencyMs: null,
      })
      this.log(
        'uid %d unavailable: %s',
        target.uid,
        error instanceof BaseError ? error.shortMessage : String(error),
      )
      return
    }
    this.enqueue({ bundle, uid: target.uid, kind: 'synthetic', latencyMs: performance.now() - t0 })
  }

  /** A chat request through the gateway's OpenAI API, routed only to `miner`. */
  private async viaGateway(body: ChatBody, miner: Address): Promise<ReceiptBundle> {
    const res = await fetch(`${this.init.gatewayUrl}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ ...body, provider: { only: [miner] } }),
      signal: AbortSignal.timeout(this.init.requestTimeoutMs ?? 30_000),
    })
    const json = (await res.json().catch(() => undefined)) as { verity?: unknown } | undefined
    // The gateway has no route to this miner (not found yet, or benched): not the miner's doing.
    if (res.status === 503 || res.status === 404) throw new SkipCheck()
    if (res.status !== 200 || !json?.verity)
      throw new RemoteError('gateway', `the gateway answered ${res.status}`)
    const bundle = parseReceiptBundle(json)
    await verifyBundle(bundle, {
      chainId: this.init.chain.chainId,
      netuid: this.init.chain.netuid,
      verifyingContract: this.init.chain.address,
    })
    if (bundle.receipt.minerHotkey.toLowerCase() !== miner.toLowerCase()) throw new SkipCheck()
    return bundle
  }

  /** The same request straight to the miner over libp2p, signed by this validator's hotkey. */
  private async direct(body: ChatBody, target: NeuronNode): Promise<ReceiptBundle> {
    const client = (await this.minerClients([target]))[0]?.client
    if (!client) throw new SkipCheck()
    const request = this.chatRequest(body)
    const answer = await collect(client, request, {
      signal: AbortSignal.timeout(this.init.requestTimeoutMs ?? 30_000),
    })
    return { request, tokens: answer.tokens, receipt: answer.receipt, call: answer.call }
  }

  /** The InferenceRequest a gateway would build from a chat body (direct checks only). */
  private chatRequest(body: ChatBody): InferenceRequest {
    this.served ??= describeLoadedModel(this.init.model)
    return chatRequest(this.served, parseChatRequest(body as unknown as Record<string, unknown>), {
      maxTokens: 256,
      chooseSeed: () => randomBytes(4).readUInt32BE(0),
      now: Date.now(),
    })
  }
  private served: ServedModel | undefined

  private async minerClients(neurons: NeuronNode[]) {
    if (this.init.miners) return await this.init.miners(neurons)
    return neurons
      .filter((n) => n.peerId !== undefined)
      .map((n) => ({
        uid: n.uid,
        client: new Libp2pMinerClient({
          peer: this.peer,
          hotkey: n.hotkey,
          peerId: n.peerId!,
          multiaddrs: n.multiaddrs,
          caller: this.init.hotkey,
          timeoutMs: this.init.requestTimeoutMs ?? 30_000,
        }) as MinerClient,
      }))
  }

  /** One synthetic check of every miner, now (the `epoch` probe mode, tests). */
  async probeRound(options: { signal?: AbortSignal } = {}): Promise<void> {
    await this.view.refresh({ metagraph: true, ...options })
    const count = this.init.queriesPerMiner ?? 4
    await Promise.all(
      (await this.discoverMiners()).map(async (n) => {
        for (let i = 0; i < count; i++) {
          options.signal?.throwIfAborted()
          await this.probe(n)
        }
      }),
    )
    await this.settled()
  }

  // --- epochs and weights

  /**
   * One step of the loop: reveal what is due; on a new epoch (in `epoch` probe mode, after a
   * round of checks), commit weights from the scores. Safe to call by hand (tests and the
   * devnet's epoch driver call it epoch by epoch).
   */
  async tick(
    options: { signal?: AbortSignal } = {},
  ): Promise<{ epoch: number; revealed: number; committed: boolean }> {
    const { chain } = this.init
    await this.view.refresh(options)
    const epoch = this.view.epoch
    const hp = await readHyperparams(chain, options)
    const revealed = hp.commitReveal
      ? await this.revealDue(epoch, hp.revealPeriodEpochs, options)
      : 0
    if (epoch <= this.lastEpoch) return { epoch, revealed, committed: false }
    if (this.epochStartedAt > 0) this.epochMs = Math.max(1000, Date.now() - this.epochStartedAt)
    this.epochStartedAt = Date.now()
    if (this.init.probe === 'epoch') await this.probeRound(options)
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
      this.metrics.weightCommits.inc({ mode: 'commit' })
      this.log.info('epoch %d: committed weights %o for uids %o', epoch, weights, uids)
    } else {
      await setWeights(
        chain.walletClient,
        { address: chain.address, netuid: chain.netuid, uids, values: weights, versionKey },
        options,
      )
      const marker = `0x${'00'.repeat(31)}${(epoch % 256).toString(16).padStart(2, '0')}` as Hex
      this.init.store.putCommit({
        hash: marker,
        netuid: chain.netuid,
        epoch,
        uids,
        weights,
        salt: '0x',
        versionKey,
      })
      this.init.store.markRevealed(marker)
      this.metrics.weightCommits.inc({ mode: 'set' })
      this.log.info('epoch %d: set weights %o for uids %o', epoch, weights, uids)
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
        this.log.warn('commit of epoch %d expired unrevealed', c.epoch)
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
        this.metrics.weightReveals.inc()
        this.log.info('epoch %d: revealed the commit of epoch %d', epoch, c.epoch)
      } catch (error) {
        const text = error instanceof Error ? error.message : String(error)
        if (/CommitNotFound|RevealExpired/.test(text)) store.markRevealed(c.hash, 2)
        else throw error
      }
    }
    return revealed
  }

  /**
   * Scores over the last `scoreWindow` epochs: 0 for a hotkey with evidence of a wrong answer in
   * that window; otherwise availability (answered / asked) times a latency factor
   * 1 / (1 + median latency / 1 s), scaled so the best miner gets 65535.
   */
  scores(epoch: number): Score[] {
    const { store } = this.init
    const window = this.init.scoreWindow ?? 4
    const from = epoch - window + 1
    const cheaters = store.cheaters(from)
    const by = new Map<
      number,
      { hotkey: string; asked: number; ok: number; mismatches: number; latencies: number[] }
    >()
    for (const c of store.checks(from)) {
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

/** A check that could not be made for reasons that are not the miner's (no route, no client). */
class SkipCheck extends Error {}
