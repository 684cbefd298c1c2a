import type { Connection, Startable, Stream } from '@libp2p/interface'
import type { LocalAccount } from 'viem/accounts'
import { BaseError } from '../errors/base.ts'
import { PriceSheetError } from '../errors/node.ts'
import type { Model } from '../runtime/model/load.ts'
import type { Tokenizer } from '../runtime/tokenizer/index.ts'
import { toHex } from '../runtime/trace/merkle.ts'
import type { TraceFault } from '../runtime/trace/ops.ts'
import type { Address, Hex, InferenceRequest } from '../types/inference.ts'
import { type Answer, answerCall, type ReceiptSigner } from '../verify/answer.ts'
import {
  ReplayGuard,
  type ReplayGuardOptions,
  type SignedRequest,
  verifySignedRequest,
} from '../verify/call.ts'
import {
  answerCost,
  priceSheetToJson,
  type SignedPriceSheet,
  signPriceSheet,
} from '../verify/price.ts'
import { type PromptRenderer, promptRenderer } from '../verify/prompt/render.ts'
import { receiptDigest } from '../verify/receipt.ts'
import { type CallFeatures, type CheatMode, judgeCall, madeUp, subtleFault } from './cheat.ts'
import {
  type ErrorFrame,
  INFER_PROTOCOL,
  PRICE_PROTOCOL,
  readFrames,
  writeFrame,
} from './frames.ts'
import { log } from './log.ts'
import { type MinerOutcome, NodeMetrics } from './metrics.ts'
import type { PaymentReceiver } from './payee.ts'
import type { Peer } from './peer.ts'
import type { NodeStore } from './store.ts'
import type { NeuronView } from './subnet-view.ts'

/** Why a caller is served or not (`admit`). */
export type Admission = { ok: true } | { ok: false; reason: string }

export type MinerInit = {
  hotkey: LocalAccount
  model: Model
  tokenizer: Tokenizer
  chainId: number
  netuid: number
  /** The Verity contract receipts name (EIP-712 verifyingContract). */
  verifyingContract: Address
  store: NodeStore
  /** The chain's latest block as this node knows it (receipts are issued at it). */
  blockNumber: () => number
  /** Blocks a receipt stays disputable after it is issued, and stored (default 7200). */
  disputeWindowBlocks?: number
  /**
   * Who may be served. Default: everyone. A node on a chain admits the subnet's registered
   * hotkeys (gateways and validators) and refuses anyone else with `unauthorized`.
   */
  admit?: (caller: Address) => Admission
  /** The caller's uid, for a selective cheater's judgement. */
  callerNeuron?: (caller: Address) => NeuronView | undefined
  /** When this node saw the current epoch begin (Date.now()), for a selective cheater. */
  epochSeenAt?: () => number
  /** Answers computed at once; they interleave token by token (default 4). */
  maxConcurrent?: number
  /** Calls waiting for a slot; one more gets `busy` (default 32). */
  maxQueued?: number
  /** Calls one caller may have running or waiting; one more gets `busy` (default 16). */
  maxPerCaller?: number
  replay?: ReplayGuardOptions
  /** Time a caller has to send its request after opening the stream (default 10 s). */
  requestTimeoutMs?: number
  /** A cheater (devnets and tests of the validators): see src/node/cheat.ts. */
  cheat?: CheatMode
  /** Fault injection for tests: reset the stream after this many token frames. */
  dieAfterTokens?: number
  /** For tests of admission: every answer, once admitted and counted as running, waits for this. */
  holdAnswers?: () => Promise<void>
  /** Where the node's metrics go (default: a registry of this service's own). */
  metrics?: NodeMetrics
  /** The advertised price, VTY wei per prompt and completion token (default: free). */
  price?: { prompt: bigint; completion: bigint }
  /**
   * Payment by voucher (src/node/payee.ts): every priced answer is recorded as owed by its caller
   * until a voucher pays it, and a caller owing `creditLimit` answers (default 8) is refused
   * (`unpaid`) until it pays.
   */
  payee?: Pick<PaymentReceiver, 'served' | 'owed'>
  /**
   * Callers a priced miner serves unpriced requests for free: a validator's direct checks (it
   * does not pay, and a check must reach the miner it judges). A node on a chain passes the staked
   * hotkeys. Their priced requests are charged like anyone's.
   */
  freeFor?: (caller: Address) => boolean
  creditLimit?: number
  /** Unix-seconds clock of the price sheet (tests; default Date.now() / 1000). */
  nowSeconds?: () => number
}

/** A price sheet is signed for an hour and signed again when less than ten minutes are left. */
const PRICE_SHEET_S = 3600
const PRICE_RESIGN_S = 600

/**
 * Inbound infer streams one connection may have open. A gateway sends all its users' requests to a
 * miner over one connection, so this is well above what admission lets run (maxConcurrent plus
 * the queue): beyond those the miner answers `busy`, which a gateway fails over on, rather than a
 * stream reset.
 */
const MAX_STREAMS_PER_CONNECTION = 256

/**
 * The miner service: serves `/verity/infer/1` with the runtime. A request frame carries a
 * caller-signed request; bad signatures, replayed nonces, stale timestamps and callers the miner
 * does not admit get an error frame and the miner keeps serving. At most `maxConcurrent` answers
 * run at once, `maxQueued` wait, and one caller holds at most `maxPerCaller`: beyond that the
 * answer is `busy`. An answer stops as soon as its caller goes away. Each answer is streamed
 * token by token, then a done frame with the EIP-712 receipt; the request, tokens and receipt are
 * kept in SQLite for the dispute window.
 */
export class MinerService implements Startable {
  readonly peer: Peer
  private readonly init: MinerInit
  private readonly guard: ReplayGuard
  private readonly log = log('node:miner')
  private readonly renderer: PromptRenderer
  private readonly signer: ReceiptSigner
  private readonly modelRoot: Hex
  private started = false
  private sheet: Promise<SignedPriceSheet> | undefined
  private current: { prompt: bigint; completion: bigint } | undefined
  private running = 0
  private readonly waiting: Array<() => void> = []
  private readonly perCaller = new Map<string, number>()
  /** Answers served, requests refused, answers abandoned by their caller (metrics and tests). */
  served = 0
  refused = 0
  abandoned = 0
  /** How a cheater judged each call it saw: feature → count. */
  readonly judged = new Map<string, number>()
  readonly metrics: NodeMetrics

  constructor(peer: Peer, init: MinerInit) {
    this.peer = peer
    this.init = init
    this.metrics = init.metrics ?? new NodeMetrics()
    // Nonces live in the store, so a request replayed to a restarted miner is still refused.
    this.guard = new ReplayGuard({ nonces: init.store.nonceBook(), ...init.replay })
    this.renderer = promptRenderer(init.model.metadata)
    this.modelRoot = toHex(init.model.modelRoot)
    this.signer = {
      hotkey: init.hotkey,
      chainId: init.chainId,
      netuid: init.netuid,
      verifyingContract: init.verifyingContract,
      blockNumber: init.blockNumber,
      disputeWindowBlocks: init.disputeWindowBlocks ?? 7200,
    }
  }

  get hotkey() {
    return this.init.hotkey.address
  }

  /** Answers running and waiting now. */
  get load(): { running: number; queued: number } {
    return { running: this.running, queued: this.waiting.length }
  }

  async start(): Promise<void> {
    if (this.started) return
    await this.peer.handle(
      INFER_PROTOCOL,
      (stream, connection) => this.handle(stream, connection),
      { maxInboundStreams: MAX_STREAMS_PER_CONNECTION },
    )
    await this.peer.handle(PRICE_PROTOCOL, (stream) => this.sendPrice(stream))
    this.started = true
  }

  /** The advertised prices, VTY wei per token. */
  get price(): { prompt: bigint; completion: bigint } {
    return this.current ?? this.init.price ?? { prompt: 0n, completion: 0n }
  }

  /**
   * Changes the price: the next sheet asked for is signed at it, and requests priced below it are
   * refused from now on (a gateway holding the old sheet fails over and fetches the new one).
   */
  setPrice(price: { prompt: bigint; completion: bigint }): void {
    if (price.prompt < 0n || price.completion < 0n)
      throw new PriceSheetError('a price cannot be negative')
    this.current = { ...price }
    this.sheet = undefined
  }

  /**
   * Why a request's price is not acceptable now (undefined: it is). A priced miner serves only
   * requests that commit to at least its current prices, so every receipt it signs names what
   * the answer is owed; a free miner serves any request, priced or not.
   */
  private underpaid(request: InferenceRequest): string | undefined {
    const { prompt, completion } = this.price
    if (prompt === 0n && completion === 0n) return undefined
    const want = `${prompt} wei per prompt token and ${completion} per completion token`
    if (request.price === undefined)
      return `this miner charges ${want}; the request carries no price`
    const p = BigInt(request.price.promptWei)
    const c = BigInt(request.price.completionWei)
    if (p < prompt || c < completion)
      return `the request's price (${p} and ${c} wei per token) is below this miner's current price, ${want}; fetch its price sheet again`
    return undefined
  }

  /** The current signed price sheet (signed again shortly before it expires). */
  async priceSheet(): Promise<SignedPriceSheet> {
    const now = Math.floor(this.init.nowSeconds?.() ?? Date.now() / 1000)
    const current = await this.sheet?.catch(() => undefined)
    if (current && current.validUntil - now > PRICE_RESIGN_S) return current
    this.sheet = signPriceSheet(this.init.hotkey, {
      chainId: this.init.chainId,
      netuid: this.init.netuid,
      modelRoot: this.modelRoot,
      minerHotkey: this.init.hotkey.address,
      verifyingContract: this.init.verifyingContract,
      promptPrice: this.price.prompt,
      completionPrice: this.price.completion,
      issuedAt: now,
      validUntil: now + PRICE_SHEET_S,
    })
    return await this.sheet
  }

  private async sendPrice(stream: Stream): Promise<void> {
    try {
      await writeFrame(stream, { type: 'price', sheet: priceSheetToJson(await this.priceSheet()) })
      await stream.close()
    } catch (error) {
      this.log.error('price stream failed: %e', error)
      stream.abort(error instanceof Error ? error : new Error(String(error)))
    }
  }

  async stop(): Promise<void> {
    if (!this.started) return
    this.started = false
    await this.peer.unhandle(INFER_PROTOCOL)
    await this.peer.unhandle(PRICE_PROTOCOL)
  }

  private async handle(stream: Stream, connection: Connection): Promise<void> {
    const timer = setTimeout(
      () => stream.abort(new Error('no request frame in time')),
      this.init.requestTimeoutMs ?? 10_000,
    )
    try {
      const frames = readFrames(stream)
      const first = await frames.next().finally(() => clearTimeout(timer))
      if (first.done) return
      const frame = first.value as { type?: unknown; call?: unknown }
      if (frame?.type !== 'request') {
        await this.refuse(stream, 'bad_frame', 'the first frame must be a request frame')
        return
      }
      let call: SignedRequest
      try {
        call = await verifySignedRequest(frame.call, { miner: this.hotkey })
        this.guard.check(call)
      } catch (error) {
        const message = error instanceof BaseError ? error.shortMessage : String(error)
        const code = /replayed/.test(message)
          ? 'replay'
          : /stale/.test(message)
            ? 'stale'
            : /signature|another miner/.test(message)
              ? 'unauthorized'
              : 'bad_request'
        await this.refuse(stream, code, message)
        return
      }
      if (call.request.modelRoot.toLowerCase() !== this.modelRoot) {
        await this.refuse(stream, 'wrong_model', `this miner serves model ${this.modelRoot}`)
        return
      }
      const admission = this.init.admit?.(call.caller) ?? { ok: true }
      if (!admission.ok) {
        await this.refuse(stream, 'unauthorized', admission.reason)
        return
      }
      const underpaid =
        call.request.price === undefined && this.init.freeFor?.(call.caller)
          ? undefined
          : this.underpaid(call.request)
      if (underpaid) {
        await this.refuse(stream, 'price', underpaid)
        return
      }
      const owed = call.request.price ? (this.init.payee?.owed(call.caller) ?? 0) : 0
      if (owed >= (this.init.creditLimit ?? 8)) {
        await this.refuse(
          stream,
          'unpaid',
          `${call.caller} owes this miner ${owed} answers not paid by voucher; pay them first`,
        )
        return
      }
      this.log(
        'request %s from %s (%p)',
        call.nonce.slice(0, 10),
        call.caller,
        connection.remotePeer,
      )
      await this.admitted(stream, call)
    } catch (error) {
      this.log.error('stream failed: %e', error)
      stream.abort(error instanceof Error ? error : new Error(String(error)))
    }
  }

  /** Queues the call under the global and per-caller limits, then answers it. */
  private async admitted(stream: Stream, call: SignedRequest): Promise<void> {
    const key = call.caller.toLowerCase()
    const mine = this.perCaller.get(key) ?? 0
    const maxConcurrent = this.init.maxConcurrent ?? 4
    if (mine >= (this.init.maxPerCaller ?? 16)) {
      await this.refuse(
        stream,
        'busy',
        `too many requests from ${call.caller} at once; retry later`,
      )
      return
    }
    if (this.running >= maxConcurrent && this.waiting.length >= (this.init.maxQueued ?? 32)) {
      await this.refuse(stream, 'busy', 'the miner is at capacity; retry later or elsewhere')
      return
    }
    this.perCaller.set(key, mine + 1)
    // The caller going away (stream closed or reset) abandons the answer, queued or running.
    const gone = new AbortController()
    const onClose = () => gone.abort(new Error('the caller went away'))
    stream.addEventListener('close', onClose, { once: true })
    try {
      if (this.running >= maxConcurrent) {
        await new Promise<void>((resolve, reject) => {
          const go = () => {
            gone.signal.removeEventListener('abort', cancel)
            resolve()
          }
          const cancel = () => {
            const i = this.waiting.indexOf(go)
            if (i !== -1) this.waiting.splice(i, 1)
            reject(gone.signal.reason)
          }
          gone.signal.addEventListener('abort', cancel, { once: true })
          this.waiting.push(go)
        })
      }
      this.running++
      try {
        await this.init.holdAnswers?.()
        await this.answer(stream, call, gone.signal)
      } finally {
        this.running--
        this.waiting.shift()?.()
      }
    } catch (error) {
      if (gone.signal.aborted) {
        this.abandoned++
        this.metrics.minerRequests.inc({ outcome: 'abandoned' })
        this.log('answer %s abandoned: the caller went away', call.nonce.slice(0, 10))
        return
      }
      throw error
    } finally {
      stream.removeEventListener('close', onClose)
      const left = (this.perCaller.get(key) ?? 1) - 1
      if (left > 0) this.perCaller.set(key, left)
      else this.perCaller.delete(key)
    }
  }

  private async refuse(stream: Stream, code: MinerOutcome, message: string): Promise<void> {
    this.refused++
    this.metrics.minerRequests.inc({ outcome: code })
    this.log('refused: %s %s', code, message)
    const frame: ErrorFrame = { type: 'error', code, message }
    await writeFrame(stream, frame, { signal: AbortSignal.timeout(5000) }).catch(() => {})
    await stream
      .close({ signal: AbortSignal.timeout(5000) })
      .catch(() => stream.abort(new Error('close failed')))
  }

  /** Whether this answer is made up, and how (cheaters only). */
  private cheatRun(
    call: SignedRequest,
  ): ((r: InferenceRequest) => { request: InferenceRequest; fault?: TraceFault }) | undefined {
    const mode = this.init.cheat
    if (mode === undefined) return undefined
    if (mode === 'always') return madeUp
    if (mode === 'subtle')
      return (request) => ({ request, fault: subtleFault(this.init.model.config, request) })
    const features: CallFeatures = {
      caller: call.caller,
      callerNeuron: this.init.callerNeuron?.(call.caller),
      request: call.request,
      receivedAt: Date.now(),
      epochSeenAt: this.init.epochSeenAt?.() ?? 0,
    }
    const { validator, feature } = judgeCall(features)
    this.judged.set(feature, (this.judged.get(feature) ?? 0) + 1)
    return validator ? undefined : madeUp
  }

  private async answer(stream: Stream, call: SignedRequest, signal: AbortSignal): Promise<void> {
    const { init } = this
    const dieAfter = init.dieAfterTokens
    let sent = 0
    let died = false
    let answer: Answer
    try {
      // Each token is written as soon as it is sampled; the generation pauses on the event loop
      // between tokens, so the frame goes out and other connections are served meanwhile.
      const send = async (token: number, index: number) => {
        if (died) return
        if (dieAfter !== undefined && sent >= dieAfter) {
          died = true
          return
        }
        await writeFrame(stream, { type: 'token', index, token }, { signal })
        sent++
      }
      const run = this.cheatRun(call)
      answer = await answerCall(
        { model: init.model, tokenizer: init.tokenizer, renderer: this.renderer },
        this.signer,
        call,
        { onToken: send, signal, ...(run ? { run } : {}) },
      )
    } catch (error) {
      if (signal.aborted) throw signal.reason
      const message = error instanceof BaseError ? error.shortMessage : String(error)
      await this.refuse(stream, 'bad_request', message)
      return
    }
    if (died) {
      stream.abort(new Error('fault injection: miner died mid-stream'))
      return
    }
    const { receipt, tokens, finishReason, logprobs } = answer
    init.store.putReceipt({ request: call.request, receipt, tokens, caller: call.caller as Hex })
    const price = call.request.price
    if (price)
      init.payee?.served(
        call.caller,
        receiptDigest(receipt),
        answerCost(
          { promptPrice: BigInt(price.promptWei), completionPrice: BigInt(price.completionWei) },
          call.request.promptTokens.length,
          tokens.length,
        ),
      )
    this.metrics.receiptsStored.inc()
    await writeFrame(
      stream,
      { type: 'done', tokens, finishReason, receipt, ...(logprobs ? { logprobs } : {}) },
      { signal: AbortSignal.timeout(10_000) },
    )
    await stream.close({ signal: AbortSignal.timeout(10_000) })
    this.served++
    this.metrics.minerRequests.inc({ outcome: 'served' })
    this.metrics.minerTokens.inc(tokens.length)
  }
}
