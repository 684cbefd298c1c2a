import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { privateKeyToAccount } from 'viem/accounts'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { testModel } from '../runtime/test-model.ts'
import { tokenizerFromGguf } from '../runtime/tokenizer/index.ts'
import { toHex } from '../runtime/trace/merkle.ts'
import { priceSheetToJson, signPriceSheet } from '../verify/price.ts'
import { PRICE_PROTOCOL, writeFrame } from './frames.ts'
import { MinerService } from './miner.ts'
import { createPeer, type Peer } from './peer.ts'
import { fetchPriceSheet } from './price.ts'
import { NodeStore } from './store.ts'

const model = testModel()
const tokenizer = tokenizerFromGguf(model.metadata)
const CONTRACT = '0x5FbDB2315678afecb367f032d93F642f64180aa3'
const hotkey = privateKeyToAccount(`0x${'5a'.repeat(32)}`)
const impostor = privateKeyToAccount(`0x${'6b'.repeat(32)}`)
const dir = mkdtempSync(join(tmpdir(), 'verity-price-'))
const stops: (() => Promise<void> | void)[] = []
let client: Peer
let minerPeer: Peer
let service: MinerService
let now = 1_800_000_000

const expected = () => ({
  chainId: 31337,
  netuid: 1,
  modelRoot: toHex(model.modelRoot),
  verifyingContract: CONTRACT as `0x${string}`,
  minerHotkey: hotkey.address,
})

async function dialable(peer: Peer) {
  await client.peerStore.merge(peer.peerId, { multiaddrs: peer.getMultiaddrs() })
}

beforeAll(async () => {
  client = await createPeer()
  minerPeer = await createPeer()
  const store = new NodeStore(join(dir, 'miner'))
  service = new MinerService(minerPeer, {
    hotkey,
    model,
    tokenizer,
    chainId: 31337,
    netuid: 1,
    verifyingContract: CONTRACT,
    blockNumber: () => 100,
    store,
    price: { prompt: 7n, completion: 11n },
    nowSeconds: () => now,
  })
  await service.start()
  await dialable(minerPeer)
  stops.push(
    () => client.stop(),
    async () => {
      await service.stop()
      await minerPeer.stop()
      store.close()
    },
  )
})
afterAll(async () => {
  for (const stop of stops.reverse()) await stop()
  rmSync(dir, { recursive: true, force: true })
})

describe('/verity/price/1', () => {
  it("a miner's signed sheet reaches a gateway over libp2p and checks out", async () => {
    const sheet = await fetchPriceSheet(client, minerPeer.peerId.toString(), expected(), {
      now: () => now * 1000,
    })
    expect(sheet).toMatchObject({ promptPrice: 7n, completionPrice: 11n, issuedAt: now })
    expect(sheet.validUntil).toBe(now + 3600)
  })

  it('is signed again shortly before it expires, and not before', async () => {
    const first = await service.priceSheet()
    now += 2000
    expect(await service.priceSheet()).toBe(first)
    now += 1100 // 500 s left
    const second = await service.priceSheet()
    expect(second.issuedAt).toBe(now)
    const fetched = await Promise.all(
      Array.from({ length: 6 }, () =>
        fetchPriceSheet(client, minerPeer.peerId.toString(), expected(), { now: () => now * 1000 }),
      ),
    )
    expect(new Set(fetched.map((s) => s.signature))).toEqual(new Set([second.signature]))
  })

  it('refuses a sheet for another hotkey, model or chain, or one that has expired', async () => {
    const id = minerPeer.peerId.toString()
    const at = { now: () => now * 1000 }
    await expect(
      fetchPriceSheet(client, id, { ...expected(), minerHotkey: impostor.address }, at),
    ).rejects.toThrow(/for miner/)
    await expect(
      fetchPriceSheet(client, id, { ...expected(), modelRoot: `0x${'00'.repeat(32)}` }, at),
    ).rejects.toThrow(/for model/)
    await expect(fetchPriceSheet(client, id, { ...expected(), chainId: 1 }, at)).rejects.toThrow(
      /chain/,
    )
    await expect(
      fetchPriceSheet(client, id, expected(), { now: () => (now + 7200) * 1000 }),
    ).rejects.toThrow(/expired/)
  })

  it('refuses forged, garbled, silent and protocol-less peers with a clear error', async () => {
    const rogue = await createPeer()
    stops.push(() => rogue.stop())
    await dialable(rogue)
    const id = rogue.peerId.toString()
    const at = { now: () => now * 1000 }
    // no protocol at all
    await expect(fetchPriceSheet(client, id, expected(), at)).rejects.toThrow(
      /cannot get the price sheet/,
    )
    // a sheet signed by another key claiming the miner's hotkey
    const forged = priceSheetToJson({
      ...(await signPriceSheet(impostor, {
        ...expected(),
        minerHotkey: impostor.address,
        promptPrice: 0n,
        completionPrice: 0n,
        issuedAt: now,
        validUntil: now + 60,
      })),
      minerHotkey: hotkey.address,
    })
    let reply: unknown = { type: 'price', sheet: forged }
    await rogue.handle(PRICE_PROTOCOL, async (stream) => {
      if (reply !== 'silence') await writeFrame(stream, reply as never)
      if (reply !== 'silence') await stream.close()
    })
    await expect(fetchPriceSheet(client, id, expected(), at)).rejects.toThrow(
      /does not match its minerHotkey/,
    )
    reply = { type: 'token', index: 0, token: 1 }
    await expect(fetchPriceSheet(client, id, expected(), at)).rejects.toThrow(/no price frame/)
    reply = { type: 'price', sheet: { ...forged, promptPrice: '-5' } }
    await expect(fetchPriceSheet(client, id, expected(), at)).rejects.toThrow(/promptPrice/)
    reply = 'silence'
    const t = Date.now()
    await expect(fetchPriceSheet(client, id, expected(), at)).rejects.toThrow(
      /cannot get the price sheet/,
    )
    expect(Date.now() - t).toBeLessThan(15_000)
  })
})
