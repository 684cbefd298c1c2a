import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { privateKeyToAccount } from 'viem/accounts'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { RemoteError, RequestAbortedError, StreamError } from '../errors/node.ts'
import { samplingParams } from '../runtime/sampler/sample.ts'
import { testModel } from '../runtime/test-model.ts'
import { tokenizerFromGguf } from '../runtime/tokenizer/index.ts'
import { toHex } from '../runtime/trace/merkle.ts'
import type { InferenceRequest } from '../types/inference.ts'
import { type SignedRequest, signRequest } from '../verify/call.ts'
import { executeRequest } from '../verify/execute.ts'
import { verifyReceipt } from '../verify/receipt.ts'
import { collect, Libp2pMinerClient } from './client.ts'
import { INFER_PROTOCOL, readFrames, writeFrame } from './frames.ts'
import { MinerService } from './miner.ts'
import { createPeer, type Peer } from './peer.ts'
import { NodeStore } from './store.ts'

const model = testModel()
const tokenizer = tokenizerFromGguf(model.metadata)
const caller = privateKeyToAccount(`0x${'c1'.repeat(32)}`)
const dir = mkdtempSync(join(tmpdir(), 'verity-miner-'))
const started: { stop(): Promise<void> | void }[] = []

function request(seed = 1, maxTokens = 16): InferenceRequest {
  return {
    modelRoot: toHex(model.modelRoot),
    promptTokens: tokenizer.encode('The quick brown fox'),
    maxTokens,
    params: samplingParams({ temperature: 0.9, topP: 0.95 }),
    seed,
    stopTokens: [],
    stop: [],
  }
}

async function miner(
  name: string,
  extra: Partial<ConstructorParameters<typeof MinerService>[1]> = {},
) {
  const peer = await createPeer()
  const store = new NodeStore(join(dir, name))
  const hotkey = privateKeyToAccount(`0x${Buffer.from(name.padEnd(32, '_')).toString('hex')}`)
  const service = new MinerService(peer, {
    hotkey,
    model,
    tokenizer,
    chainId: 31337,
    netuid: 1,
    store,
    ...extra,
  })
  await service.start()
  started.push({
    stop: async () => {
      await service.stop()
      await peer.stop()
      store.close()
    },
  })
  return { peer, service, store, hotkey }
}

let client: Peer
beforeAll(async () => {
  client = await createPeer()
  started.push(client)
})
afterAll(async () => {
  for (const s of started.reverse()) await s.stop()
  rmSync(dir, { recursive: true, force: true })
})

const clientFor = (m: Awaited<ReturnType<typeof miner>>, extra = {}) =>
  new Libp2pMinerClient({
    peer: client,
    hotkey: m.hotkey.address,
    peerId: m.peer.peerId,
    multiaddrs: m.peer.getMultiaddrs().map(String),
    caller,
    ...extra,
  })

async function raw(m: Awaited<ReturnType<typeof miner>>, frame: unknown) {
  await client.peerStore.merge(m.peer.peerId, { multiaddrs: m.peer.getMultiaddrs() })
  const stream = await client.dialProtocol(m.peer.peerId, INFER_PROTOCOL)
  await writeFrame(stream, frame as never)
  const out: Record<string, unknown>[] = []
  for await (const f of readFrames(stream)) out.push(f as Record<string, unknown>)
  return out
}

describe('/verity/infer/1', () => {
  it('streams tokens then a receipt that verifies and is stored for the dispute window', async () => {
    const m = await miner('honest')
    const req = request(7)
    const answer = await collect(clientFor(m), req)
    const local = executeRequest(model, tokenizer, req)
    expect(answer.tokens).toEqual(local.tokens)
    expect(answer.streamed).toEqual(local.tokens)
    expect(answer.receipt.traceRoot).toBe(local.traceRoot)
    await verifyReceipt(answer.receipt, {
      request: req,
      tokens: answer.tokens,
      chainId: 31337,
      netuid: 1,
    })
    const stored = m.store.getReceipt(answer.receipt.requestHash, answer.receipt.nonce)
    expect(stored?.request).toEqual(req)
    expect(stored?.tokens).toEqual(local.tokens)
    expect(m.store.countReceipts()).toBe(1)
  })

  it('rejects a replayed nonce, a bad signature, another model and junk, and keeps serving', async () => {
    const m = await miner('strict')
    const call = await signRequest(caller, request(3), { miner: m.hotkey.address })
    const first = await raw(m, { type: 'request', call })
    expect(first.at(-1)?.type).toBe('done')
    const replay = await raw(m, { type: 'request', call })
    expect(replay).toEqual([
      { type: 'error', code: 'replay', message: expect.stringMatching(/replayed/) },
    ])
    const forged: SignedRequest = {
      ...(await signRequest(caller, request(4), { miner: m.hotkey.address })),
      seedTamper: 1,
    } as never
    forged.request = { ...forged.request, seed: 99 }
    const bad = await raw(m, { type: 'request', call: forged })
    expect(bad[0]).toMatchObject({ type: 'error', code: 'unauthorized' })
    const stale = await signRequest(caller, request(5), {
      miner: m.hotkey.address,
      timestamp: Date.now() - 3_600_000,
    })
    expect((await raw(m, { type: 'request', call: stale }))[0]).toMatchObject({
      type: 'error',
      code: 'stale',
    })
    expect((await raw(m, { type: 'hello' }))[0]).toMatchObject({ type: 'error', code: 'bad_frame' })
    const other = { ...request(6), modelRoot: `0x${'00'.repeat(32)}` as const }
    await expect(collect(clientFor(m), other)).rejects.toSatisfy(
      (e) => e instanceof RemoteError && e.code === 'wrong_model',
    )
    const tooLong = { ...request(6), maxTokens: 100_000 }
    await expect(collect(clientFor(m), tooLong)).rejects.toBeInstanceOf(RemoteError)
    // still serving
    const ok = await collect(clientFor(m), request(8))
    expect(ok.tokens).toHaveLength(16)
    expect(m.service.refused).toBe(6)
  })

  it('a miner that dies mid-answer gives a clean StreamError, never a hang', async () => {
    const m = await miner('flaky', { dieAfterTokens: 5 })
    const seen: number[] = []
    const error = await (async () => {
      for await (const e of clientFor(m).infer(request(9)))
        if (e.type === 'token') seen.push(e.token)
    })().catch((e) => e)
    expect(error).toBeInstanceOf(StreamError)
    expect(seen.length).toBeLessThanOrEqual(5)
  })

  it('a miner whose node stops while the client waits gives a clean error', async () => {
    const m = await miner('gone')
    await m.service.stop()
    // the protocol is gone: the dial fails cleanly
    await expect(collect(clientFor(m), request(10))).rejects.toSatisfy(
      (e) => e instanceof RemoteError && e.code === 'unsupported_protocol',
    )
    await m.peer.stop()
    await expect(collect(clientFor(m), request(10))).rejects.toSatisfy(
      (e) => e.name === 'PeerUnavailableError',
    )
  })

  it('honours the caller signal', async () => {
    const m = await miner('slow')
    const controller = new AbortController()
    controller.abort()
    await expect(
      collect(clientFor(m), request(11), { signal: controller.signal }),
    ).rejects.toBeInstanceOf(RequestAbortedError)
  })
})
