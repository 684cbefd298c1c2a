import OpenAI from 'openai'
import { afterEach, describe, expect, it } from 'vitest'
import { verifyReceipt } from '../verify/receipt.ts'
import { reexecuteReceipt } from '../verify/reexecute.ts'
import { FlakyMiner, HangingMiner, testMiner, testModel } from './fixtures.ts'
import { MinerPool } from './pool.ts'
import { decodeReceiptHeader, RECEIPT_HEADER, type VerityField } from './respond.ts'
import { type GatewayServer, startGatewayServer } from './server.ts'
import type { GatewayOptions } from './state.ts'

// biome-ignore lint/suspicious/noExplicitAny: response bodies are checked field by field
const json = (res: Response): Promise<any> => res.json()

const MODEL = 'verity-tiny-random'
let servers: GatewayServer[] = []

afterEach(async () => {
  await Promise.all(servers.map((s) => s.stop()))
  servers = []
})

async function serve(miners: unknown[], options: Partial<GatewayOptions> = {}) {
  const pool = new MinerPool(testMiner(0).describe(), { miners: miners as never })
  const server = startGatewayServer({ port: 0, host: '127.0.0.1', pools: [pool], ...options })
  servers.push(server)
  await server.start()
  const client = new OpenAI({
    baseURL: `${server.url}/v1`,
    apiKey: 'unused',
    maxRetries: 0,
    timeout: 20_000,
  })
  return { server, client, pool }
}

type WithVerity = { verity: VerityField }

describe('end to end over HTTP with the openai client', () => {
  it('chat completions, streamed and not: same seed, same text; the receipt verifies and re-executes', async () => {
    const { client, server } = await serve([testMiner(0)])
    expect(server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/)
    const params = {
      model: MODEL,
      messages: [{ role: 'user' as const, content: 'Tell me a story.' }],
      max_tokens: 16,
      seed: 42,
    }
    const { data: completion, response } = await client.chat.completions
      .create(params)
      .withResponse()
    const text = completion.choices[0]!.message.content
    expect(typeof text).toBe('string')
    const { verity } = completion as unknown as WithVerity
    expect(decodeReceiptHeader(response.headers.get(RECEIPT_HEADER)!)).toEqual(verity.receipt)
    await expect(verifyReceipt(verity.receipt, { request: verity.request })).resolves.toBe(true)
    const model = testModel()
    const re = reexecuteReceipt(model, testMiner(0).tokenizer, verity.request, verity.receipt)
    expect(re.mismatches).toEqual([])
    expect(re.ok).toBe(true)

    const stream = await client.chat.completions.create({
      ...params,
      stream: true,
      stream_options: { include_usage: true },
    })
    let streamed = ''
    let last: unknown
    for await (const chunk of stream) {
      streamed += chunk.choices[0]?.delta?.content ?? ''
      last = chunk
    }
    expect(streamed).toBe(text)
    const final = last as { usage: { completion_tokens: number } } & WithVerity
    expect(final.usage.completion_tokens).toBe(completion.usage!.completion_tokens)
    expect(final.verity.receipt.outputHash).toBe(verity.receipt.outputHash)
    await expect(
      verifyReceipt(final.verity.receipt, { request: final.verity.request }),
    ).resolves.toBe(true)
  })

  it('legacy completions and models through the client; errors surface as openai APIErrors', async () => {
    const { client } = await serve([testMiner(0)])
    const models = await client.models.list()
    expect(models.data.map((m) => m.id)).toEqual([MODEL])
    const c = await client.completions.create({
      model: MODEL,
      prompt: 'In the beginning',
      max_tokens: 5,
      seed: 1,
    })
    expect(c.object).toBe('text_completion')
    const notFound = await client.chat.completions
      .create({ model: 'nope', messages: [{ role: 'user', content: 'x' }] })
      .catch((e: unknown) => e)
    expect(notFound).toBeInstanceOf(OpenAI.NotFoundError)
    expect((notFound as InstanceType<typeof OpenAI.APIError>).code).toBe('model_not_found')
    const bad = await client.chat.completions
      .create({ model: MODEL, messages: [{ role: 'user', content: 'x' }], n: 9 })
      .catch((e: unknown) => e)
    expect(bad).toBeInstanceOf(OpenAI.BadRequestError)
    expect((bad as InstanceType<typeof OpenAI.APIError>).param).toBe('n')
    // n, logprobs and logit_bias as the client sends them.
    const many = await client.chat.completions.create({
      model: MODEL,
      messages: [{ role: 'user', content: 'x' }],
      max_tokens: 4,
      seed: 2,
      n: 2,
      logprobs: true,
      top_logprobs: 2,
      logit_bias: { '3': -100 },
      presence_penalty: 0.5,
    })
    expect(many.choices.map((c) => c.index)).toEqual([0, 1])
    for (const c of many.choices) {
      expect(c.logprobs?.content?.length).toBeGreaterThan(0)
      expect(c.logprobs?.content?.[0]?.top_logprobs).toHaveLength(2)
    }
  })

  it('a miner that throws mid-stream: failover succeeds and the stream matches a clean run', async () => {
    const { client: clean } = await serve([testMiner(0)])
    const params = {
      model: MODEL,
      messages: [{ role: 'user' as const, content: 'Go on.' }],
      max_tokens: 12,
      seed: 9,
    }
    const reference = (await clean.chat.completions.create(params)).choices[0]!.message.content
    const flaky = new FlakyMiner(testMiner(1), 5)
    const hanging = new HangingMiner('0x000000000000000000000000000000000000dEaD')
    const { client, pool } = await serve([flaky, hanging, testMiner(2)], { idleTimeoutMs: 300 })
    pool.setScore(flaky.hotkey, 10)
    pool.setScore(hanging.hotkey, 5)
    const stream = await client.chat.completions.create({ ...params, stream: true })
    let text = ''
    for await (const chunk of stream) text += chunk.choices[0]?.delta?.content ?? ''
    expect(text).toBe(reference)
    expect(flaky.calls).toBe(1)
    expect(hanging.aborted).toBe(1)
  })

  it('every miner throwing mid-stream: a clean APIError, nothing hangs, the server keeps serving', async () => {
    const { client } = await serve([
      new FlakyMiner(testMiner(1), 2),
      new FlakyMiner(testMiner(2), 0),
    ])
    const stream = await client.chat.completions.create({
      model: MODEL,
      messages: [{ role: 'user', content: 'x' }],
      max_tokens: 8,
      stream: true,
    })
    const error = await (async () => {
      for await (const _ of stream) {
      }
    })().catch((e: unknown) => e)
    expect(error).toBeInstanceOf(OpenAI.APIError)
    expect(String((error as Error).message)).toMatch(/miner/)
    const notStreamed = await client.chat.completions
      .create({ model: MODEL, messages: [{ role: 'user', content: 'x' }], max_tokens: 8 })
      .catch((e: unknown) => e)
    expect(notStreamed).toBeInstanceOf(OpenAI.InternalServerError)
    expect((notStreamed as InstanceType<typeof OpenAI.APIError>).status).toBe(502)
    expect((await client.models.list()).data).toHaveLength(1)
  })

  it('API keys over HTTP: the client key must match', async () => {
    const { server } = await serve([testMiner(0)], { apiKeys: ['sk-verity'] })
    const wrong = new OpenAI({ baseURL: `${server.url}/v1`, apiKey: 'sk-wrong', maxRetries: 0 })
    await expect(wrong.models.list()).rejects.toBeInstanceOf(OpenAI.AuthenticationError)
    const right = new OpenAI({ baseURL: `${server.url}/v1`, apiKey: 'sk-verity', maxRetries: 0 })
    expect((await right.models.list()).data[0]!.id).toBe(MODEL)
  })

  it('a raw malformed request over HTTP gets a 400 and the server keeps serving', async () => {
    const { server } = await serve([testMiner(0)])
    const res = await fetch(`${server.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"model":',
    })
    expect(res.status).toBe(400)
    expect((await json(res)).error.type).toBe('invalid_request_error')
    expect((await fetch(`${server.url}/health`)).status).toBe(200)
  })
})
