import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { isAddressEqual } from 'viem'
import { privateKeyToAccount } from 'viem/accounts'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { RemoteError } from '../errors/node.ts'
import { routeInference } from '../gateway/execute.ts'
import { MinerPool } from '../gateway/pool.ts'
import { samplingParams } from '../runtime/sampler/sample.ts'
import { testModel } from '../runtime/test-model.ts'
import { tokenizerFromGguf } from '../runtime/tokenizer/index.ts'
import { toHex } from '../runtime/trace/merkle.ts'
import type { InferenceRequest } from '../types/inference.ts'
import { requestHash } from '../verify/request.ts'
import { collect, Libp2pMinerClient } from './client.ts'
import { MinerService } from './miner.ts'
import { createPeer, type Peer } from './peer.ts'
import { fetchPriceSheet } from './price.ts'
import { NodeStore } from './store.ts'

/**
 * Prices bound into requests over real libp2p: the gateway prices each miner's request at that
 * miner's verified sheet; a miner refuses a request priced below its current sheet (or without a
 * price while it charges) with the `price` code, and serves one at or above it.
 */
const model = testModel()
const tokenizer = tokenizerFromGguf(model.metadata)
const CONTRACT = '0x5FbDB2315678afecb367f032d93F642f64180aa3'
const gatewayKey = privateKeyToAccount(`0x${'c1'.repeat(32)}`)
const dir = mkdtempSync(join(tmpdir(), 'verity-priced-'))
const stops: (() => Promise<void> | void)[] = []
let gateway: Peer

function request(seed = 1): InferenceRequest {
  return {
    modelRoot: toHex(model.modelRoot),
    promptTokens: tokenizer.encode('The quick brown fox'),
    maxTokens: 6,
    params: samplingParams({ temperature: 0.9, topP: 0.95 }),
    seed,
    stopTokens: [],
    stop: [],
  }
}

async function miner(
  name: string,
  price: { prompt: bigint; completion: bigint },
  freeFor?: (caller: `0x${string}`) => boolean,
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
    price,
    ...(freeFor ? { freeFor } : {}),
  })
  await service.start()
  stops.push(async () => {
    await service.stop()
    await peer.stop()
    store.close()
  })
  await gateway.peerStore.merge(peer.peerId, { multiaddrs: peer.getMultiaddrs() })
  const client = new Libp2pMinerClient({
    peer: gateway,
    hotkey: hotkey.address,
    peerId: peer.peerId.toString(),
    caller: gatewayKey,
  })
  return { peer, service, store, hotkey, client }
}

async function sheetOf(m: Awaited<ReturnType<typeof miner>>) {
  const sheet = await fetchPriceSheet(gateway, m.peer.peerId.toString(), {
    chainId: 31337,
    netuid: 1,
    modelRoot: toHex(model.modelRoot),
    verifyingContract: CONTRACT,
    minerHotkey: m.hotkey.address,
  })
  return {
    prompt: sheet.promptPrice,
    completion: sheet.completionPrice,
    validUntil: sheet.validUntil,
  }
}

const priced = (r: InferenceRequest, promptWei: string, completionWei: string) => ({
  ...r,
  price: { promptWei, completionWei },
})

beforeAll(async () => {
  gateway = await createPeer()
  stops.push(() => gateway.stop())
})
afterAll(async () => {
  for (const stop of stops.reverse()) await Promise.resolve(stop()).catch(() => {})
  rmSync(dir, { recursive: true, force: true })
})

describe('prices bound into requests', () => {
  it('a priced miner serves a request at or above its price, and the receipt commits to it', async () => {
    const m = await miner('at-price', { prompt: 3n, completion: 5n })
    const at = priced(request(1), '3', '5')
    const done = await collect(m.client, at)
    expect(done.receipt.requestHash).toBe(requestHash(at))
    expect(m.store.getReceipt(done.receipt.requestHash, done.receipt.nonce)?.request.price).toEqual(
      { promptWei: '3', completionWei: '5' },
    )
    const above = priced(request(2), '4', '5')
    expect((await collect(m.client, above)).receipt.requestHash).toBe(requestHash(above))
    expect(m.service.served).toBe(2)
  })

  it('refuses a forged lower price, a missing price, and names its own price', async () => {
    const m = await miner('refuser', { prompt: 3n, completion: 5n })
    const refusal = (r: InferenceRequest) =>
      collect(m.client, r).then(
        () => undefined,
        (e: unknown) => e,
      )
    for (const r of [
      priced(request(3), '2', '5'), // prompt below
      priced(request(3), '3', '4'), // completion below
      priced(request(3), '0', '9'), // the sum is above, one price is below
      request(3), // no price at all
    ]) {
      const error = await refusal(r)
      expect(error).toBeInstanceOf(RemoteError)
      expect(error).toMatchObject({ code: 'price' })
      expect((error as Error).message).toMatch(/3 wei per prompt token and 5 per completion/)
    }
    expect(m.service.served).toBe(0)
    expect(m.service.refused).toBe(4)
    // a caller the miner serves free (a validator's unpriced check): served without a price
    const checked = await miner('checked', { prompt: 3n, completion: 5n }, (c) =>
      isAddressEqual(c, gatewayKey.address),
    )
    expect((await collect(checked.client, request(3))).tokens.length).toBeGreaterThan(0)
    // ...but a priced request from it below the price is still refused
    expect(
      await collect(checked.client, priced(request(4), '1', '1')).catch((e: unknown) => e),
    ).toMatchObject({ code: 'price' })
    // a free miner serves priced and unpriced requests alike
    const free = await miner('free', { prompt: 0n, completion: 0n })
    await collect(free.client, request(4))
    await collect(free.client, priced(request(5), '1', '1'))
    expect(free.service.served).toBe(2)
  })

  it('the gateway prices each miner at its own sheet, and fails over when a miner raised its price', async () => {
    const cheap = await miner('cheap', { prompt: 2n, completion: 3n })
    const dear = await miner('dear', { prompt: 7n, completion: 11n })
    const pool = new MinerPool(
      { id: 'm', modelRoot: toHex(model.modelRoot) } as never,
      // no cool-down: the refusal below is not what this test is about
      {
        miners: [
          { miner: cheap.client, score: 2 },
          { miner: dear.client, score: 1 },
        ],
        cooldownMs: 0,
      },
    )
    pool.setPrice(cheap.hotkey.address, await sheetOf(cheap))
    pool.setPrice(dear.hotkey.address, await sheetOf(dear))
    const run = async (r: InferenceRequest) => {
      for await (const e of routeInference(pool, r)) if (e.type === 'done') return e
      throw new Error('no done')
    }
    const first = await run(request(6))
    expect(first.miner.hotkey).toBe(cheap.hotkey.address)
    expect(first.request.price).toEqual({ promptWei: '2', completionWei: '3' })
    expect(first.receipt.requestHash).toBe(requestHash(first.request))

    // the cheap miner signs a new, dearer sheet mid-run: the gateway's old price is refused
    cheap.service.setPrice({ prompt: 4n, completion: 3n })
    const second = await run(request(7))
    expect(second.miner.hotkey).toBe(dear.hotkey.address)
    expect(second.attempts).toBe(2)
    expect(second.request.price).toEqual({ promptWei: '7', completionWei: '11' })
    // the same seed on another miner: the same tokens (the price is not in the sampling)
    expect((await collect(cheap.client, priced(request(7), '4', '3'))).tokens).toEqual(
      second.tokens,
    )
    // with the new sheet fetched, the cheap miner is routed to at its new price
    const sheet = await sheetOf(cheap)
    expect(sheet).toMatchObject({ prompt: 4n, completion: 3n })
    pool.setPrice(cheap.hotkey.address, sheet)
    const third = await run(request(8))
    expect(third.miner.hotkey).toBe(cheap.hotkey.address)
    expect(third.request.price).toEqual({ promptWei: '4', completionWei: '3' })

    // a miner whose price is unknown or free gets no price in its request
    pool.setPrice(cheap.hotkey.address, undefined)
    pool.setPrice(dear.hotkey.address, undefined)
    await cheap.service.stop()
    const fourth = await run(request(9)).catch((e: unknown) => e)
    // dear refuses the unpriced request; cheap no longer serves: both fail, nothing served free
    expect((fourth as Error).message).toMatch(/all 2 miner\(s\) tried/)
    expect(dear.service.refused).toBeGreaterThanOrEqual(1)
  })
})
