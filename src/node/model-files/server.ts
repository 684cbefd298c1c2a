import { type FileHandle, open } from 'node:fs/promises'
import { resolve } from 'node:path'
import type { Stream } from '@libp2p/interface'
import {
  chunkCount,
  chunkLeaf,
  chunkRange,
  type FileTree,
  fileTreeFromLeaves,
  treeProof,
} from '../../competition/file-root.ts'
import { ModelFileError } from '../../errors/competition.ts'
import { MODEL_FILE_PROTOCOL } from '../frames.ts'
import { log } from '../log.ts'
import type { Peer } from '../peer.ts'
import {
  MAX_REQUEST_BYTES,
  parseRequest,
  readRawFrames,
  writeChunk,
  writeJsonFrame,
} from './protocol.ts'

/** A file a server offers: its path, root (the on-chain fileHash) and size. */
export type ServedModelFile = { path: string; root: `0x${string}`; size: number }

export type ModelFileServerInit = {
  /**
   * Chunks being read and sent at once, over all peers; more requests wait their turn (default
   * 8). Bounds the server's memory, and the data queued on a connection ahead of its pings:
   * libp2p closes a connection whose ping has waited more than 5 s.
   */
  maxSends?: number
  /** A stream that sends no request in this time is dropped (default 5000 ms). */
  requestTimeoutMs?: number
  /**
   * Time to hand one chunk to a peer that reads it (default 30000 ms); a peer that stops reading
   * loses its stream instead of holding a send slot.
   */
  sendTimeoutMs?: number
  /** Streams per connection on the protocol (default 256: 20 validators x a few chunks each). */
  maxInboundStreams?: number
}

type Entry = ServedModelFile & { tree: FileTree; handle: FileHandle }

/**
 * Serves model files to validators on `/verity/model-file/1` (protocol.ts): a miner adds the
 * files it committed, each hashed once into its chunk tree (kept: 32 bytes per MiB), and answers
 * each request with one chunk read from disk at its offset plus its proof. No file is held in
 * memory; at most `maxSends` chunks are.
 */
export class ModelFileServer {
  private readonly log = log('node:model-files')
  private readonly files = new Map<string, Entry>()
  private readonly streams = new Set<Stream>()
  private readonly waiting: (() => void)[] = []
  private sends = 0
  private started = false

  constructor(
    private readonly peer: Peer,
    private readonly init: ModelFileServerInit = {},
  ) {}

  /** The files served now. */
  get served(): ServedModelFile[] {
    return [...this.files.values()].map(({ path, root, size }) => ({ path, root, size }))
  }

  async start(): Promise<void> {
    if (this.started) return
    this.started = true
    try {
      await this.peer.handle(MODEL_FILE_PROTOCOL, (stream) => this.handle(stream), {
        maxInboundStreams: this.init.maxInboundStreams ?? 256,
      })
    } catch (error) {
      this.started = false
      throw error
    }
  }

  /**
   * Hashes a file chunk by chunk (reading 1 MiB at a time) and serves it by its root from now
   * on; returns what it is served as. A file that is empty or cannot be read is a ModelFileError.
   */
  async add(path: string, options: { signal?: AbortSignal } = {}): Promise<ServedModelFile> {
    const full = resolve(path)
    let handle: FileHandle
    try {
      handle = await open(full, 'r')
    } catch (error) {
      throw new ModelFileError('unavailable', `cannot open '${full}'`, { cause: error })
    }
    try {
      const { size } = await handle.stat()
      if (size === 0) throw new ModelFileError('bad_length', `'${full}' is empty`)
      const leaves: Uint8Array[] = []
      const buffer = new Uint8Array(Math.min(size, 1 << 20))
      for (let i = 0; i < chunkCount(size); i++) {
        options.signal?.throwIfAborted()
        const { offset, length } = chunkRange(size, i)
        await readFully(handle, buffer, length, offset, full)
        leaves.push(chunkLeaf(i, buffer.subarray(0, length)))
      }
      const tree = fileTreeFromLeaves(size, leaves)
      const old = this.files.get(tree.root)
      if (old) await old.handle.close().catch(() => {})
      this.files.set(tree.root, { path: full, root: tree.root, size, tree, handle })
      this.log('serving %s as %s (%d bytes)', full, tree.root, size)
      return { path: full, root: tree.root, size }
    } catch (error) {
      await handle.close().catch(() => {})
      throw error
    }
  }

  /** Stops serving: no new streams, the streams in flight are cut, the files closed. */
  async stop(): Promise<void> {
    // everything synchronous first: a request arriving while libp2p unregisters the protocol
    // is cut, not served
    const wasStarted = this.started
    this.started = false
    for (const stream of this.streams) stream.abort(new Error('model file server stopped'))
    this.streams.clear()
    for (const release of this.waiting.splice(0)) release()
    const files = [...this.files.values()]
    this.files.clear()
    if (wasStarted) await this.peer.unhandle(MODEL_FILE_PROTOCOL)
    await Promise.all(files.map((f) => f.handle.close().catch(() => {})))
  }

  private async handle(stream: Stream): Promise<void> {
    if (!this.started) {
      stream.abort(new Error('model file server stopped'))
      return
    }
    this.streams.add(stream)
    const timer = setTimeout(
      () => stream.abort(new Error('no request in time')),
      this.init.requestTimeoutMs ?? 5000,
    )
    try {
      let first: IteratorResult<Uint8Array>
      try {
        first = await readRawFrames(stream, MAX_REQUEST_BYTES).next()
      } catch (error) {
        // cut by the request timer or by stop(): nothing to answer on
        if (!this.streams.has(stream) || stream.status !== 'open') return
        // an oversized or broken length prefix: say so, then hang up
        await this.refuse(stream, 'bad_request', `a request is at most ${MAX_REQUEST_BYTES} bytes`)
        this.log('refused a request: %s', (error as Error).message)
        return
      } finally {
        clearTimeout(timer)
      }
      if (first.done) return
      const request = parseRequest(first.value)
      if (!request) {
        await this.refuse(stream, 'bad_request', 'a request is {"root":"0x<32 bytes>","index":n}')
        return
      }
      const file = this.files.get(request.root)
      if (!file) {
        await this.refuse(stream, 'unknown_file', `this peer does not serve ${request.root}`)
        return
      }
      const count = chunkCount(file.size)
      if (request.index < 0 || request.index >= count) {
        await this.refuse(stream, 'bad_index', `chunk ${request.index} is not in 0..${count - 1}`)
        return
      }
      await this.send(stream, file, request.index)
    } catch (error) {
      this.log.error('model file stream failed: %e', error)
      stream.abort(error instanceof Error ? error : new Error(String(error)))
    } finally {
      clearTimeout(timer)
      this.streams.delete(stream)
    }
  }

  private async refuse(
    stream: Stream,
    code: 'unknown_file' | 'bad_index' | 'bad_request',
    message: string,
  ) {
    await writeJsonFrame(stream, { type: 'error', code, message })
    await stream.close()
  }

  /** Reads one chunk from disk and sends it with its proof, at most `maxSends` at a time. */
  private async send(stream: Stream, file: Entry, index: number): Promise<void> {
    while (this.sends >= (this.init.maxSends ?? 8))
      await new Promise<void>((ok) => this.waiting.push(ok))
    if (this.files.get(file.root) !== file) throw new Error('the file is no longer served')
    this.sends++
    try {
      const { offset, length } = chunkRange(file.size, index)
      const chunk = new Uint8Array(length)
      await readFully(file.handle, chunk, length, offset, file.path)
      if (!this.streams.has(stream)) return
      const signal = AbortSignal.timeout(this.init.sendTimeoutMs ?? 30_000)
      const proof = treeProof(file.tree, index)
      await writeChunk(stream, { index, size: file.size, proof, chunk }, signal)
      // resolves once the peer's window took the last bytes
      await stream.close({ signal })
    } finally {
      this.sends--
      this.waiting.shift()?.()
    }
  }
}

async function readFully(
  handle: FileHandle,
  buffer: Uint8Array,
  length: number,
  offset: number,
  path: string,
): Promise<void> {
  for (let done = 0; done < length; ) {
    const { bytesRead } = await handle.read(buffer, done, length - done, offset + done)
    if (bytesRead === 0)
      throw new ModelFileError('bad_length', `'${path}' ended at ${offset + done} while reading`)
    done += bytesRead
  }
}

/**
 * Starts a ModelFileServer on `peer` serving `paths` (a miner's committed GGUF files); the
 * caller stops it. What the devnet and `verity model publish --serve` call.
 */
export async function serveModelFiles(
  peer: Peer,
  paths: readonly string[],
  options: ModelFileServerInit & { signal?: AbortSignal } = {},
): Promise<ModelFileServer> {
  const { signal, ...init } = options
  const server = new ModelFileServer(peer, init)
  try {
    for (const path of paths) await server.add(path, signal ? { signal } : {})
    await server.start()
  } catch (error) {
    await server.stop()
    throw error
  }
  return server
}
