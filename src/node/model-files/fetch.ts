import type { PeerId, Stream } from '@libp2p/interface'
import { peerIdFromString } from '@libp2p/peer-id'
import {
  chunkCount,
  chunkRange,
  FILE_CHUNK_BYTES,
  fileSize,
  verifyChunk,
} from '../../competition/file-root.ts'
import { CompetitionError, ModelFileError } from '../../errors/competition.ts'
import { MODEL_FILE_PROTOCOL } from '../frames.ts'
import type { Peer } from '../peer.ts'
import { MAX_HEADER_BYTES, parseHeader, readRawFrames, writeJsonFrame } from './protocol.ts'

/** A model's file as committed on chain (ModelCompetition.commitOf: fileHash is the file root). */
export type ModelFileCommit = { fileHash: `0x${string}`; size: bigint | number }

export type FetchModelFileOptions = {
  signal?: AbortSignal
  /** Chunks in flight at once (default 4). */
  concurrency?: number
  /** Time for one chunk, from opening its stream to its last byte (default 15000 ms). */
  timeoutMs?: number
  /** Largest committed size the caller accepts (default 1 GiB); the buffer is the committed size. */
  maxBytes?: bigint | number
  /**
   * Tries again for a chunk whose stream or connection broke (default 2); a peer that answers
   * wrong, does not serve the file or stays silent is not asked again.
   */
  retries?: number
  /** Called after each verified chunk (progress). */
  onChunk?: (index: number, count: number) => void
}

const DEFAULT_MAX_BYTES = 1 << 30

/**
 * Downloads a committed model file from a miner's node over `/verity/model-file/1`, a few
 * chunks in flight, checking each chunk against the commitment (file-root.ts) before it is
 * accepted; returns the file's bytes. Nothing unverified is kept and nothing beyond the
 * committed size is buffered. The first failure stops the download with a ModelFileError whose
 * `reason` and `chunk` say what and where: the peer does not serve the protocol or stopped
 * (`unavailable`), does not have the file (`unknown_file`), sent a chunk or proof that fails the
 * root (`bad_chunk`), a truncated or oversized chunk (`bad_length`), garbage (`bad_frame`), or
 * nothing within `timeoutMs` for a chunk (`timeout`); a committed size over `maxBytes` is
 * `too_large` before anything is dialled; the caller's signal is `aborted`.
 */
export async function fetchModelFile(
  peer: Peer,
  remote: PeerId | string,
  commit: ModelFileCommit,
  options: FetchModelFileOptions = {},
): Promise<Uint8Array> {
  const remoteId = typeof remote === 'string' ? peerIdFromString(remote) : remote
  if (!/^0x[0-9a-fA-F]{64}$/.test(commit.fileHash))
    throw new CompetitionError('fileHash', `'${commit.fileHash}' is not a 32-byte hex root`)
  const size = fileSize(commit.size)
  const cap = Number(options.maxBytes ?? DEFAULT_MAX_BYTES)
  if (size > cap)
    throw new ModelFileError(
      'too_large',
      `the committed size, ${size} bytes, is over the limit of ${cap} bytes`,
    )
  if (options.signal?.aborted)
    throw new ModelFileError('aborted', 'the download was aborted', {
      cause: options.signal.reason,
    })

  const count = chunkCount(size)
  const out = new Uint8Array(size)
  const stop = new AbortController()
  const signal = options.signal ? AbortSignal.any([options.signal, stop.signal]) : stop.signal
  const job: Job = {
    peer,
    remote: remoteId,
    root: commit.fileHash.toLowerCase() as `0x${string}`,
    size,
    timeoutMs: options.timeoutMs ?? 15_000,
    signal,
    caller: options.signal,
  }
  let next = 0
  let failure: unknown
  const retries = options.retries ?? 2
  const worker = async () => {
    while (failure === undefined && next < count) {
      const index = next++
      try {
        let chunk: Uint8Array | undefined
        for (let attempt = 0; chunk === undefined; attempt++) {
          try {
            chunk = await fetchChunk(job, index)
          } catch (error) {
            if (!transient.has(error as Error) || attempt >= retries) throw error
            await pause(250 * (attempt + 1), signal)
          }
        }
        out.set(chunk, index * FILE_CHUNK_BYTES)
        options.onChunk?.(index, count)
      } catch (error) {
        failure ??= error
        stop.abort(error)
      }
    }
  }
  const workers = Math.max(1, Math.min(options.concurrency ?? 4, count, 64))
  await Promise.all(Array.from({ length: workers }, worker))
  if (failure !== undefined) throw failure
  return out
}

/** Failures worth another try: a stream or connection that broke (libp2p closes a connection
 * whose pings time out under load), not a peer that answered wrong or does not serve the file. */
const transient = new WeakSet<Error>()

async function pause(ms: number, signal: AbortSignal): Promise<void> {
  await new Promise<void>((ok) => {
    const done = () => {
      clearTimeout(timer)
      signal.removeEventListener('abort', done)
      ok()
    }
    const timer = setTimeout(done, ms)
    signal.addEventListener('abort', done, { once: true })
  })
}

/** Per local peer and remote peer id: the stream that is opening a new connection. */
const opening = new WeakMap<Peer, Map<string, Promise<void>>>()

/**
 * Waits while another chunk opens a new connection to the remote; when there is no connection,
 * this chunk becomes the opener and the others wait until it has its answer (call the returned
 * function). Yamux resets a whole connection that receives more than 10 streams before it is
 * set up, so a fresh connection must carry one stream before it carries many (20 validators'
 * downloads started at once would otherwise kill the connection they share).
 */
async function enterGate(job: Job, signal: AbortSignal): Promise<() => void> {
  const map = opening.get(job.peer) ?? new Map<string, Promise<void>>()
  opening.set(job.peer, map)
  const key = job.remote.toString()
  for (let pending = map.get(key); pending; pending = map.get(key)) {
    await Promise.race([pending, pause(job.timeoutMs, signal)])
    if (signal.aborted) return () => {}
  }
  if (job.peer.getConnections(job.remote).some((c) => c.status === 'open')) return () => {}
  let release = () => {}
  const gate = new Promise<void>((ok) => {
    release = () => {
      if (map.get(key) === gate) map.delete(key)
      ok()
    }
  })
  map.set(key, gate)
  return release
}

/** it-length-prefixed's errors: what a peer's malformed frames raise. */
const LENGTH_PREFIX_ERRORS = new Set([
  'InvalidDataLengthError',
  'InvalidDataLengthLengthError',
  'InvalidMessageLengthError',
  'UnexpectedEOFError',
])

type Job = {
  peer: Peer
  remote: PeerId
  root: `0x${string}`
  size: number
  timeoutMs: number
  /** The caller's signal and the download's own (the first failure stops the others). */
  signal: AbortSignal
  caller: AbortSignal | undefined
}

/** One chunk over its own stream, checked against the root. */
async function fetchChunk(job: Job, index: number): Promise<Uint8Array> {
  const timeout = AbortSignal.timeout(job.timeoutMs)
  const signal = AbortSignal.any([job.signal, timeout])
  const where = { chunk: index }
  let stream: Stream | undefined
  const onAbort = () => stream?.abort(new Error('model file chunk abandoned'))
  signal.addEventListener('abort', onAbort, { once: true })
  let release = () => {}
  try {
    release = await enterGate(job, signal)
    try {
      stream = await job.peer.dialProtocol(job.remote, MODEL_FILE_PROTOCOL, {
        signal,
        maxOutboundStreams: 256,
      })
    } catch (error) {
      if (signal.aborted) throw error
      const unsupported = (error as Error).name === 'UnsupportedProtocolError'
      const unreachable = new ModelFileError(
        'unavailable',
        unsupported
          ? `peer ${job.remote} does not serve ${MODEL_FILE_PROTOCOL}`
          : `cannot reach peer ${job.remote}`,
        { cause: error, chunk: index },
      )
      if (!unsupported) transient.add(unreachable)
      throw unreachable
    }
    await writeJsonFrame(stream, { root: job.root, index }, signal)
    await stream.close({ signal })
    const frames = readRawFrames(stream, FILE_CHUNK_BYTES)
    let first: IteratorResult<Uint8Array>
    try {
      first = await frames.next()
    } catch (error) {
      // a broken length prefix is the peer's fault; a reset stream is the outer catch's
      if (signal.aborted || !LENGTH_PREFIX_ERRORS.has((error as Error).name)) throw error
      throw new ModelFileError('bad_frame', `peer sent an unreadable answer for chunk ${index}`, {
        cause: error,
        ...where,
      })
    }
    if (first.done)
      throw new ModelFileError(
        'bad_frame',
        `peer closed the stream without answering chunk ${index}`,
        where,
      )
    if (first.value.length > MAX_HEADER_BYTES)
      throw new ModelFileError(
        'bad_frame',
        `peer's header for chunk ${index} is over ${MAX_HEADER_BYTES} bytes`,
        where,
      )
    release()
    const header = parseHeader(first.value)
    if (!header)
      throw new ModelFileError('bad_frame', `peer's header for chunk ${index} is malformed`, where)
    if (header.type === 'error') {
      const reason =
        header.code === 'unknown_file'
          ? 'unknown_file'
          : header.code === 'bad_index'
            ? 'bad_index'
            : 'refused'
      throw new ModelFileError(reason, `peer refused chunk ${index}: ${header.message}`, {
        ...where,
        details: `code ${header.code}`,
      })
    }
    if (header.index !== index)
      throw new ModelFileError(
        'bad_frame',
        `peer answered chunk ${header.index} when asked for chunk ${index}`,
        where,
      )
    if (header.size !== job.size)
      throw new ModelFileError(
        'bad_chunk',
        `peer serves a file of ${header.size} bytes for chunk ${index}, the commitment says ${job.size}`,
        where,
      )
    const { length } = chunkRange(job.size, index)
    let body: IteratorResult<Uint8Array>
    try {
      body = await frames.next()
    } catch (error) {
      if (signal.aborted) throw error
      const name = (error as Error).name
      if (name === 'InvalidDataLengthError')
        throw new ModelFileError('bad_length', `chunk ${index} is over ${FILE_CHUNK_BYTES} bytes`, {
          cause: error,
          ...where,
        })
      if (name === 'UnexpectedEOFError')
        throw new ModelFileError('bad_length', `chunk ${index} was cut short`, {
          cause: error,
          ...where,
        })
      throw error
    }
    if (body.done) throw new ModelFileError('bad_length', `chunk ${index} was cut short`, where)
    const chunk = body.value
    if (chunk.length !== length)
      throw new ModelFileError(
        'bad_length',
        `chunk ${index} is ${chunk.length} bytes, expected ${length}`,
        where,
      )
    if (!verifyChunk(job.root, job.size, index, chunk, header.proof))
      throw new ModelFileError(
        'bad_chunk',
        `chunk ${index} does not match the committed file root ${job.root}`,
        where,
      )
    return chunk
  } catch (error) {
    if (error instanceof ModelFileError) throw error
    if (job.caller?.aborted)
      throw new ModelFileError('aborted', 'the download was aborted', {
        cause: job.caller.reason,
        ...where,
      })
    if (job.signal.aborted) throw job.signal.reason // another chunk failed first: that is the error
    if (timeout.aborted)
      throw new ModelFileError(
        'timeout',
        `chunk ${index} did not arrive within ${job.timeoutMs} ms`,
        {
          cause: error,
          ...where,
        },
      )
    const broke = new ModelFileError(
      'unavailable',
      `the stream broke while fetching chunk ${index}`,
      { cause: error, details: error instanceof Error ? error.message : String(error), ...where },
    )
    transient.add(broke)
    throw broke
  } finally {
    release()
    signal.removeEventListener('abort', onAbort)
    if (stream && stream.status === 'open') stream.abort(new Error('chunk done'))
  }
}
