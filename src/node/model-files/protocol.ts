import type { Stream } from '@libp2p/interface'
import * as lp from 'it-length-prefixed'
import { fromHex, toHex } from '../../runtime/trace/merkle.ts'

/**
 * `/verity/model-file/1`: one stream per chunk. The fetcher writes one request frame, a
 * length-prefixed JSON object `{ root, index }` of at most MAX_REQUEST_BYTES, and closes its
 * side. The server answers one length-prefixed JSON header and closes:
 * - `{ type: 'chunk', index, size, proof }` (the proof as 0x hex strings) followed by one
 *   length-prefixed binary frame, the chunk's bytes (at most FILE_CHUNK_BYTES);
 * - or `{ type: 'error', code, message }`, code `unknown_file`, `bad_index`, `bad_request`.
 * JSON keeps the small frames readable in a capture; the chunk travels raw, not as base64.
 */

/** A request is a 66-character root and an index: anything longer is refused unread. */
export const MAX_REQUEST_BYTES = 256
/** A header holds at most 53 proof hashes (a 2^53-byte file): ~3.7 KiB of JSON. */
export const MAX_HEADER_BYTES = 8192

export type ChunkRequest = { root: `0x${string}`; index: number }
export type ChunkHeader = { type: 'chunk'; index: number; size: number; proof: string[] }
export type ModelFileErrorCode = 'unknown_file' | 'bad_index' | 'bad_request'
export type ModelFileErrorFrame = { type: 'error'; code: ModelFileErrorCode; message: string }

const encoder = new TextEncoder()
const decoder = new TextDecoder()

async function send(stream: Stream, bytes: Uint8Array, signal?: AbortSignal): Promise<void> {
  if (!stream.send(lp.encode.single(bytes))) await stream.onDrain(signal ? { signal } : {})
}

/** Writes one JSON frame (a request, a header or an error). */
export async function writeJsonFrame(
  stream: Stream,
  frame: ChunkRequest | ChunkHeader | ModelFileErrorFrame,
  signal?: AbortSignal,
): Promise<void> {
  await send(stream, encoder.encode(JSON.stringify(frame)), signal)
}

/** Writes a chunk answer: its header, then its bytes. */
export async function writeChunk(
  stream: Stream,
  answer: { index: number; size: number; proof: readonly Uint8Array[]; chunk: Uint8Array },
  signal?: AbortSignal,
): Promise<void> {
  const header: ChunkHeader = {
    type: 'chunk',
    index: answer.index,
    size: answer.size,
    proof: answer.proof.map((p) => toHex(p)),
  }
  await writeJsonFrame(stream, header, signal)
  await send(stream, answer.chunk, signal)
}

/** Length-prefixed frames from a stream, each at most `maxBytes` (longer: the decoder throws). */
export function readRawFrames(stream: Stream, maxBytes: number): AsyncGenerator<Uint8Array> {
  return (async function* () {
    for await (const frame of lp.decode(stream, { maxDataLength: maxBytes })) yield frame.subarray()
  })()
}

const HASH = /^0x[0-9a-fA-F]{64}$/

/** Parses a request frame; undefined for anything but `{ root: 0x<32 bytes>, index: integer }`. */
export function parseRequest(bytes: Uint8Array): ChunkRequest | undefined {
  let value: unknown
  try {
    value = JSON.parse(decoder.decode(bytes))
  } catch {
    return undefined
  }
  const { root, index } = (value ?? {}) as { root?: unknown; index?: unknown }
  if (typeof root !== 'string' || !HASH.test(root)) return undefined
  if (typeof index !== 'number' || !Number.isSafeInteger(index)) return undefined
  return { root: root.toLowerCase() as `0x${string}`, index }
}

/** A parsed answer header: a chunk header with its proof as bytes, or an error frame. */
export type ParsedHeader =
  | { type: 'chunk'; index: number; size: number; proof: Uint8Array[] }
  | ModelFileErrorFrame

/** Parses an answer header; undefined for anything malformed (the fetcher names it bad_frame). */
export function parseHeader(bytes: Uint8Array): ParsedHeader | undefined {
  if (bytes.length > MAX_HEADER_BYTES) return undefined
  let value: unknown
  try {
    value = JSON.parse(decoder.decode(bytes))
  } catch {
    return undefined
  }
  const frame = (value ?? {}) as Record<string, unknown>
  if (frame.type === 'error') {
    if (typeof frame.code !== 'string' || typeof frame.message !== 'string') return undefined
    return {
      type: 'error',
      code: frame.code as ModelFileErrorCode,
      message: frame.message.slice(0, 500),
    }
  }
  if (frame.type !== 'chunk') return undefined
  const { index, size, proof } = frame
  if (typeof index !== 'number' || !Number.isSafeInteger(index)) return undefined
  if (typeof size !== 'number' || !Number.isSafeInteger(size)) return undefined
  if (!Array.isArray(proof) || proof.length > 64) return undefined
  if (!proof.every((p) => typeof p === 'string' && HASH.test(p))) return undefined
  return { type: 'chunk', index, size, proof: proof.map((p: string) => fromHex(p)) }
}
