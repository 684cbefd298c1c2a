import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import OpenAI from 'openai'
import type { Hex } from 'viem'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { type Devnet, startDevnet } from '../src/chain/devnet.ts'
import { NO_DISPUTE_GAME } from '../src/chain/payments.ts'
import { type PaymentsChain, setupPayments } from '../src/chain/payments-fixture.ts'
import { fixedPriceBook } from '../src/gateway/accounts/price.ts'
import { AccountStore, accountStorePath } from '../src/gateway/accounts/store.ts'
import { connectChain } from '../src/node/chain.ts'
import { type GatewayNode, startGatewayNode } from '../src/node/gateway.ts'
import { setupSubnet, startMinerNode } from '../src/node/network.ts'
import { testModel } from '../src/runtime/test-model.ts'
import { tokenizerFromGguf } from '../src/runtime/tokenizer/index.ts'
import type { InferenceRequest, SignedReceipt } from '../src/types/inference.ts'
import { trainedModelBytes } from './trained-model.ts'

/**
 * Paid end to end on a devnet (anvil, libp2p nodes, the openai client): two miners at different
 * prices, a gateway with accounts and payment channels. Each miner's channel settles on chain to
 * exactly Σ tokens × its price over the answers it served (summed here from the receipts' requests
 * and token counts, not from the gateway's counters); a key with credit for a few answers is
 * served until it is spent, then 402, and its usage is the receipts' tokens.
 */
const model = testModel()
const tokenizer = tokenizerFromGguf(model.metadata)
const dir = mkdtempSync(join(tmpdir(), 'verity-paid-e2e-'))
const PRICES = [
  { prompt: 3n, completion: 5n },
  { prompt: 7n, completion: 2n },
]
const MAX_TOKENS = 6
let devnet: Devnet
let c: PaymentsChain
let gateway: GatewayNode
let accounts: AccountStore
const miners: Awaited<ReturnType<typeof startMinerNode>>[] = []
const stops: (() => Promise<void> | void)[] = []

beforeAll(async () => {
  devnet = await startDevnet({ accounts: 5 })
  const w = devnet.walletClients
  const netuid = await setupSubnet(devnet, {
    model,
    ggufBytes: trainedModelBytes(),
    miners: [w[1]!, w[2]!],
    validators: [],
    gateways: [w[3]!],
  })
  c = await setupPayments(devnet, {
    funder: w[0]!,
    actors: [w[3]!],
    disputeGame: NO_DISPUTE_GAME,
  })
  const ctx = (i: number) =>
    connectChain({
      rpcUrl: devnet.rpcUrl,
      account: devnet.accounts[i]!.account as never,
      netuid,
      address: devnet.addresses.verity,
    })
  for (const [i, price] of PRICES.entries()) {
    const node = await startMinerNode({
      hotkey: devnet.accounts[i + 1]!.account as never,
      chain: await ctx(i + 1),
      model,
      tokenizer,
      dataDir: join(dir, `miner${i}`),
      service: { price },
      // settled by the test (and on stop), not by a threshold
      payments: { payments: c.payments, settleAbove: 10n ** 30n, pollMs: 500 },
    })
    miners.push(node)
    stops.push(node.stop)
  }
  accounts = new AccountStore(accountStorePath(join(dir, 'gateway')))
  stops.push(() => accounts.close())
  gateway = await startGatewayNode({
    hotkey: devnet.accounts[3]!.account as never,
    chain: await ctx(3),
    model,
    dataDir: join(dir, 'gateway'),
    port: 0,
    // the user pays 1 credit unit per token, whatever the miner's price
    auth: {
      prices: fixedPriceBook({ promptPerMillion: 1_000_000n, completionPerMillion: 1_000_000n }),
    },
    payments: { payments: c.payments, token: devnet.addresses.token, deposit: 100_000n },
  })
  stops.push(gateway.stop)
  await gateway.view.refresh({ metagraph: true })
  await vi.waitFor(
    () => {
      expect(gateway.pool.size).toBe(2)
      for (const m of miners) expect(gateway.pool.priceOf(m.service.hotkey)).toBeDefined()
    },
    { timeout: 30_000, interval: 200 },
  )
}, 180_000)

afterAll(async () => {
  for (const stop of stops.reverse()) await Promise.resolve(stop()).catch(() => {})
  await devnet?.stop()
  rmSync(dir, { recursive: true, force: true })
})

type Verity = { request: InferenceRequest; tokens: number[]; receipt: SignedReceipt }

describe('paid end to end', () => {
  it('each miner settles Σ tokens × its price; a key is served until its credit is spent, then 402', async () => {
    const prompt = 'Tell me about the river.'
    // a first answer on a throwaway key: the prompt's tokens as the gateway counts them
    const first = (await ask(undefined, prompt, 0, true)) as Verity
    const promptTokens = first.request.promptTokens.length
    // credit for four answers at their longest (prompt + max_tokens), and a little: the fifth is 402
    const credit = BigInt(4 * (promptTokens + MAX_TOKENS) + 3)
    const { secret, account } = accounts.create({
      credit,
      limits: { rpm: 0, tpm: 0, concurrency: 0 },
    })
    const answers: Verity[] = []
    let refused: unknown
    for (let seed = 1; seed <= 8; seed++) {
      try {
        answers.push((await ask(secret, prompt, seed)) as Verity)
      } catch (error) {
        refused = error
        break
      }
    }
    expect(answers.length).toBeGreaterThanOrEqual(4)
    expect(refused).toMatchObject({ status: 402 })
    // usage is the receipts' tokens, at 1 unit per token
    const used = answers.reduce((s, a) => s + a.request.promptTokens.length + a.tokens.length, 0)
    expect(accounts.get(account.id)).toMatchObject({ balance: credit - BigInt(used), held: 0n })

    // what each miner is owed, from the receipts alone
    const owed = new Map<string, bigint>()
    for (const a of [first, ...answers]) {
      const p = a.request.price!
      const key = a.receipt.minerHotkey.toLowerCase()
      owed.set(
        key,
        (owed.get(key) ?? 0n) +
          BigInt(a.request.promptTokens.length) * BigInt(p.promptWei) +
          BigInt(a.tokens.length) * BigInt(p.completionWei),
      )
    }
    expect(owed.size).toBe(2) // both miners served
    for (const [i, m] of miners.entries()) {
      const hotkey = m.service.hotkey
      const price = PRICES[i]!
      for (const a of [first, ...answers])
        if (a.receipt.minerHotkey.toLowerCase() === hotkey.toLowerCase())
          expect(a.request.price).toEqual({
            promptWei: String(price.prompt),
            completionWei: String(price.completion),
          })
      const want = owed.get(hotkey.toLowerCase())!
      const channelId = (await gateway.payer!.channelOf(hotkey)) as Hex
      expect(channelId).toBeDefined()
      await vi.waitFor(() => expect(m.payee!.book.latest(channelId)?.cumulativeAmount).toBe(want), {
        timeout: 20_000,
        interval: 100,
      })
      const before = await c.balance(hotkey)
      expect(await m.payee!.settle(channelId)).toBe(want)
      expect((await c.channel(channelId)).paid).toBe(want)
      expect((await c.balance(hotkey)) - before).toBe(want)
    }
  })
})

/** One chat completion's `verity` field; `throwaway`: on a fresh key with plenty of credit. */
async function ask(
  secret: string | undefined,
  prompt: string,
  seed: number,
  throwaway = false,
): Promise<Verity | number> {
  if (throwaway) {
    const { secret: s } = accounts.create({
      credit: 10_000_000n,
      limits: { rpm: 0, tpm: 0, concurrency: 0 },
    })
    return await ask(s, prompt, 1000)
  }
  const client = new OpenAI({
    baseURL: `${gateway.server.url}/v1`,
    apiKey: secret ?? '',
    maxRetries: 0,
  })
  const r = await client.chat.completions.create({
    model: model.config.name,
    messages: [{ role: 'user', content: prompt }],
    max_tokens: MAX_TOKENS,
    seed,
  })
  return (r as unknown as { verity: Verity }).verity
}
