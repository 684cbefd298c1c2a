import type { PeerId, Stream } from '@libp2p/interface'
import { peerIdFromString } from '@libp2p/peer-id'
import { multiaddr } from '@multiformats/multiaddr'
import type { LocalAccount } from 'viem/accounts'
import { BaseError } from '../errors/base.ts'
import {
  NodeError,
  PeerUnavailableError,
  RemoteError,
  RequestAbortedError,
  StreamError,
} from '../errors/node.ts'
import type { Address, InferenceEvent, InferenceRequest, MinerClient } from '../types/inference.ts'
import { callProof, signRequest } from '../verify/call.ts'
import { validStepLogprobs } from '../verify/logprobs.ts'
import { verifyReceipt } from '../verify/receipt.ts'
import { type DoneFrame, INFER_PROTOCOL, readFrames, writeFrame } from './frames.ts'
import type { Peer } from './peer.ts'

export type Libp2pMinerClientInit = {
  /** Our own libp2p node, which dials the miner. */
  peer: Peer
  /** The miner's hotkey (the receipt must be signed by it). */
  hotkey: Address
  peerId: PeerId | string
  /** Known addresses of the miner (from the chain); the DHT is asked when they fail. */
  multiaddrs?: readonly string[]
  /** The caller key that signs requests. */
  caller: LocalAccount
  /** Whole-request limit (default 120 s). */
  timeoutMs?: number
  /** Longest silence between frames before the miner counts as dead (default 15 s). */
  idleTimeoutMs?: number
}

/**
 * A miner reached over libp2p (`/verity/infer/1`). Every failure rejects with a NodeError
 * subclass: PeerUnavailableError (cannot dial), RemoteError (the miner refused), StreamError (the
 * stream broke, a frame was invalid, the miner went silent, or the receipt does not verify),
 * RequestAbortedError (the caller's signal or the overall timeout).
 */
export class Libp2pMinerClient implements MinerClient {
  readonly hotkey: Address
  readonly peerId: string
  private readonly init: Libp2pMinerClientInit
  private readonly remote: PeerId

  constructor(init: Libp2pMinerClientInit) {
    this.init = init
    this.hotkey = init.hotkey
    this.remote = typeof init.peerId === 'string' ? peerIdFromString(init.peerId) : init.peerId
    this.peerId = this.remote.toString()
  }

  async *infer(
    request: InferenceRequest,
    options: { signal?: AbortSignal } = {},
  ): AsyncIterable<InferenceEvent> {
    const timeout = AbortSignal.timeout(this.init.timeoutMs ?? 120_000)
    const signal = options.signal ? AbortSignal.any([options.signal, timeout]) : timeout
    const aborted = () =>
      new RequestAbortedError(
        options.signal?.aborted ? 'the request was aborted' : 'the request timed out',
        { cause: signal.reason },
      )
    if (signal.aborted) throw aborted()
    const stream = await this.open(signal).catch((error) => {
      if (signal.aborted) throw aborted()
      throw error
    })
    let idle: ReturnType<typeof setTimeout> | undefined
    const idleMs = this.init.idleTimeoutMs ?? 15_000
    let silent = false
    const arm = () => {
      clearTimeout(idle)
      idle = setTimeout(() => {
        silent = true
        stream.abort(new StreamError('miner went silent'))
      }, idleMs)
    }
    const onAbort = () => stream.abort(new RequestAbortedError('aborted'))
    signal.addEventListener('abort', onAbort, { once: true })
    let finished = false
    try {
      const call = await signRequest(this.init.caller, request, { miner: this.hotkey })
      arm()
      await writeFrame(stream, { type: 'request', call }, { signal })
      let expected = 0
      for await (const raw of readFrames(stream)) {
        arm()
        const frame = raw as { type?: unknown } & Record<string, unknown>
        if (frame.type === 'token') {
          if (frame.index !== expected || !Number.isInteger(frame.token))
            throw new StreamError('miner sent an out-of-order or malformed token frame')
          expected++
          yield { type: 'token', index: frame.index as number, token: frame.token as number }
        } else if (frame.type === 'done') {
          const done = frame as unknown as DoneFrame
          if (
            !Array.isArray(done.tokens) ||
            (done.finishReason !== 'stop' && done.finishReason !== 'length') ||
            !validStepLogprobs(done.logprobs, done.tokens.length, request.logprobs)
          )
            throw new StreamError('miner sent a malformed done frame')
          try {
            // The receipt must answer this very call: our nonce, the miner we dialled.
            await verifyReceipt(done.receipt, {
              request,
              tokens: done.tokens,
              call: { nonce: call.nonce, miner: this.hotkey },
            })
          } catch (error) {
            throw new StreamError('miner sent an invalid receipt', {
              cause: error,
              details: error instanceof BaseError ? error.shortMessage : String(error),
            })
          }
          finished = true
          // Closed before the answer is handed on: a consumer that stops at `done` without
          // returning the iterator must not hold the stream (and the miner's slot) open.
          await stream.close().catch(() => {})
          yield {
            type: 'done',
            tokens: done.tokens,
            finishReason: done.finishReason,
            receipt: done.receipt,
            call: callProof(call),
            ...(done.logprobs ? { logprobs: done.logprobs } : {}),
          }
          return
        } else if (frame.type === 'error') {
          throw new RemoteError(String(frame.code), String(frame.message))
        } else {
          throw new StreamError('miner sent an unknown frame type')
        }
      }
      throw new StreamError('the miner closed the stream before the receipt')
    } catch (error) {
      if (signal.aborted) throw aborted()
      if (error instanceof NodeError) throw error
      if (silent) throw new StreamError(`the miner sent nothing for ${idleMs} ms`, { cause: error })
      throw new StreamError('the stream to the miner broke', {
        cause: error,
        details: error instanceof Error ? error.message : String(error),
      })
    } finally {
      clearTimeout(idle)
      signal.removeEventListener('abort', onAbort)
      if (!finished) stream.abort(new Error('request ended'))
    }
  }

  private async open(signal: AbortSignal): Promise<Stream> {
    const { peer } = this.init
    const addrs = (this.init.multiaddrs ?? []).flatMap((a) => {
      try {
        return [multiaddr(a)]
      } catch {
        return []
      }
    })
    if (addrs.length > 0)
      await peer.peerStore.merge(this.remote, { multiaddrs: addrs }).catch(() => {})
    try {
      return await peer.dialProtocol(this.remote, INFER_PROTOCOL, { signal })
    } catch (first) {
      if (signal.aborted) throw first
      if ((first as Error).name === 'UnsupportedProtocolError')
        throw new RemoteError(
          'unsupported_protocol',
          `peer ${this.peerId} does not serve ${INFER_PROTOCOL}`,
        )
      // The chain's addresses failed: ask the DHT where the peer is now.
      try {
        const info = await peer.peerRouting.findPeer(this.remote, {
          signal: AbortSignal.any([signal, AbortSignal.timeout(5000)]),
        })
        await peer.peerStore.merge(this.remote, { multiaddrs: info.multiaddrs })
        return await peer.dialProtocol(this.remote, INFER_PROTOCOL, { signal })
      } catch (error) {
        if (signal.aborted) throw error
        throw new PeerUnavailableError(`cannot reach miner ${this.hotkey} (${this.peerId})`, {
          cause: first,
          details: first instanceof Error ? first.message : String(first),
        })
      }
    }
  }
}

/** Collects a whole answer from a MinerClient (tests, validators). */
export async function collect(
  client: MinerClient,
  request: InferenceRequest,
  options: { signal?: AbortSignal } = {},
): Promise<Extract<InferenceEvent, { type: 'done' }> & { streamed: number[] }> {
  const streamed: number[] = []
  for await (const event of client.infer(request, options)) {
    if (event.type === 'token') streamed.push(event.token)
    else return { ...event, streamed }
  }
  throw new StreamError('the answer ended without a receipt')
}
