import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import * as lp from 'it-length-prefixed'
import { bytesToHex, type Hex } from 'viem'
import { privateKeyToAccount } from 'viem/accounts'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  PeerUnavailableError,
  RemoteError,
  RequestAbortedError,
  StreamError,
} from '../../errors/node.ts'
import { checkVisionAnswer, type VisionAnswer } from '../../vision/answer.ts'
import { LocalVisionMiner, type VisionCheatMode } from '../../vision/local-miner.ts'
import { parseDigitsModel } from '../../vision/model.ts'
import { visionModelId } from '../../vision/model-id.ts'
import { loadDigitsCircuit, stopProver } from '../../vision/prover.ts'
import { createPeer, type Peer } from '../peer.ts'
import { RemoteVisionMiner } from './client.ts'
import {
  CLASSIFY_PROTOCOL,
  MAX_CLASSIFY_REQUEST_BYTES,
  readVisionFrame,
  signClassifyCall,
} from './protocol.ts'
import { VisionMinerServer } from './server.ts'

/**
 * `/verity/classify/1` between real libp2p peers, with the real prover: an honest miner's answer
 * checks; a cheater's answer reaches the caller and convicts it; oversized, truncated, malformed,
 * forged, misaddressed and replayed calls are refused with their code and prove nothing;
 * concurrent calls each get their own answer; an aborted call abandons the proof.
 */
const root = join(import.meta.dirname, '../../..')
const circuit = loadDigitsCircuit(join(root, 'circuits/build/digits'))
const model = parseDigitsModel(JSON.parse(readFileSync(join(root, 'models/digits.json'), 'utf8')))
const modelId = visionModelId(circuit.vkey)
const caller = privateKeyToAccount(`0x${'c1'.repeat(32)}`)
const stranger = privateKeyToAccount(`0x${'c2'.repeat(32)}`)
const CONTRACT = '0x00000000000000000000000000000000000000aa' as const
const pixels = Array.from({ length: 64 }, (_, i) => (i * 7) % 17)
const nonce = () => bytesToHex(crypto.getRandomValues(new Uint8Array(32)))
const started: { stop(): unknown }[] = []
let client: Peer

beforeAll(async () => {
  client = await createPeer()
  started.push(client)
})

afterAll(async () => {
  for (const s of started.reverse()) await s.stop()
  await stopProver()
})

async function serve(key: string, cheat?: VisionCheatMode, extra = {}) {
  const peer = await createPeer()
  const account = privateKeyToAccount(`0x${key.repeat(32)}` as Hex)
  const miner = new LocalVisionMiner({
    account,
    model,
    circuit,
    chainId: 31337,
    netuid: 4,
    verifyingContract: CONTRACT,
    blockNumber: () => 9,
    ...(cheat ? { cheat } : {}),
  })
  const server = new VisionMinerServer({ peer, miner, ...extra })
  await server.start()
  started.push(peer, server)
  const remote = new RemoteVisionMiner({
    peer: client,
    hotkey: account.address,
    peerId: peer.peerId,
    multiaddrs: peer.getMultiaddrs().map(String),
    caller,
  })
  return { peer, server, remote, hotkey: account.address }
}

const check = (answer: unknown, n: Hex, miner: Hex) =>
  checkVisionAnswer(answer, {
    vkey: circuit.vkey,
    modelId,
    chainId: 31337,
    netuid: 4,
    pixels,
    nonce: n,
    miner,
  })

/** Writes raw bytes on a fresh stream, then reads the one frame the miner answers with. */
async function raw(m: Awaited<ReturnType<typeof serve>>, bytes: Uint8Array) {
  await client.peerStore.merge(m.peer.peerId, { multiaddrs: m.peer.getMultiaddrs() })
  const stream = await client.dialProtocol(m.peer.peerId, CLASSIFY_PROTOCOL)
  stream.send(bytes)
  try {
    return (await readVisionFrame(stream, 1 << 20)) as Record<string, unknown> | undefined
  } catch (error) {
    return { reset: (error as Error).name }
  } finally {
    stream.abort(new Error('done'))
  }
}
const frameBytes = (value: unknown) =>
  lp.encode.single(new TextEncoder().encode(JSON.stringify(value))).subarray()

let honest: Awaited<ReturnType<typeof serve>>
let cheater: Awaited<ReturnType<typeof serve>>
beforeAll(async () => {
  honest = await serve('a1')
  cheater = await serve('a2', 'invalid-proof')
}, 60_000)

describe('/verity/classify/1', () => {
  it('answers a signed call with a proof that checks for these pixels, nonce and miner', async () => {
    const n = nonce()
    const answer = await honest.remote.classify(pixels, { nonce: n })
    expect(await check(answer, n, honest.hotkey)).toEqual({ ok: true, signer: honest.hotkey })
    expect(answer.pixels).toEqual(pixels)
    expect(answer.receipt.nonce).toBe(n)
    // the same answer is refused for another call's nonce
    expect((await check(answer, nonce(), honest.hotkey)).ok).toBe(false)
  })

  it("hands a cheater's answer to the caller, where its own signature convicts it", async () => {
    const n = nonce()
    const answer = await cheater.remote.classify(pixels, { nonce: n })
    const verdict = await check(answer, n, cheater.hotkey)
    expect(verdict).toMatchObject({ ok: false, signed: true, signer: cheater.hotkey })
  })

  it('refuses an oversized frame and a truncated one without answering', async () => {
    const before = honest.server.counts.answered
    const big = frameBytes({
      type: 'classify',
      call: { pad: 'x'.repeat(MAX_CLASSIFY_REQUEST_BYTES) },
    })
    expect(await raw(honest, big)).toMatchObject({ type: 'error', code: 'bad_frame' })
    // a frame cut short and the stream left open: the miner waits requestTimeoutMs, then resets
    const impatient = await serve('a4', undefined, { requestTimeoutMs: 300 })
    const whole = frameBytes({
      type: 'classify',
      call: await signClassifyCall(caller, pixels, { miner: impatient.hotkey }),
    })
    const t0 = Date.now()
    expect(await raw(impatient, whole.subarray(0, whole.length - 20))).toEqual({
      reset: 'StreamResetError',
    })
    expect(Date.now() - t0).toBeLessThan(3000)
    expect(impatient.server.counts.answered).toBe(0)
    const notJson = lp.encode.single(new TextEncoder().encode('{not json')).subarray()
    expect(await raw(honest, notJson)).toMatchObject({ type: 'error', code: 'bad_frame' })
    expect(await raw(honest, frameBytes({ type: 'hello' }))).toMatchObject({ code: 'bad_frame' })
    expect(honest.server.counts.answered).toBe(before)
  })

  it('refuses bad pixels: too few, too many, out of range, not integers', async () => {
    const good = await signClassifyCall(caller, pixels, { miner: honest.hotkey })
    for (const bad of [
      pixels.slice(0, 63),
      [...pixels, 0],
      pixels.map((p, i) => (i === 5 ? 17 : p)),
      pixels.map((p, i) => (i === 9 ? -1 : p)),
      pixels.map((p, i) => (i === 0 ? 1.5 : p)),
      'pixels',
    ]) {
      const frame = await raw(
        honest,
        frameBytes({ type: 'classify', call: { ...good, pixels: bad } }),
      )
      expect(frame).toMatchObject({ type: 'error', code: 'bad_request' })
    }
    await expect(signClassifyCall(caller, [1, 2, 3], { miner: honest.hotkey })).rejects.toThrow(
      /64 pixels/,
    )
  })

  it('refuses a forged caller signature, a call for another miner and other pixels than signed', async () => {
    const forged = await signClassifyCall(stranger, pixels, { miner: honest.hotkey })
    const asCaller = { ...forged, caller: caller.address }
    expect(await raw(honest, frameBytes({ type: 'classify', call: asCaller }))).toMatchObject({
      code: 'unauthorized',
    })
    const elsewhere = await signClassifyCall(caller, pixels, { miner: cheater.hotkey })
    expect(await raw(honest, frameBytes({ type: 'classify', call: elsewhere }))).toMatchObject({
      code: 'unauthorized',
      message: expect.stringMatching(/another miner/),
    })
    const good = await signClassifyCall(caller, pixels, { miner: honest.hotkey })
    const swapped = { ...good, pixels: pixels.map((p) => 16 - p) }
    expect(await raw(honest, frameBytes({ type: 'classify', call: swapped }))).toMatchObject({
      code: 'unauthorized',
    })
    const garbage = { ...good, signature: '0x1234' }
    expect(await raw(honest, frameBytes({ type: 'classify', call: garbage }))).toMatchObject({
      code: 'unauthorized',
    })
  })

  it('answers a call once: the same nonce again is a replay, an old timestamp is stale', async () => {
    const call = await signClassifyCall(caller, pixels, { miner: honest.hotkey })
    const first = await raw(honest, frameBytes({ type: 'classify', call }))
    expect(first).toMatchObject({ type: 'answer' })
    expect(await raw(honest, frameBytes({ type: 'classify', call }))).toMatchObject({
      code: 'replay',
    })
    // through the client too: the second call with the same nonce is refused
    const n = nonce()
    await honest.remote.classify(pixels, { nonce: n })
    const again = honest.remote.classify(pixels, { nonce: n })
    await expect(again).rejects.toBeInstanceOf(RemoteError)
    await expect(again).rejects.toMatchObject({ code: 'replay' })
    const old = await signClassifyCall(caller, pixels, {
      miner: honest.hotkey,
      timestamp: Date.now() - 10 * 60_000,
    })
    expect(await raw(honest, frameBytes({ type: 'classify', call: old }))).toMatchObject({
      code: 'stale',
    })
  })

  it('answers concurrent calls each with its own nonce', async () => {
    const nonces = Array.from({ length: 4 }, nonce)
    const answers = await Promise.all(
      nonces.map((n) => honest.remote.classify(pixels, { nonce: n })),
    )
    const verdicts = await Promise.all(answers.map((a, i) => check(a, nonces[i]!, honest.hotkey)))
    expect(verdicts.map((v) => v.ok)).toEqual([true, true, true, true])
    expect(answers.map((a) => a.receipt.nonce)).toEqual(nonces)
  }, 30_000)

  it('refuses busy beyond the queue, and abandons a call whose caller aborts', async () => {
    const tight = await serve('a3', undefined, { maxConcurrent: 1, maxQueued: 0 })
    const first = tight.remote.classify(pixels, { nonce: nonce() })
    await new Promise((r) => setTimeout(r, 150))
    await expect(tight.remote.classify(pixels, { nonce: nonce() })).rejects.toMatchObject({
      code: 'busy',
    })
    expect((await first).receipt.minerHotkey).toBe(tight.hotkey)
    const controller = new AbortController()
    const call = tight.remote.classify(pixels, { nonce: nonce(), signal: controller.signal })
    setTimeout(() => controller.abort(), 100)
    await expect(call).rejects.toBeInstanceOf(RequestAbortedError)
    const end = Date.now() + 5000
    while (tight.server.counts.abandoned === 0 && Date.now() < end)
      await new Promise((r) => setTimeout(r, 50))
    expect(tight.server.counts.abandoned).toBe(1)
  }, 30_000)

  it('fails with PeerUnavailableError when the miner cannot be reached', async () => {
    const gone = await createPeer()
    const id = gone.peerId
    const addrs = gone.getMultiaddrs().map(String)
    await gone.stop()
    const remote = new RemoteVisionMiner({
      peer: client,
      hotkey: caller.address,
      peerId: id,
      multiaddrs: addrs,
      caller,
    })
    await expect(remote.classify(pixels, { nonce: nonce() })).rejects.toBeInstanceOf(
      PeerUnavailableError,
    )
  })

  it('refuses an oversized answer from a miner, as a StreamError', async () => {
    const peer = await createPeer()
    const hotkey = privateKeyToAccount(`0x${'a5'.repeat(32)}`).address
    // a miner that pads its answer far past the answer frame's bound
    const bloated = {
      hotkey,
      classify: async () => ({ label: 1, pad: 'x'.repeat(100_000) }) as unknown as VisionAnswer,
    }
    const server = new VisionMinerServer({ peer, miner: bloated })
    await server.start()
    started.push(peer, server)
    const remote = new RemoteVisionMiner({
      peer: client,
      hotkey,
      peerId: peer.peerId,
      multiaddrs: peer.getMultiaddrs().map(String),
      caller,
    })
    await expect(remote.classify(pixels, { nonce: nonce() })).rejects.toBeInstanceOf(StreamError)
  })
})
