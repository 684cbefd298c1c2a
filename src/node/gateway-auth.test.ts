import { mkdtempSync, rmSync } from 'node:fs'
import { request as httpRequest } from 'node:http'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import OpenAI from 'openai'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { trainedModelBytes } from '../../test/trained-model.ts'
import { type Devnet, startDevnet } from '../chain/devnet.ts'
import { fixedPriceBook } from '../gateway/accounts/price.ts'
import { AccountStore, accountStorePath } from '../gateway/accounts/store.ts'
import { testModel } from '../runtime/test-model.ts'
import { tokenizerFromGguf } from '../runtime/tokenizer/index.ts'
import type { InferenceRequest } from '../types/inference.ts'
import { requestHash } from '../verify/request.ts'
import { connectChain } from './chain.ts'
import { type GatewayNode, startGatewayNode } from './gateway.ts'
import { setupSubnet, startMinerNode } from './network.ts'

/**
 * The gateway role with accounts on (`verity node --role gateway --auth`): keys from its data
 * dir's store, charged at its prices; holds of a previous run released at start; Host checked.
 */
const model = testModel()
const tokenizer = tokenizerFromGguf(model.metadata)
const dir = mkdtempSync(join(tmpdir(), 'verity-gateway-auth-'))
const PRICE = { promptPerMillion: 1_000_000n, completionPerMillion: 2_000_000n }
let devnet: Devnet
let gateway: GatewayNode
let cli: AccountStore
let leftover: { id: string; hold: bigint }
let minerNode: Awaited<ReturnType<typeof startMinerNode>>
const stops: (() => Promise<void> | void)[] = []

beforeAll(async () => {
  devnet = await startDevnet({ accounts: 3 })
  const w = devnet.walletClients
  const netuid = await setupSubnet(devnet, {
    model,
    ggufBytes: trainedModelBytes(),
    miners: [w[1]!],
    validators: [],
    gateways: [w[2]!],
  })
  const ctx = (i: number) =>
    connectChain({
      rpcUrl: devnet.rpcUrl,
      account: devnet.accounts[i]!.account as never,
      netuid,
      address: devnet.addresses.verity,
    })
  const miner = await startMinerNode({
    hotkey: devnet.accounts[1]!.account as never,
    chain: await ctx(1),
    model,
    tokenizer,
    dataDir: join(dir, 'miner'),
    service: { price: { prompt: 3n, completion: 5n } },
  })
  minerNode = miner
  stops.push(miner.stop)
  // a hold left by a gateway that died mid-request
  cli = new AccountStore(accountStorePath(join(dir, 'gateway')))
  stops.push(() => cli.close())
  const old = cli.create({ credit: 100n, limits: { rpm: 0, tpm: 0, concurrency: 0 } })
  leftover = { id: old.account.id, hold: cli.reserve(old.account.id, 60n)! }
  gateway = await startGatewayNode({
    hotkey: devnet.accounts[2]!.account as never,
    chain: await ctx(2),
    model,
    dataDir: join(dir, 'gateway'),
    port: 0,
    auth: { prices: fixedPriceBook(PRICE) },
    allowedHosts: ['api.example.org'],
  })
  stops.push(gateway.stop)
  await gateway.view.refresh({ metagraph: true })
  await vi.waitFor(() => expect(gateway.pool.size).toBe(1), { timeout: 30_000, interval: 200 })
}, 180_000)

afterAll(async () => {
  for (const stop of stops.reverse()) await Promise.resolve(stop()).catch(() => {})
  await devnet?.stop()
  rmSync(dir, { recursive: true, force: true })
})

function hostStatus(host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    httpRequest(
      { host: '127.0.0.1', port: gateway.server.port, path: '/v1/models', headers: { host } },
      (res) => {
        res.resume()
        resolve(res.statusCode!)
      },
    )
      .on('error', reject)
      .end()
  })
}

describe('verity node --role gateway --auth', () => {
  it("fetched the miner's signed price sheet over libp2p and routes by it", async () => {
    const hotkey = devnet.accounts[1]!.account.address
    await vi.waitFor(() => expect(gateway.pool.priceOf(hotkey)).toBeDefined(), {
      timeout: 30_000,
      interval: 200,
    })
    expect(gateway.pool.priceOf(hotkey)).toMatchObject({ prompt: 3n, completion: 5n })
    // a cap below the miner's price leaves no miner; one at it serves
    expect(gateway.pool.acquire(new Set(), undefined, { maxPrice: { completion: 4n } })).toBe(
      undefined,
    )
    const m = gateway.pool.acquire(new Set(), undefined, { maxPrice: { completion: 5n } })
    expect(m?.hotkey).toBe(hotkey)
    gateway.pool.release(m!, { ok: true })
  })

  it('released the holds of the previous run at start', () => {
    expect(cli.get(leftover.id)).toMatchObject({ balance: 100n, held: 0n })
  })

  it('refuses calls without a key from its store; charges the key exactly by usage', async () => {
    const baseURL = `${gateway.server.url}/v1`
    const anonymous = new OpenAI({ baseURL, apiKey: 'vty-made-up', maxRetries: 0 })
    await expect(
      anonymous.chat.completions.create({
        model: model.config.name,
        messages: [{ role: 'user', content: 'Hi' }],
      }),
    ).rejects.toMatchObject({ status: 401, code: 'invalid_api_key' })

    const { secret, account } = cli.create({
      credit: 1_000_000n,
      limits: { rpm: 10, tpm: 0, concurrency: 2 },
    })
    const client = new OpenAI({ baseURL, apiKey: secret, maxRetries: 0 })
    const r = await client.chat.completions.create({
      model: model.config.name,
      messages: [{ role: 'user', content: 'Tell me about the river.' }],
      max_tokens: 8,
      seed: 1,
    })
    const { prompt_tokens: p, completion_tokens: c } = r.usage!
    expect(cli.get(account.id)).toMatchObject({ balance: 1_000_000n - BigInt(p + 2 * c), held: 0n })
    const usage = await (
      await fetch(`${baseURL}/usage`, { headers: { authorization: `Bearer ${secret}` } })
    ).json()
    expect(usage).toMatchObject({ balance: String(1_000_000 - p - 2 * c), totals: { requests: 1 } })
  })

  it('binds the miner price into the request; a miner that raises its price mid-run is refetched', async () => {
    const baseURL = `${gateway.server.url}/v1`
    const { secret } = cli.create({
      credit: 1_000_000n,
      limits: { rpm: 0, tpm: 0, concurrency: 0 },
    })
    const client = new OpenAI({ baseURL, apiKey: secret, maxRetries: 0 })
    const ask = (seed: number) =>
      client.chat.completions.create({
        model: model.config.name,
        messages: [{ role: 'user', content: 'Hi' }],
        max_tokens: 4,
        seed,
      })
    const verity = (r: unknown) =>
      (r as { verity: { request: InferenceRequest; receipt: { requestHash: string } } }).verity
    const first = verity(await ask(11))
    expect(first.request.price).toEqual({ promptWei: '3', completionWei: '5' })
    expect(first.receipt.requestHash).toBe(requestHash(first.request))
    // the miner signs a dearer sheet: the gateway's next request (old price) is refused, which
    // makes the gateway fetch the new sheet at once; the one after is served at the new price
    minerNode.service.setPrice({ prompt: 4n, completion: 5n })
    const refused = await ask(12).catch((e: unknown) => e)
    expect(refused).toMatchObject({ status: 502 })
    expect((refused as Error).message).toMatch(/below this miner's current price/)
    const hotkey = devnet.accounts[1]!.account.address
    await vi.waitFor(() => expect(gateway.pool.priceOf(hotkey)?.prompt).toBe(4n), {
      timeout: 10_000,
      interval: 100,
    })
    const third = verity(await ask(13))
    expect(third.request.price).toEqual({ promptWei: '4', completionWei: '5' })
    expect(third.receipt.requestHash).toBe(requestHash(third.request))
  })

  it('answers only its Host names', async () => {
    expect(await hostStatus(`127.0.0.1:${gateway.server.port}`)).toBe(401)
    expect(await hostStatus('api.example.org')).toBe(401)
    expect(await hostStatus('rebind.attacker.example')).toBe(421)
  })
})
