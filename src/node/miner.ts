import type { Connection, Startable, Stream } from '@libp2p/interface'
import type { LocalAccount } from 'viem/accounts'
import { BaseError } from '../errors/base.ts'
import { RequestAuthError } from '../errors/node.ts'
import type { Model } from '../runtime/model/load.ts'
import type { Tokenizer } from '../runtime/tokenizer/index.ts'
import { toHex } from '../runtime/trace/merkle.ts'
import type { Hex, InferenceRequest, SignedReceipt } from '../types/inference.ts'
import { ReplayGuard, type ReplayGuardOptions, verifySignedRequest } from '../verify/call.ts'
import { type ExecuteResult, executeRequestAsync } from '../verify/execute.ts'
import { signReceipt } from '../verify/receipt.ts'
import { requestHash } from '../verify/request.ts'
import { type ErrorFrame, INFER_PROTOCOL, readFrames, writeFrame } from './frames.ts'
import { log } from './log.ts'
import type { Peer } from './peer.ts'
import type { NodeStore } from './store.ts'

export type MinerInit = {
  hotkey: LocalAccount
  model: Model
  tokenizer: Tokenizer
  chainId: number
  netuid: number
  store: NodeStore
  /** The chain's current block (receipts are valid until block + disputeWindowBlocks). */
  blockNumber?: () => number
  /** Blocks a receipt stays disputable, and stored (default 7200). */
  disputeWindowBlocks?: number
  replay?: ReplayGuardOptions
  /** Time a caller has to send its request after opening the stream (default 10 s). */
  requestTimeoutMs?: number
  /**
   * A cheater: serves made-up output (the request run with another seed) and signs receipts for
   * it. For devnets and tests of the validators.
   */
  cheat?: boolean
  /** Fault injection for tests: reset the stream after this many token frames. */
  dieAfterTokens?: number
}

/**
 * The miner service: serves `/verity/infer/1` with the runtime. A request frame carries a
 * caller-signed request; bad signatures, replayed nonces and stale timestamps get an error frame
 * and the miner keeps serving. Each answer is streamed token by token, then a done frame with the
 * EIP-712 receipt; the request, tokens and receipt are kept in SQLite for the dispute window.
 */
export class MinerService implements Startable {
  readonly peer: Peer
  private readonly init: MinerInit
  private readonly guard: ReplayGuard
  private readonly log = log('node:miner')
  private readonly modelRoot: Hex
  private started = false
  /** Answers served, requests refused (for metrics and tests). */
  served = 0
  refused = 0

  constructor(peer: Peer, init: MinerInit) {
    this.peer = peer
    this.init = init
    this.guard = new ReplayGuard(init.replay)
    this.modelRoot = toHex(init.model.modelRoot)
  }

  get hotkey() {
    return this.init.hotkey.address
  }

  async start(): Promise<void> {
    if (this.started) return
    await this.peer.handle(
      INFER_PROTOCOL,
      (stream, connection) => this.handle(stream, connection),
      {
        maxInboundStreams: 256,
      },
    )
    this.started = true
  }

  async stop(): Promise<void> {
    if (!this.started) return
    this.started = false
    await this.peer.unhandle(INFER_PROTOCOL)
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
      let call: Awaited<ReturnType<typeof verifySignedRequest>>
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
      this.log(
        'request %s from %s (%p)',
        call.nonce.slice(0, 10),
        call.caller,
        connection.remotePeer,
      )
      await this.answer(stream, call.request, call.nonce, call.caller)
    } catch (error) {
      this.log.error('stream failed: %e', error)
      stream.abort(error instanceof Error ? error : new Error(String(error)))
    }
  }

  private async refuse(stream: Stream, code: string, message: string): Promise<void> {
    this.refused++
    this.log('refused: %s %s', code, message)
    const frame: ErrorFrame = { type: 'error', code, message }
    await writeFrame(stream, frame, { signal: AbortSignal.timeout(5000) })
    await stream
      .close({ signal: AbortSignal.timeout(5000) })
      .catch(() => stream.abort(new Error('close failed')))
  }

  private async answer(
    stream: Stream,
    request: InferenceRequest,
    nonce: Hex,
    caller: Hex,
  ): Promise<void> {
    const { init } = this
    if (request.modelRoot.toLowerCase() !== this.modelRoot) {
      await this.refuse(stream, 'wrong_model', `this miner serves model ${this.modelRoot}`)
      return
    }
    const dieAfter = init.dieAfterTokens
    let sent = 0
    let died = false
    let result: ExecuteResult
    try {
      // Each token is written as soon as it is sampled; the generation pauses on the event loop
      // between tokens, so the frame goes out and other connections are served meanwhile.
      const send = async (token: number, index: number) => {
        if (died) return
        if (dieAfter !== undefined && sent >= dieAfter) {
          died = true
          return
        }
        await writeFrame(stream, { type: 'token', index, token }).catch(() => {})
        sent++
      }
      if (init.cheat) {
        // Made-up output: the right request run with another seed, sent as if honest.
        result = await executeRequestAsync(
          init.model,
          init.tokenizer,
          { ...request, seed: request.seed + 1 },
          { onToken: send },
        )
      } else {
        result = await executeRequestAsync(init.model, init.tokenizer, request, { onToken: send })
      }
    } catch (error) {
      const message = error instanceof BaseError ? error.shortMessage : String(error)
      await this.refuse(
        stream,
        error instanceof RequestAuthError ? 'bad_request' : 'bad_request',
        message,
      )
      return
    }
    if (died) {
      stream.abort(new Error('fault injection: miner died mid-stream'))
      return
    }
    const block = init.blockNumber?.() ?? 0
    const receipt: SignedReceipt = await signReceipt(init.hotkey, {
      chainId: init.chainId,
      netuid: init.netuid,
      modelRoot: request.modelRoot,
      requestHash: requestHash(request),
      outputHash: result.outputHash,
      traceRoot: result.traceRoot,
      traceLeaves: result.traceLeaves,
      minerHotkey: this.hotkey,
      validUntilBlock: block + (init.disputeWindowBlocks ?? 7200),
      nonce,
    })
    init.store.putReceipt({ request, receipt, tokens: result.tokens, caller })
    await writeFrame(
      stream,
      { type: 'done', tokens: result.tokens, finishReason: result.finishReason, receipt },
      { signal: AbortSignal.timeout(10_000) },
    )
    await stream.close({ signal: AbortSignal.timeout(10_000) })
    this.served++
  }
}
