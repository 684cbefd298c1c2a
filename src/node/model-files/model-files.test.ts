import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Stream } from '@libp2p/interface'
import * as lp from 'it-length-prefixed'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { modelCommitment } from '../../cli/model-commitment.ts'
import { DEFAULT_MODEL_PATH } from '../../cli/model-file.ts'
import {
  chunkCount,
  chunkRange,
  FILE_CHUNK_BYTES,
  fileRoot,
  fileTree,
  treeProof,
} from '../../competition/file-root.ts'
import { CompetitionError, ModelFileError } from '../../errors/competition.ts'
import { MODEL_FILE_PROTOCOL } from '../frames.ts'
import { createPeer, type Peer } from '../peer.ts'
import { fetchModelFile } from './fetch.ts'
import { parseHeader, parseRequest, readRawFrames, writeChunk, writeJsonFrame } from './protocol.ts'
import { type ModelFileServer, serveModelFiles } from './server.ts'

/**
 * Model files over libp2p between real peers on 127.0.0.1: an honest miner's file arrives
 * byte for byte; every way a miner can lie (a flipped byte, another file, a short, long or
 * missing chunk, silence, stopping halfway) ends in a ModelFileError naming the chunk, in
 * bounded time; bad requests get an error frame and the server keeps serving.
 */
const dir = mkdtempSync(join(tmpdir(), 'verity-model-files-'))
const tiny = new Uint8Array(readFileSync(DEFAULT_MODEL_PATH))
const tinyCommit = { fileHash: fileRoot(tiny), size: BigInt(tiny.length) }
const stops: (() => Promise<void> | void)[] = []
let client: Peer
let minerPeer: Peer
let server: ModelFileServer

async function dialable(peer: Peer) {
  await client.peerStore.merge(peer.peerId, { multiaddrs: peer.getMultiaddrs() })
}

/** A peer whose model-file handler answers each parsed request as `answer` says. */
async function rogue(
  answer: (request: { root: `0x${string}`; index: number }, stream: Stream) => Promise<void>,
): Promise<Peer> {
  const peer = await createPeer()
  stops.push(() => peer.stop())
  await peer.handle(
    MODEL_FILE_PROTOCOL,
    async (stream) => {
      try {
        const first = await readRawFrames(stream, 256).next()
        const request = first.done ? undefined : parseRequest(first.value)
        if (request) await answer(request, stream)
      } catch {
        stream.abort(new Error('rogue failed'))
      }
    },
    { maxInboundStreams: 256 },
  )
  await dialable(peer)
  return peer
}

const honestTree = fileTree(tiny)
const chunkOf = (bytes: Uint8Array, i: number) => {
  const { offset, length } = chunkRange(bytes.length, i)
  return bytes.subarray(offset, offset + length)
}
/** The honest answer for chunk i, after `edit` has had its way with the chunk. */
async function honestAnswer(stream: Stream, i: number, edit = (c: Uint8Array) => c) {
  await writeChunk(stream, {
    index: i,
    size: tiny.length,
    proof: treeProof(honestTree, i),
    chunk: edit(chunkOf(tiny, i).slice()),
  })
  await stream.close()
}

async function failure(promise: Promise<unknown>): Promise<ModelFileError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  )
  expect(error).toBeInstanceOf(ModelFileError)
  return error as ModelFileError
}

beforeAll(async () => {
  client = await createPeer()
  minerPeer = await createPeer()
  server = await serveModelFiles(minerPeer, [DEFAULT_MODEL_PATH])
  await dialable(minerPeer)
  stops.push(
    () => client.stop(),
    async () => {
      await server.stop()
      await minerPeer.stop()
    },
  )
})
afterAll(async () => {
  for (const stop of stops.reverse()) await stop()
  rmSync(dir, { recursive: true, force: true })
})

describe('/verity/model-file/1', () => {
  it('downloads the committed default model byte for byte, every chunk verified', async () => {
    expect(server.served).toEqual([
      { path: DEFAULT_MODEL_PATH, root: tinyCommit.fileHash, size: tiny.length },
    ])
    expect(chunkCount(tiny.length)).toBe(6)
    // what `verity model publish` commits is what the server serves the file as
    expect(modelCommitment('default').fileHash).toBe(tinyCommit.fileHash)
    const seen: number[] = []
    const bytes = await fetchModelFile(client, minerPeer.peerId, tinyCommit, {
      onChunk: (i) => seen.push(i),
    })
    expect(bytes.length).toBe(tiny.length)
    expect(Buffer.compare(bytes, tiny)).toBe(0)
    expect(seen.sort()).toEqual([0, 1, 2, 3, 4, 5])
    // by peer id string too, one chunk at a time
    const again = await fetchModelFile(client, minerPeer.peerId.toString(), tinyCommit, {
      concurrency: 1,
    })
    expect(Buffer.compare(again, tiny)).toBe(0)
  })

  it('serves files added later, of any size (1 byte, an exact multiple of 1 MiB)', async () => {
    for (const size of [1, 2 * FILE_CHUNK_BYTES]) {
      const bytes = new Uint8Array(size).map((_, i) => (i * 7 + size) & 0xff)
      const path = join(dir, `file-${size}`)
      writeFileSync(path, bytes)
      const served = await server.add(path)
      expect(served.root).toBe(fileRoot(bytes))
      const got = await fetchModelFile(client, minerPeer.peerId, { fileHash: served.root, size })
      expect(Buffer.compare(got, bytes)).toBe(0)
    }
  })

  it('refuses a flipped byte in chunk k, naming chunk k', async () => {
    const k = 3
    let asked = 0
    const liar = await rogue(async ({ index }, stream) => {
      if (index === k) asked++
      await honestAnswer(stream, index, (c) => {
        if (index === k) c[1000]! ^= 1
        return c
      })
    })
    const error = await failure(fetchModelFile(client, liar.peerId, tinyCommit, { concurrency: 1 }))
    expect(error.reason).toBe('bad_chunk')
    expect(error.chunk).toBe(k)
    expect(error.shortMessage).toMatch(/chunk 3 does not match the committed file root/)
    expect(asked).toBe(1) // a wrong chunk is not asked for again
  })

  it('asks again for a chunk whose stream broke, and names it when it keeps breaking', async () => {
    let breaks = 1
    let asked = 0
    const flaky = await rogue(async ({ index }, stream) => {
      if (index === 2) {
        asked++
        if (breaks-- > 0) return stream.abort(new Error('flaky'))
      }
      await honestAnswer(stream, index)
    })
    const bytes = await fetchModelFile(client, flaky.peerId, tinyCommit, { concurrency: 2 })
    expect(Buffer.compare(bytes, tiny)).toBe(0)
    expect(asked).toBe(2)
    breaks = 10
    asked = 0
    const error = await failure(
      fetchModelFile(client, flaky.peerId, tinyCommit, { concurrency: 2, retries: 1 }),
    )
    expect(error.reason).toBe('unavailable')
    expect(error.chunk).toBe(2)
    expect(error.shortMessage).toMatch(/the stream broke while fetching chunk 2/)
    expect(asked).toBe(2)
  })

  it('refuses chunks of another file, of the same size or not', async () => {
    const other = tiny.slice()
    other[5 * FILE_CHUNK_BYTES + 17]! ^= 0xff // same size, differs in chunk 5 only
    const otherTree = fileTree(other)
    const sameSize = await rogue(async ({ index }, stream) => {
      await writeChunk(stream, {
        index,
        size: other.length,
        proof: treeProof(otherTree, index),
        chunk: chunkOf(other, index),
      })
      await stream.close()
    })
    const a = await failure(fetchModelFile(client, sameSize.peerId, tinyCommit, { concurrency: 1 }))
    expect(a.reason).toBe('bad_chunk')
    // chunks 0..4 are the same bytes but their proofs lead to the other root
    expect(a.chunk).toBe(0)

    const shorter = tiny.subarray(0, tiny.length - 1)
    const shorterTree = fileTree(shorter)
    const otherSize = await rogue(async ({ index }, stream) => {
      await writeChunk(stream, {
        index,
        size: shorter.length,
        proof: treeProof(shorterTree, index),
        chunk: chunkOf(shorter, index),
      })
      await stream.close()
    })
    const b = await failure(fetchModelFile(client, otherSize.peerId, tinyCommit))
    expect(b.reason).toBe('bad_chunk')
    expect(b.shortMessage).toMatch(/serves a file of 5361247 bytes .* says 5361248/)
  })

  it('refuses truncated, cut-off, padded and oversized chunks', async () => {
    let mode: 'short' | 'cut' | 'padded' | 'huge' = 'short'
    const liar = await rogue(async ({ index }, stream) => {
      if (index !== 2) return honestAnswer(stream, index)
      const header = {
        type: 'chunk' as const,
        index,
        size: tiny.length,
        proof: treeProof(honestTree, index).map((p) => `0x${Buffer.from(p).toString('hex')}`),
      }
      await writeJsonFrame(stream, header)
      const chunk = chunkOf(tiny, index)
      if (mode === 'short') stream.send(lp.encode.single(chunk.subarray(0, chunk.length - 1)))
      if (mode === 'padded') {
        const padded = new Uint8Array(chunk.length + 1)
        padded.set(chunk)
        stream.send(lp.encode.single(padded))
      }
      if (mode === 'huge') stream.send(lp.encode.single(new Uint8Array(FILE_CHUNK_BYTES + 1)))
      if (mode === 'cut') {
        // the length prefix promises the whole chunk; half of it comes, then the stream ends
        const framed = lp.encode.single(chunk).subarray()
        stream.send(framed.subarray(0, framed.length >> 1))
      }
      await stream.close()
    })
    const expectations = {
      short: /chunk 2 is 1048575 bytes, expected 1048576/,
      padded: /chunk 2 is over 1048576 bytes/,
      huge: /chunk 2 is over 1048576 bytes/,
      cut: /chunk 2 was cut short/,
    }
    for (const m of ['short', 'padded', 'huge', 'cut'] as const) {
      mode = m
      const error = await failure(
        fetchModelFile(client, liar.peerId, tinyCommit, { concurrency: 1 }),
      )
      expect([m, error.reason]).toEqual([m, 'bad_length'])
      expect(error.chunk).toBe(2)
      expect(error.shortMessage).toMatch(expectations[m])
    }
  })

  it('refuses garbage answers, wrong indices and error frames with named reasons', async () => {
    let mode: 'garbage' | 'wrong-index' | 'nothing' | 'truncated-proof' = 'garbage'
    const liar = await rogue(async ({ index }, stream) => {
      if (mode === 'garbage') stream.send(lp.encode.single(new TextEncoder().encode('{"type":')))
      if (mode === 'wrong-index') return honestAnswer(stream, (index + 1) % 6)
      if (mode === 'truncated-proof') {
        await writeChunk(stream, {
          index,
          size: tiny.length,
          proof: treeProof(honestTree, index).slice(1),
          chunk: chunkOf(tiny, index),
        })
      }
      await stream.close()
    })
    const reasons: Record<string, [string, RegExp]> = {
      garbage: ['bad_frame', /header for chunk 0 is malformed/],
      'wrong-index': ['bad_frame', /answered chunk 1 when asked for chunk 0/],
      nothing: ['bad_frame', /closed the stream without answering chunk 0/],
      'truncated-proof': ['bad_chunk', /chunk 0 does not match/],
    }
    for (const m of Object.keys(reasons) as (typeof mode)[]) {
      mode = m
      const error = await failure(
        fetchModelFile(client, liar.peerId, tinyCommit, { concurrency: 1 }),
      )
      expect([m, error.reason]).toEqual([m, reasons[m]![0]])
      expect(error.shortMessage).toMatch(reasons[m]![1])
    }
    // the honest server: an unknown root, and a commitment with more chunks than the file has
    const unknown = await failure(
      fetchModelFile(client, minerPeer.peerId, { fileHash: `0x${'ab'.repeat(32)}`, size: 10n }),
    )
    expect(unknown.reason).toBe('unknown_file')
    expect(unknown.shortMessage).toMatch(/does not serve 0xabab/)
  })

  it('fails fast on a peer that does not serve the protocol, a size over the cap, a bad commitment', async () => {
    const bare = await createPeer()
    stops.push(() => bare.stop())
    await dialable(bare)
    const none = await failure(fetchModelFile(client, bare.peerId, tinyCommit))
    expect(none.reason).toBe('unavailable')
    expect(none.shortMessage).toMatch(/does not serve \/verity\/model-file\/1/)

    const big = await failure(
      fetchModelFile(client, minerPeer.peerId, tinyCommit, { maxBytes: tiny.length - 1 }),
    )
    expect(big.reason).toBe('too_large')
    await expect(
      fetchModelFile(client, minerPeer.peerId, { ...tinyCommit, size: 0n }),
    ).rejects.toThrow(CompetitionError)
    await expect(
      fetchModelFile(client, minerPeer.peerId, { fileHash: '0x1234', size: 5n }),
    ).rejects.toThrow(CompetitionError)
  })

  it('times out a silent peer per chunk, and stops at once on abort', async () => {
    const silent = await rogue(async (_request, _stream) => {
      // reads the request, then never answers
    })
    let t = Date.now()
    const slow = await failure(
      fetchModelFile(client, silent.peerId, tinyCommit, { timeoutMs: 400, concurrency: 2 }),
    )
    expect(slow.reason).toBe('timeout')
    expect(slow.shortMessage).toMatch(/chunk [01] did not arrive within 400 ms/)
    expect(Date.now() - t).toBeLessThan(3000)

    t = Date.now()
    const controller = new AbortController()
    setTimeout(() => controller.abort(new Error('validator shutting down')), 200)
    const aborted = await failure(
      fetchModelFile(client, silent.peerId, tinyCommit, { signal: controller.signal }),
    )
    expect(aborted.reason).toBe('aborted')
    expect(Date.now() - t).toBeLessThan(2000)
    const already = await failure(
      fetchModelFile(client, minerPeer.peerId, tinyCommit, { signal: AbortSignal.abort() }),
    )
    expect(already.reason).toBe('aborted')
  })

  it('fails without hanging when the server stops halfway', async () => {
    const peer = await createPeer()
    stops.push(() => peer.stop())
    const quitter = await serveModelFiles(peer, [DEFAULT_MODEL_PATH])
    stops.push(() => quitter.stop())
    await dialable(peer)
    let done = 0
    const t = Date.now()
    const error = await failure(
      fetchModelFile(client, peer.peerId, tinyCommit, {
        concurrency: 1,
        timeoutMs: 5000,
        onChunk: () => {
          if (++done === 2) void quitter.stop()
        },
      }),
    )
    expect(error.reason).toBe('unavailable')
    expect(error.chunk).toBeGreaterThanOrEqual(2)
    expect(done).toBe(2)
    expect(Date.now() - t).toBeLessThan(10_000) // ~1.5 s on a quiet machine
  })

  it('serves 20 concurrent downloads from one server, each byte for byte', async () => {
    const others = await Promise.all([createPeer(), createPeer(), createPeer()])
    for (const p of others) {
      stops.push(() => p.stop())
      await p.peerStore.merge(minerPeer.peerId, { multiaddrs: minerPeer.getMultiaddrs() })
    }
    const clients = [client, ...others]
    const t = Date.now()
    const files = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        fetchModelFile(clients[i % clients.length]!, minerPeer.peerId, tinyCommit, {
          timeoutMs: 30_000,
        }),
      ),
    )
    const ms = Date.now() - t
    for (const f of files) expect(Buffer.compare(f, tiny)).toBe(0)
    // 20 x 5.4 MB on loopback: well under the timeout on a loaded machine
    expect(ms).toBeLessThan(60_000)
  })

  it('answers oversized, garbage and silent requests with an error frame and keeps serving', async () => {
    const ask = async (bytes: Uint8Array | null, to = minerPeer) => {
      const stream = await client.dialProtocol(to.peerId, MODEL_FILE_PROTOCOL)
      if (bytes) stream.send(lp.encode.single(bytes))
      const frames = readRawFrames(stream, FILE_CHUNK_BYTES)
      try {
        const first = await frames.next()
        return first.done ? 'closed' : parseHeader(first.value)
      } catch {
        return 'reset'
      } finally {
        stream.abort(new Error('done'))
      }
    }
    const enc = (v: unknown) => new TextEncoder().encode(JSON.stringify(v))
    const root = tinyCommit.fileHash
    expect(await ask(new Uint8Array(300).fill(0x7b))).toMatchObject({
      type: 'error',
      code: 'bad_request',
      message: 'a request is at most 256 bytes',
    })
    expect(await ask(new TextEncoder().encode('not json'))).toMatchObject({ code: 'bad_request' })
    expect(await ask(enc({ root: '0x12', index: 0 }))).toMatchObject({ code: 'bad_request' })
    expect(await ask(enc({ root, index: 1.5 }))).toMatchObject({ code: 'bad_request' })
    expect(await ask(enc({ root, index: 6 }))).toMatchObject({
      code: 'bad_index',
      message: 'chunk 6 is not in 0..5',
    })
    expect(await ask(enc({ root, index: -1 }))).toMatchObject({ code: 'bad_index' })
    expect(await ask(enc({ root: `0x${'00'.repeat(32)}`, index: 0 }))).toMatchObject({
      code: 'unknown_file',
    })
    // a stream that never sends its request is dropped after requestTimeoutMs
    const hasty = await createPeer()
    stops.push(() => hasty.stop())
    const hastyServer = await serveModelFiles(hasty, [], { requestTimeoutMs: 300 })
    stops.push(() => hastyServer.stop())
    await dialable(hasty)
    const t = Date.now()
    expect(await ask(null, hasty)).toMatch(/closed|reset/)
    expect(Date.now() - t).toBeLessThan(3000)
    // a length prefix that is not a varint at all
    const raw = await client.dialProtocol(minerPeer.peerId, MODEL_FILE_PROTOCOL)
    raw.send(new Uint8Array(12).fill(0xff))
    const answer = await readRawFrames(raw, 1 << 20)
      .next()
      .catch(() => undefined)
    raw.abort(new Error('done'))
    if (answer && !answer.done)
      expect(parseHeader(answer.value)).toMatchObject({ code: 'bad_request' })
    // and the server is still up
    const bytes = await fetchModelFile(client, minerPeer.peerId, tinyCommit)
    expect(Buffer.compare(bytes, tiny)).toBe(0)
  })
})
