import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import OpenAI from 'openai'
import { afterEach, describe, expect, it } from 'vitest'
import type { InferenceEvent, InferenceRequest, MinerClient } from '../types/inference.ts'
import { Accounts } from './accounts/meter.ts'
import { fixedPriceBook } from './accounts/price.ts'
import { AccountStore, type KeyLimits } from './accounts/store.ts'
import { testMiner } from './fixtures.ts'
import { MinerPool } from './pool.ts'
import { type GatewayServer, startGatewayServer } from './server.ts'

// biome-ignore lint/suspicious/noExplicitAny: response bodies are checked field by field
const json = (res: Response): Promise<any> => res.json()

const MODEL = 'verity-tiny-random'
// 1 micro-unit per prompt token, 2 per completion token: a request's cost is p + 2c exactly
const PRICE = { promptPerMillion: 1_000_000n, completionPerMillion: 2_000_000n }
const OPEN: KeyLimits = { rpm: 0, tpm: 0, concurrency: 0 }

/** Holds every request until `open()`; counts the requests that reached it. */
class GatedMiner implements MinerClient {
  readonly hotkey
  started = 0
  open!: () => void
  private readonly gate = new Promise<void>((resolve) => {
    this.open = resolve
  })
  constructor(private readonly inner: MinerClient) {
    this.hotkey = inner.hotkey
  }
  async *infer(request: InferenceRequest, options: { signal?: AbortSignal } = {}) {
    this.started++
    await this.gate
    yield* this.inner.infer(request, options)
  }
}

/** Sends each event `delayMs` after the previous one (a slow miner, for streams cut short). */
class SlowMiner implements MinerClient {
  readonly hotkey
  constructor(
    private readonly inner: MinerClient,
    private readonly delayMs: number,
  ) {
    this.hotkey = inner.hotkey
  }
  async *infer(
    request: InferenceRequest,
    options: { signal?: AbortSignal } = {},
  ): AsyncGenerator<InferenceEvent> {
    for await (const e of this.inner.infer(request, options)) {
      await new Promise((r) => setTimeout(r, this.delayMs))
      options.signal?.throwIfAborted()
      yield e
    }
  }
}

let cleanups: (() => Promise<void> | void)[] = []
afterEach(async () => {
  for (const c of cleanups.reverse()) await c()
  cleanups = []
})

async function setup(miner: MinerClient = testMiner(0)) {
  const dir = mkdtempSync(join(tmpdir(), 'verity-gw-accounts-'))
  const store = new AccountStore(join(dir, 'gateway.sqlite'))
  // a second handle on the file, as `verity gateway keys` opens it while the gateway runs
  const cli = new AccountStore(join(dir, 'gateway.sqlite'))
  const accounts = new Accounts({ store, prices: fixedPriceBook(PRICE) })
  const pool = new MinerPool(testMiner(0).describe(), { miners: [miner] })
  const server: GatewayServer = startGatewayServer({
    port: 0,
    host: '127.0.0.1',
    pools: [pool],
    accounts,
  })
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }))
  cleanups.push(() => {
    store.close()
    cli.close()
  })
  cleanups.push(() => server.stop())
  await server.start()
  const post = (path: string, body: unknown, key?: string, extra: Record<string, string> = {}) =>
    fetch(`${server.url}${path}`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        ...(key === undefined ? {} : { authorization: `Bearer ${key}` }),
        ...extra,
      },
      body: JSON.stringify(body),
    })
  const chat = (key: string | undefined, extra: Record<string, unknown> = {}) =>
    post(
      '/v1/chat/completions',
      {
        model: MODEL,
        messages: [{ role: 'user', content: 'Say hello.' }],
        max_tokens: 8,
        seed: 7,
        ...extra,
      },
      key,
    )
  const usage = async (key: string) =>
    json(await fetch(`${server.url}/v1/usage`, { headers: { authorization: `Bearer ${key}` } }))
  return { server, store, cli, accounts, post, chat, usage }
}

async function expectError(res: Response, status: number, code: string) {
  const body = await json(res)
  expect({ status: res.status, code: body.error?.code }).toEqual({ status, code })
  expect(Object.keys(body.error).sort()).toEqual(['code', 'message', 'param', 'type'])
  return body.error as { message: string; type: string }
}

async function waitFor<T>(fn: () => T | undefined, what: string, ms = 10_000): Promise<T> {
  const end = Date.now() + ms
  for (;;) {
    const v = fn()
    if (v !== undefined) return v
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 10))
  }
}

describe('gateway accounts over HTTP', () => {
  it('401 for a missing, unknown, malformed or revoked key; revoke counts at once', async () => {
    const { cli, chat } = await setup()
    const { secret } = cli.create({ credit: 1_000_000n, limits: OPEN })
    expect((await chat(secret)).status).toBe(200)
    await expectError(await chat(undefined), 401, 'invalid_api_key')
    for (const bad of [
      `${secret}x`,
      secret.slice(0, -1),
      'vty-',
      'x'.repeat(10_000),
      `${secret} extra`,
    ])
      await expectError(await chat(bad), 401, 'invalid_api_key')
    // the digest of a key is not a key
    await expectError(await chat(cli.list()[0]!.hash), 401, 'invalid_api_key')
    cli.revoke(cli.list()[0]!.id)
    const e = await expectError(await chat(secret), 401, 'invalid_api_key')
    expect(e.message).toMatch(/revoked/)
  })

  it('debits exactly p + 2c per request; /v1/usage shows the caller its own key only', async () => {
    const { cli, store, chat, usage, server } = await setup()
    const a = cli.create({ name: 'a', credit: 1_000_000n, limits: OPEN })
    const b = cli.create({ name: 'b', credit: 7_000_000n, limits: OPEN })
    const body = await json(await chat(a.secret))
    const { prompt_tokens: p, completion_tokens: c } = body.usage
    expect(p).toBeGreaterThan(0)
    expect(c).toBeGreaterThan(0)
    await chat(a.secret, { stream: true }).then((r) => r.text())
    const u = await usage(a.secret)
    expect(u.key).toMatchObject({ id: a.account.id, name: 'a' })
    expect(u.totals).toEqual({
      requests: 2,
      prompt_tokens: 2 * p,
      completion_tokens: 2 * c,
      cost: String(2 * (p + 2 * c)),
    })
    expect(u.recent.map((r: { cost: string }) => r.cost)).toEqual([
      String(p + 2 * c),
      String(p + 2 * c),
    ])
    expect(u.balance).toBe(String(1_000_000 - 2 * (p + 2 * c)))
    expect(u.held).toBe('0')
    expect(store.get(a.account.id).balance).toBe(1_000_000n - BigInt(2 * (p + 2 * c)))
    expect((await usage(b.secret)).totals.requests).toBe(0)
    expect((await usage(b.secret)).balance).toBe('7000000')
    // ?limit bounds the recent list; anything but a small integer is a 400
    const one = await fetch(`${server.url}/v1/usage?limit=1`, {
      headers: { authorization: `Bearer ${a.secret}` },
    })
    expect((await json(one)).recent).toHaveLength(1)
    for (const bad of ['-1', 'abc', '1e3', '10000'])
      await expectError(
        await fetch(`${server.url}/v1/usage?limit=${bad}`, {
          headers: { authorization: `Bearer ${a.secret}` },
        }),
        400,
        null as never,
      )
    await expectError(await fetch(`${server.url}/v1/usage`), 401, 'invalid_api_key')
    const models = await json(
      await fetch(`${server.url}/v1/models`, { headers: { authorization: `Bearer ${a.secret}` } }),
    )
    expect(models.data[0].pricing).toEqual({
      prompt: '1.000000',
      completion: '2.000000',
      unit: 'per_million_tokens',
    })
  })

  it('402 insufficient_quota when the credit cannot cover prompt + max_tokens; a top-up lets it through', async () => {
    const { cli, chat, usage } = await setup()
    const { secret, account } = cli.create({ credit: 10n, limits: OPEN })
    const e = await expectError(await chat(secret, { max_tokens: 8 }), 402, 'insufficient_quota')
    expect(e.type).toBe('insufficient_quota')
    expect(e.message).toMatch(
      /Insufficient credit: this request may cost 0\.0000\d\d .* the key has 0\.000010 left/,
    )
    // a refusal holds nothing and records nothing
    expect((await usage(secret)).totals.requests).toBe(0)
    expect(cli.get(account.id)).toMatchObject({ balance: 10n, held: 0n })
    cli.topup(account.id, 1000n)
    expect((await chat(secret, { max_tokens: 8 })).status).toBe(200)
  })

  it('N concurrent requests with credit for exactly k: k succeed, the rest 402, never below zero', async () => {
    // the prompt's size, from another gateway on the same model
    const probe = await setup()
    const key = probe.cli.create({ credit: 1_000_000n, limits: OPEN }).secret
    const p = (await json(await probe.chat(key, { max_tokens: 6 }))).usage.prompt_tokens as number
    const reservation = BigInt(p + 2 * 6)

    const gated = new GatedMiner(testMiner(0))
    const { cli, store, chat } = await setup(gated)
    const k = 3
    const n = 8
    const { secret, account } = cli.create({ credit: reservation * BigInt(k), limits: OPEN })
    const pending = Array.from({ length: n }, () => chat(secret, { max_tokens: 6 }))
    // every request is admitted or refused before any answers
    await waitFor(() => (gated.started === k ? true : undefined), `${k} requests at the miner`)
    await new Promise((r) => setTimeout(r, 100))
    expect(store.get(account.id)).toMatchObject({ balance: 0n, held: reservation * BigInt(k) })
    gated.open()
    const statuses = (await Promise.all(pending)).map((r) => r.status).sort()
    expect(statuses).toEqual([...Array(k).fill(200), ...Array(n - k).fill(402)])
    expect(gated.started).toBe(k)
    const u = store.usage(account.id)
    expect(u.totals.requests).toBe(k)
    expect(u.account.held).toBe(0n)
    expect(u.account.balance).toBe(reservation * BigInt(k) - u.totals.cost)
    expect(u.account.balance >= 0n).toBe(true)
  })

  it('concurrency limit under truly concurrent requests: 429 with Retry-After and X-RateLimit-*', async () => {
    const gated = new GatedMiner(testMiner(0))
    const { cli, chat } = await setup(gated)
    const { secret } = cli.create({
      credit: 1_000_000n,
      limits: { rpm: 0, tpm: 0, concurrency: 2 },
    })
    const done: number[] = []
    const pending = Array.from({ length: 5 }, () =>
      chat(secret).then(async (r) => {
        done.push(r.status)
        if (r.status === 429) {
          expect(r.headers.get('retry-after')).toBe('1')
          expect(r.headers.get('x-ratelimit-limit')).toBe('2')
          expect(r.headers.get('x-ratelimit-remaining')).toBe('0')
          expect(r.headers.get('x-ratelimit-reset')).toBe('1')
          expect((await json(r)).error.message).toMatch(/Too many concurrent requests: 2/)
        } else await r.text()
        return r.status
      }),
    )
    await waitFor(() => (done.length === 3 ? true : undefined), 'three refusals')
    expect(done).toEqual([429, 429, 429])
    expect(gated.started).toBe(2)
    gated.open()
    expect((await Promise.all(pending)).sort()).toEqual([200, 200, 429, 429, 429])
    // slots are free again
    expect((await chat(secret)).status).toBe(200)
  })

  it('requests/min per key: a made-up bearer gets a 401, never a fresh bucket', async () => {
    const { cli, chat, server } = await setup()
    const { secret } = cli.create({
      credit: 1_000_000n,
      limits: { rpm: 2, tpm: 0, concurrency: 0 },
    })
    const first = await chat(secret)
    expect(first.headers.get('x-ratelimit-limit')).toBe('2')
    expect(first.headers.get('x-ratelimit-remaining')).toBe('1')
    expect((await chat(secret)).headers.get('x-ratelimit-remaining')).toBe('0')
    const limited = await chat(secret)
    expect(limited.headers.get('retry-after')).toMatch(/^(59|60)$/)
    expect(limited.headers.get('x-ratelimit-remaining')).toBe('0')
    await expectError(limited, 429, 'rate_limit_exceeded')
    for (let i = 0; i < 5; i++)
      await expectError(await chat(`vty-random${i}`), 401, 'invalid_api_key')
    // the same key written differently (scheme case, spacing) is the same bucket
    const res = await fetch(`${server.url}/v1/models`, {
      headers: { authorization: `bearer   ${secret}` },
    })
    await expectError(res, 429, 'rate_limit_exceeded')
  })

  it('tokens/min counts prompt + max_tokens at admission', async () => {
    const { cli, chat } = await setup()
    const probe = cli.create({ credit: 1_000_000n, limits: OPEN })
    const p = (await json(await chat(probe.secret, { max_tokens: 4 }))).usage
      .prompt_tokens as number
    const { secret } = cli.create({
      credit: 1_000_000n,
      limits: { rpm: 0, tpm: p + 40, concurrency: 0 },
    })
    // p + 32 fits; the next request's p + 32 does not while the first is in the window
    expect((await chat(secret, { max_tokens: 32 })).status).toBe(200)
    const limited = await chat(secret, { max_tokens: 32 })
    expect(limited.headers.get('x-ratelimit-limit')).toBe(String(p + 40))
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(50)
    expect((await expectError(limited, 429, 'rate_limit_exceeded')).message).toMatch(/tokens/)
    // larger than the whole budget: said so
    const huge = await chat(secret, { max_tokens: p + 41 })
    expect((await expectError(huge, 429, 'rate_limit_exceeded')).message).toMatch(
      /lower max_tokens/,
    )
  })

  it('a stream the client closes is charged the prompt and the tokens it produced', async () => {
    const { cli, store, chat, server } = await setup(new SlowMiner(testMiner(0), 40))
    const full = cli.create({ credit: 1_000_000n, limits: OPEN })
    const maxTokens = 40
    const whole = await json(await chat(full.secret, { max_tokens: maxTokens, seed: 3 }))
    const { prompt_tokens: p, completion_tokens: all } = whole.usage
    expect(all).toBeGreaterThan(12)

    const { secret, account } = cli.create({ credit: 1_000_000n, limits: OPEN })
    const controller = new AbortController()
    const res = await fetch(`${server.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${secret}` },
      body: JSON.stringify({
        model: MODEL,
        messages: [{ role: 'user', content: 'Say hello.' }],
        max_tokens: maxTokens,
        seed: 3,
        stream: true,
      }),
      signal: controller.signal,
    })
    const reader = res.body!.getReader()
    let text = ''
    while ((text.match(/"content":"/g) ?? []).length < 5)
      text += new TextDecoder().decode((await reader.read()).value)
    controller.abort()
    const record = await waitFor(() => store.usage(account.id).recent[0], 'the settlement')
    expect(record.outcome).toBe('client_closed')
    expect(record.completionTokens).toBeGreaterThanOrEqual(3)
    expect(record.completionTokens).toBeLessThan(all)
    expect(record.cost).toBe(BigInt(p + 2 * record.completionTokens))
    expect(store.get(account.id)).toMatchObject({ held: 0n, balance: 1_000_000n - record.cost })
  })

  it('the openai client gets answers until the credit is out, then an APIError with status 402', async () => {
    const { cli, server, store } = await setup()
    const { secret, account } = cli.create({ credit: 150n, limits: OPEN })
    const client = new OpenAI({ baseURL: `${server.url}/v1`, apiKey: secret, maxRetries: 0 })
    let answers = 0
    let error: unknown
    for (let i = 0; i < 20 && !error; i++) {
      try {
        const r = await client.chat.completions.create({
          model: MODEL,
          messages: [{ role: 'user', content: 'Hi' }],
          max_tokens: 8,
          seed: i,
        })
        expect(typeof r.choices[0]!.message.content).toBe('string')
        answers++
      } catch (e) {
        error = e
      }
    }
    expect(answers).toBeGreaterThan(0)
    expect(error).toBeInstanceOf(OpenAI.APIError)
    expect((error as InstanceType<typeof OpenAI.APIError>).status).toBe(402)
    expect((error as InstanceType<typeof OpenAI.APIError>).code).toBe('insufficient_quota')
    const u = store.usage(account.id)
    expect(u.totals.requests).toBe(answers)
    expect(u.account.balance).toBe(150n - u.totals.cost)
  })

  it('a failure before any token is free; a 401 or 402 is never charged nor counted', async () => {
    const failing: MinerClient = {
      hotkey: testMiner(1).hotkey,
      // biome-ignore lint/correctness/useYield: fails before its first event
      async *infer() {
        throw new Error('down')
      },
    }
    const { cli, chat, store } = await setup(failing)
    const { secret, account } = cli.create({ credit: 1_000n, limits: OPEN })
    expect((await chat(secret)).status).toBe(502)
    const u = store.usage(account.id)
    expect(u.recent.map((r) => [r.outcome, r.cost])).toEqual([['failed', 0n]])
    expect(u.account).toMatchObject({ balance: 1_000n, held: 0n })
  })
})
