import type { Stream } from '@libp2p/interface'
import { BaseError } from '../../errors/base.ts'
import { ReplayGuard, type ReplayGuardOptions } from '../../verify/call.ts'
import type { VisionMiner } from '../../vision/local-miner.ts'
import { log } from '../log.ts'
import type { Peer } from '../peer.ts'
import {
  CLASSIFY_PROTOCOL,
  type ClassifyErrorFrame,
  MAX_CLASSIFY_REQUEST_BYTES,
  readVisionFrame,
  type SignedClassifyCall,
  verifyClassifyCall,
  writeVisionFrame,
} from './protocol.ts'

export type VisionMinerServerInit = {
  peer: Peer
  /** What answers: a LocalVisionMiner (its hotkey is the one calls must be addressed to). */
  miner: VisionMiner
  /** Longest wait for the request frame (default 10 s). */
  requestTimeoutMs?: number
  /** Longest one answer may take, proof included (default 30 s). */
  answerTimeoutMs?: number
  /** Answers proven at once (default 2: proving is CPU-bound). */
  maxConcurrent?: number
  /** Calls waiting for a slot beyond which new ones are refused busy (default 16). */
  maxQueued?: number
  replay?: ReplayGuardOptions
}

/**
 * Serves a VisionMiner on `/verity/classify/1`: one caller-signed classify frame in (bounded
 * size, checked pixels, signature, freshness, no replayed nonce), one answer frame out. A call
 * whose caller goes away or that runs past answerTimeoutMs is abandoned: the miner's signal aborts.
 */
export class VisionMinerServer {
  private readonly log = log('node:vision-miner')
  private readonly guard: ReplayGuard
  private readonly waiting: (() => void)[] = []
  private running = 0
  private started = false
  /** Answers sent and calls refused, for tests and metrics. */
  readonly counts = { answered: 0, refused: 0, abandoned: 0 }

  constructor(private readonly init: VisionMinerServerInit) {
    this.guard = new ReplayGuard(init.replay)
  }

  get hotkey() {
    return this.init.miner.hotkey
  }

  async start(): Promise<void> {
    if (this.started) return
    await this.init.peer.handle(CLASSIFY_PROTOCOL, (stream) => this.handle(stream), {
      maxInboundStreams: 64,
    })
    this.started = true
  }

  async stop(): Promise<void> {
    if (!this.started) return
    this.started = false
    await this.init.peer.unhandle(CLASSIFY_PROTOCOL)
  }

  private async handle(stream: Stream): Promise<void> {
    const timer = setTimeout(
      () => stream.abort(new Error('no request frame in time')),
      this.init.requestTimeoutMs ?? 10_000,
    )
    try {
      let frame: { type?: unknown; call?: unknown } | undefined
      try {
        frame = (await readVisionFrame(stream, MAX_CLASSIFY_REQUEST_BYTES)) as typeof frame
      } catch (error) {
        // oversized, truncated or not JSON
        clearTimeout(timer)
        await this.refuse(
          stream,
          'bad_frame',
          `unreadable request frame: ${(error as Error).message}`,
        )
        return
      } finally {
        clearTimeout(timer)
      }
      if (frame === undefined) return
      if (frame?.type !== 'classify') {
        await this.refuse(stream, 'bad_frame', 'the first frame must be a classify frame')
        return
      }
      let call: SignedClassifyCall
      try {
        call = await verifyClassifyCall(frame.call, { miner: this.hotkey })
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
      await this.admitted(stream, call)
    } catch (error) {
      this.log.error('classify stream failed: %e', error)
      stream.abort(error instanceof Error ? error : new Error(String(error)))
    }
  }

  /** Waits for a proving slot (or refuses busy), then answers; abandoned when the caller goes. */
  private async admitted(stream: Stream, call: SignedClassifyCall): Promise<void> {
    const maxConcurrent = this.init.maxConcurrent ?? 2
    if (this.running >= maxConcurrent && this.waiting.length >= (this.init.maxQueued ?? 16)) {
      await this.refuse(stream, 'busy', 'the miner is at capacity; retry later')
      return
    }
    const gone = new AbortController()
    const onClose = () => gone.abort(new Error('the caller went away'))
    stream.addEventListener('close', onClose, { once: true })
    const signal = AbortSignal.any([
      gone.signal,
      AbortSignal.timeout(this.init.answerTimeoutMs ?? 30_000),
    ])
    try {
      if (this.running >= maxConcurrent) {
        await new Promise<void>((resolve, reject) => {
          const go = () => {
            signal.removeEventListener('abort', cancel)
            resolve()
          }
          const cancel = () => {
            const i = this.waiting.indexOf(go)
            if (i !== -1) this.waiting.splice(i, 1)
            reject(signal.reason)
          }
          signal.addEventListener('abort', cancel, { once: true })
          this.waiting.push(go)
        })
      }
      this.running++
      try {
        const answer = await this.init.miner.classify(call.pixels, { nonce: call.nonce, signal })
        signal.throwIfAborted()
        await writeVisionFrame(stream, { type: 'answer', answer }, { signal })
        await stream.close({ signal })
        this.counts.answered++
      } finally {
        this.running--
        this.waiting.shift()?.()
      }
    } catch (error) {
      if (signal.aborted) {
        this.counts.abandoned++
        this.log('classify %s abandoned: %s', call.nonce.slice(0, 10), String(signal.reason))
        stream.abort(new Error('answer abandoned'))
        return
      }
      await this.refuse(
        stream,
        'internal',
        error instanceof BaseError ? error.shortMessage : String(error),
      )
    } finally {
      stream.removeEventListener('close', onClose)
    }
  }

  private async refuse(stream: Stream, code: string, message: string): Promise<void> {
    this.counts.refused++
    this.log('refused: %s %s', code, message)
    const frame: ClassifyErrorFrame = { type: 'error', code, message }
    await writeVisionFrame(stream, frame, { signal: AbortSignal.timeout(5000) }).catch(() => {})
    await stream
      .close({ signal: AbortSignal.timeout(5000) })
      .catch(() => stream.abort(new Error('close failed')))
  }
}
