import type { PeerId, Stream } from '@libp2p/interface'
import { peerIdFromString } from '@libp2p/peer-id'
import { multiaddr } from '@multiformats/multiaddr'
import type { Address, Chain, Client, Hex, Transport } from 'viem'
import type { LocalAccount } from 'viem/accounts'
import { getNode } from '../../chain/actions/getNode.ts'
import {
  NodeError,
  PeerUnavailableError,
  RemoteError,
  RequestAbortedError,
  StreamError,
} from '../../errors/node.ts'
import type { VisionAnswer } from '../../vision/answer.ts'
import type { VisionMiner } from '../../vision/local-miner.ts'
import { type Peer, peerIdFromBytes } from '../peer.ts'
import {
  CLASSIFY_PROTOCOL,
  MAX_CLASSIFY_ANSWER_BYTES,
  readVisionFrame,
  signClassifyCall,
  writeVisionFrame,
} from './protocol.ts'

export type RemoteVisionMinerInit = {
  /** Our own libp2p node, which dials the miner. */
  peer: Peer
  /** The miner's hotkey (calls are signed for it). */
  hotkey: Address
  peerId: PeerId | string
  /** Known addresses of the miner (from the chain). */
  multiaddrs?: readonly string[]
  /** The caller key that signs calls. */
  caller: LocalAccount
  /** Whole-call limit (default 30 s). */
  timeoutMs?: number
}

/**
 * A vision miner reached over libp2p (`/verity/classify/1`). It hands back the miner's answer as
 * sent, unchecked: the caller checks it with checkVisionAnswer (a validator must see an invalid
 * answer to keep it as evidence). Failures reject with a NodeError subclass: PeerUnavailableError
 * (cannot dial), RemoteError (the miner refused), StreamError (the stream broke or the frame was
 * invalid), RequestAbortedError (the caller's signal or the timeout).
 */
export class RemoteVisionMiner implements VisionMiner {
  readonly hotkey: Address
  readonly peerId: string
  private readonly remote: PeerId

  constructor(private readonly init: RemoteVisionMinerInit) {
    this.hotkey = init.hotkey
    this.remote = typeof init.peerId === 'string' ? peerIdFromString(init.peerId) : init.peerId
    this.peerId = this.remote.toString()
  }

  /** The hotkey's miner as published on chain (Verity.node); PeerUnavailableError if none. */
  static async fromChain(
    publicClient: Client<Transport, Chain>,
    params: {
      peer: Peer
      caller: LocalAccount
      /** The Verity core. */
      address: Address
      netuid: number
      hotkey: Address
      timeoutMs?: number
      signal?: AbortSignal
    },
  ): Promise<RemoteVisionMiner> {
    const [peerIdBytes, multiaddrs] = await getNode(
      publicClient,
      { address: params.address, netuid: params.netuid, hotkey: params.hotkey },
      params.signal ? { signal: params.signal } : {},
    )
    if (peerIdBytes === '0x')
      throw new PeerUnavailableError(
        `${params.hotkey} has published no node on subnet ${params.netuid}`,
      )
    return new RemoteVisionMiner({
      peer: params.peer,
      hotkey: params.hotkey,
      peerId: peerIdFromBytes(peerIdBytes),
      multiaddrs,
      caller: params.caller,
      ...(params.timeoutMs === undefined ? {} : { timeoutMs: params.timeoutMs }),
    })
  }

  async classify(
    pixels: number[],
    options: { nonce: Hex; signal?: AbortSignal },
  ): Promise<VisionAnswer> {
    const timeout = AbortSignal.timeout(this.init.timeoutMs ?? 30_000)
    const signal = options.signal ? AbortSignal.any([options.signal, timeout]) : timeout
    const aborted = () =>
      new RequestAbortedError(
        options.signal?.aborted ? 'the call was aborted' : 'the call timed out',
        { cause: signal.reason },
      )
    if (signal.aborted) throw aborted()
    const call = await signClassifyCall(this.init.caller, pixels, {
      miner: this.hotkey,
      nonce: options.nonce,
    })
    const stream = await this.open(signal).catch((error) => {
      if (signal.aborted) throw aborted()
      throw error
    })
    const onAbort = () => stream.abort(new RequestAbortedError('aborted'))
    signal.addEventListener('abort', onAbort, { once: true })
    let finished = false
    try {
      await writeVisionFrame(stream, { type: 'classify', call }, { signal })
      const frame = (await readVisionFrame(stream, MAX_CLASSIFY_ANSWER_BYTES)) as
        | ({ type?: unknown } & Record<string, unknown>)
        | undefined
      if (frame === undefined) throw new StreamError('the miner closed the stream before answering')
      if (frame.type === 'error') throw new RemoteError(String(frame.code), String(frame.message))
      if (frame.type !== 'answer' || typeof frame.answer !== 'object' || frame.answer === null)
        throw new StreamError('the miner sent a malformed frame')
      finished = true
      await stream.close().catch(() => {})
      return frame.answer as VisionAnswer
    } catch (error) {
      if (signal.aborted) throw aborted()
      if (error instanceof NodeError) throw error
      throw new StreamError('the stream to the miner broke', {
        cause: error,
        details: error instanceof Error ? error.message : String(error),
      })
    } finally {
      signal.removeEventListener('abort', onAbort)
      if (!finished) stream.abort(new Error('call ended'))
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
      return await peer.dialProtocol(this.remote, CLASSIFY_PROTOCOL, { signal })
    } catch (error) {
      if (signal.aborted) throw error
      if ((error as Error).name === 'UnsupportedProtocolError')
        throw new RemoteError(
          'unsupported_protocol',
          `peer ${this.peerId} does not serve ${CLASSIFY_PROTOCOL}`,
        )
      throw new PeerUnavailableError(`cannot reach vision miner ${this.hotkey} (${this.peerId})`, {
        cause: error,
        details: error instanceof Error ? error.message : String(error),
      })
    }
  }
}
