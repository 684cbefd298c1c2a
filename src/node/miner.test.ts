import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { privateKeyToAccount } from 'viem/accounts'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { RemoteError, RequestAbortedError, StreamError } from '../errors/node.ts'
import { samplingParams } from '../runtime/sampler/sample.ts'
import { testModel } from '../runtime/test-model.ts'
import { tokenizerFromGguf } from '../runtime/tokenizer/index.ts'
import { toHex } from '../runtime/trace/merkle.ts'
import type { InferenceRequest } from '../types/inference.ts'
import { type SignedRequest, signRequest } from '../verify/call.ts'
import { executeRequest } from '../verify/execute.ts'
import { signReceipt, verifyReceipt } from '../verify/receipt.ts'
import { requestHash } from '../verify/request.ts'
import { collect, Libp2pMinerClient } from './client.ts'
import { INFER_PROTOCOL, readFrames, writeFrame } from './frames.ts'
import { MinerService } from './miner.ts'
import { createPeer, type Peer } from './peer.ts'
import { NodeStore } from './store.ts'

const model = testModel()
const tokenizer = tokenizerFromGguf(model.metadata)
const caller = privateKeyToAccount(`0x${'c1'.repeat(32)}`)
const stranger = privateKeyToAccount(`0x${'c2'.repeat(32)}`)
const CONTRACT = '0x5FbDB2315678afecb367f032d93F642f64180aa3'
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
    verifyingContract: CONTRACT,
    blockNumber: () => 100,
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

/** A receipt a rogue test miner signs for its own run of `req`, naming `nonce`. */
function receiptFor(
  hotkey: ReturnType<typeof privateKeyToAccount>,
  req: InferenceRequest,
  run: ReturnType<typeof executeRequest>,
  nonce: `0x${string}`,
) {
  return signReceipt(hotkey, {
    chainId: 31337,
    netuid: 1,
    modelRoot: req.modelRoot,
    requestHash: requestHash(req),
    outputHash: run.outputHash,
    traceRoot: run.traceRoot,
    traceLeaves: run.traceLeaves,
    minerHotkey: hotkey.address,
    issuedBlock: 1,
    validUntilBlock: 2,
    nonce,
    verifyingContract: CONTRACT,
  })
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
    // The receipt answers this very call, from the block the miner saw, disputable for a window.
    expect(first.at(-1)?.receipt).toMatchObject({
      nonce: call.nonce,
      issuedBlock: 100,
      validUntilBlock: 7300,
      verifyingContract: CONTRACT,
    })
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
    // The same traffic, as /metrics reports it.
    const { metrics } = m.service
    const requests = (outcome: string) => metrics.value(metrics.minerRequests, { outcome })
    expect(await requests('served')).toBe(2)
    for (const outcome of [
      'replay',
      'unauthorized',
      'stale',
      'bad_frame',
      'wrong_model',
      'bad_request',
    ])
      expect(await requests(outcome)).toBe(1)
    expect(await metrics.value(metrics.minerRequests)).toBe(8)
    expect(await metrics.value(metrics.minerTokens)).toBe(
      (first.at(-1)!.tokens as number[]).length + 16,
    )
    expect(await metrics.value(metrics.receiptsStored)).toBe(2)
    expect(await metrics.render()).toMatch(/^verity_miner_requests_total\{outcome="replay"\} 1$/m)
  })

  it('refuses a request replayed to it after a restart on the same data dir as replay', async () => {
    const before = await miner('restarted')
    const call = await signRequest(caller, request(9), { miner: before.hotkey.address })
    expect((await raw(before, { type: 'request', call })).at(-1)?.type).toBe('done')
    await before.service.stop()
    await before.peer.stop()
    before.store.close()
    const after = await miner('restarted')
    expect(after.store.countNonces()).toBe(1)
    expect(await raw(after, { type: 'request', call })).toEqual([
      { type: 'error', code: 'replay', message: expect.stringMatching(/replayed/) },
    ])
    const { metrics } = after.service
    expect(await metrics.value(metrics.minerRequests, { outcome: 'replay' })).toBe(1)
    // a fresh call from the same caller is served as ever
    const fresh = await signRequest(caller, request(9), { miner: after.hotkey.address })
    expect((await raw(after, { type: 'request', call: fresh })).at(-1)?.type).toBe('done')
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

describe('a miner protects itself', () => {
  const slow = (seed: number) => ({
    ...request(seed, 200),
    params: samplingParams({ temperature: 0 }),
  })

  it('refuses callers it has no reason to serve, and serves the ones it admits', async () => {
    const m = await miner('picky', {
      admit: (who) =>
        who.toLowerCase() === caller.address.toLowerCase()
          ? { ok: true }
          : { ok: false, reason: `caller ${who} is not registered on subnet 1` },
    })
    const out = await collect(clientFor(m), request(20))
    expect(out.tokens).toHaveLength(16)
    await expect(collect(clientFor(m, { caller: stranger }), request(21))).rejects.toSatisfy(
      (e) =>
        e instanceof RemoteError && e.code === 'unauthorized' && /not registered/.test(e.message),
    )
    expect(m.service.served).toBe(1)
  })

  it('stops computing when the caller goes away', async () => {
    const m = await miner('abandoned')
    const controller = new AbortController()
    let seen = 0
    await (async () => {
      for await (const e of clientFor(m).infer(slow(22), { signal: controller.signal })) {
        if (e.type === 'token' && ++seen === 3) controller.abort()
      }
    })().catch(() => {})
    await vi.waitFor(() => expect(m.service.abandoned).toBe(1), { timeout: 5000 })
    expect(m.service.load.running).toBe(0)
    expect(m.service.served).toBe(0)
    expect(m.store.countReceipts()).toBe(0)
  })

  it('caps answers at once, queues a few, and says busy beyond', async () => {
    // Answers are held until all three calls have been admitted or refused, so the outcome does
    // not depend on how fast the first answer runs on a loaded machine.
    let release!: () => void
    const held = new Promise<void>((resolve) => {
      release = resolve
    })
    const m = await miner('capped', { maxConcurrent: 1, maxQueued: 1, holdAnswers: () => held })
    const calls = [30, 31, 32].map((seed) => collect(clientFor(m), slow(seed)))
    const refused = await Promise.race(
      calls.map((c) =>
        c.then(
          () => undefined,
          (e) => e,
        ),
      ),
    )
    expect(refused).toMatchObject({ code: 'busy' })
    expect(m.service.load).toEqual({ running: 1, queued: 1 })
    release()
    const results = await Promise.allSettled(calls)
    const busy = results.filter(
      (r) => r.status === 'rejected' && r.reason instanceof RemoteError && r.reason.code === 'busy',
    )
    const done = results.filter((r) => r.status === 'fulfilled')
    expect(busy).toHaveLength(1)
    expect(done).toHaveLength(2)
    expect(m.service.load).toEqual({ running: 0, queued: 0 })
    const { metrics } = m.service
    expect(await metrics.value(metrics.minerRequests, { outcome: 'busy' })).toBe(1)
    expect(await metrics.value(metrics.minerRequests, { outcome: 'served' })).toBe(2)
  })

  it('limits one caller without starving another', async () => {
    let release!: () => void
    const held = new Promise<void>((resolve) => {
      release = resolve
    })
    const m = await miner('fair', { maxPerCaller: 1, holdAnswers: () => held })
    const calls = [
      collect(clientFor(m), slow(40)),
      collect(clientFor(m), slow(41)),
      collect(clientFor(m, { caller: stranger }), slow(42)),
    ]
    // the same caller's second call is refused while its first is held
    await Promise.race(
      calls.slice(0, 2).map((c) =>
        c.then(
          () => undefined,
          (e) => e,
        ),
      ),
    )
    release()
    const results = await Promise.allSettled(calls)
    // Of the same caller's two, exactly one is served; the other caller is served regardless.
    expect(
      results
        .slice(0, 2)
        .map((r) => r.status)
        .sort(),
    ).toEqual(['fulfilled', 'rejected'])
    expect(results[2]!.status).toBe('fulfilled')
    const refused = results.find((r) => r.status === 'rejected') as PromiseRejectedResult
    expect(refused.reason).toMatchObject({ code: 'busy' })
    expect(refused.reason.message).toMatch(/too many requests from/)
  })

  it('a client refuses a receipt that does not answer its call', async () => {
    // A miner that signs a valid receipt, but for another nonce than the caller's.
    const peer = await createPeer()
    started.push(peer)
    const hotkey = privateKeyToAccount(`0x${'d4'.repeat(32)}`)
    await peer.handle(INFER_PROTOCOL, async (stream) => {
      const frames = readFrames(stream)
      const first = (await frames.next()).value as { call: SignedRequest }
      const req = first.call.request
      const run = executeRequest(model, tokenizer, req)
      const receipt = await receiptFor(hotkey, req, run, `0x${'77'.repeat(32)}`)
      await writeFrame(stream, {
        type: 'done',
        tokens: run.tokens,
        finishReason: run.finishReason,
        receipt,
      })
      await stream.close()
    })
    const c = new Libp2pMinerClient({
      peer: client,
      hotkey: hotkey.address,
      peerId: peer.peerId,
      multiaddrs: peer.getMultiaddrs().map(String),
      caller,
    })
    await expect(collect(c, request(50))).rejects.toSatisfy(
      (e) => e instanceof StreamError && /nonce/.test(String((e as StreamError).details)),
    )
  })
})

describe('logprobs over /verity/infer/1', () => {
  it('a miner returns the logprobs of an adjusted request, equal to a local run', async () => {
    const m = await miner('logprobs')
    const req: InferenceRequest = {
      ...request(8, 6),
      params: samplingParams({ temperature: 0.9, frequencyPenalty: 1, logitBias: { 3: 2 } }),
      logprobs: 4,
    }
    const answer = await collect(clientFor(m), req)
    const local = executeRequest(model, tokenizer, req)
    expect(answer.tokens).toEqual(local.tokens)
    expect(answer.logprobs).toEqual(local.logprobs)
    expect(answer.logprobs).toHaveLength(6)
    expect(answer.logprobs![0]!.top).toHaveLength(4)
    // Without logprobs in the request the done event has none.
    expect((await collect(clientFor(m), request(8, 6))).logprobs).toBeUndefined()
  })

  it('a client refuses logprobs of the wrong shape, or ones it did not ask for', async () => {
    const peer = await createPeer()
    started.push(peer)
    const hotkey = privateKeyToAccount(`0x${'d5'.repeat(32)}`)
    let tamper: (steps: unknown) => unknown = (x) => x
    await peer.handle(INFER_PROTOCOL, async (stream) => {
      const frames = readFrames(stream)
      const first = (await frames.next()).value as { call: SignedRequest }
      const req = first.call.request
      const run = executeRequest(model, tokenizer, req)
      const receipt = await receiptFor(hotkey, req, run, first.call.nonce)
      const logprobs = tamper(
        run.logprobs ?? executeRequest(model, tokenizer, { ...req, logprobs: 1 }).logprobs,
      )
      await writeFrame(stream, {
        type: 'done',
        tokens: run.tokens,
        finishReason: run.finishReason,
        receipt,
        ...(logprobs === undefined ? {} : { logprobs }),
      } as never)
      await stream.close()
    })
    const c = new Libp2pMinerClient({
      peer: client,
      hotkey: hotkey.address,
      peerId: peer.peerId,
      multiaddrs: peer.getMultiaddrs().map(String),
      caller,
    })
    const asking = { ...request(51, 4), logprobs: 1 }
    expect((await collect(c, asking)).logprobs).toHaveLength(4) // honest shape passes
    const malformed = /malformed done frame/
    for (const t of [
      (x: unknown) => (x as unknown[]).slice(1), // one missing
      (x: unknown) => [...(x as unknown[]), (x as unknown[])[0]], // one extra
      () => 'junk',
      (x: unknown) => (x as { logprob: number }[]).map((s) => ({ ...s, logprob: 5 })), // > 0
      (x: unknown) => (x as { logprob: number }[]).map((s) => ({ ...s, logprob: 0.5 })),
      (x: unknown) => (x as { top: unknown[] }[]).map((s) => ({ ...s, top: [...s.top, [1, -1]] })), // > k
      () => undefined, // asked for, none sent
    ]) {
      tamper = t
      await expect(collect(c, asking)).rejects.toThrow(malformed)
    }
    tamper = (x) => x
    // Sent without being asked for.
    await expect(collect(c, request(52, 4))).rejects.toThrow(malformed)
  })
})

describe('infer streams', () => {
  it('a served answer leaves no stream open on either side: a gateway sends all its users over one connection', async () => {
    const m = await miner('streams')
    const c = clientFor(m)
    for (let i = 0; i < 20; i++) await collect(c, request(100 + i, 4))
    // a consumer that stops at `done` without returning the iterator (the gateway's router did)
    for (let i = 0; i < 20; i++) {
      const it = c.infer(request(200 + i, 4))[Symbol.asyncIterator]()
      for (;;) {
        const step = await it.next()
        if (step.done || step.value.type === 'done') break
      }
    }
    const open = () =>
      m.peer
        .getConnections(client.peerId)
        .flatMap((conn) => conn.streams)
        .filter((s) => s.protocol === INFER_PROTOCOL).length
    const outbound = () =>
      client
        .getConnections(m.peer.peerId)
        .flatMap((conn) => conn.streams)
        .filter((s) => s.protocol === INFER_PROTOCOL).length
    await new Promise((r) => setTimeout(r, 200))
    expect({ miner: open(), client: outbound() }).toEqual({ miner: 0, client: 0 })
  })
})
