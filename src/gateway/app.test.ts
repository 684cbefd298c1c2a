import { describe, expect, it } from 'vitest'
import type { MinerClient } from '../types/inference.ts'
import { choiceSeed } from '../verify/choice.ts'
import { verifyReceipt } from '../verify/receipt.ts'
import { createGateway } from './app.ts'
import { FlakyMiner, HangingMiner, LyingMiner, testMiner } from './fixtures.ts'
import { MinerPool } from './pool.ts'
import { decodeReceiptHeader, RECEIPT_HEADER, type VerityField } from './respond.ts'
import type { GatewayOptions } from './state.ts'

// biome-ignore lint/suspicious/noExplicitAny: response bodies are checked field by field
const json = (res: Response): Promise<any> => res.json()

const MODEL = 'verity-tiny-random'
const miner = testMiner(0)

function gateway(options: Partial<GatewayOptions> = {}, miners: MinerClient[] = [miner]) {
  return createGateway({ pools: [new MinerPool(miner.describe(), { miners })], ...options })
}

function post(app: ReturnType<typeof gateway>, path: string, body: unknown, headers = {}) {
  return app.request(path, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  })
}

const chat = (extra: Record<string, unknown> = {}) => ({
  model: MODEL,
  messages: [{ role: 'user', content: 'Say hello.' }],
  max_tokens: 8,
  seed: 7,
  ...extra,
})

type Chunk = {
  choices: {
    delta?: { content?: string; role?: string }
    text?: string
    index?: number
    logprobs?: unknown
    finish_reason: string | null
  }[]
  usage?: unknown
  verity?: VerityField
}

async function sse(res: Response): Promise<{ chunks: Chunk[]; done: boolean; errors: unknown[] }> {
  const text = await res.text()
  const chunks: Chunk[] = []
  const errors: unknown[] = []
  let done = false
  for (const block of text.split('\n\n')) {
    if (!block.startsWith('data: ')) continue
    const data = block.slice(6)
    if (data === '[DONE]') done = true
    else {
      const j = JSON.parse(data)
      if (j.error) errors.push(j.error)
      else chunks.push(j)
    }
  }
  return { chunks, done, errors }
}

async function expectError(res: Response, status: number, type: string, code?: string | null) {
  expect(res.status).toBe(status)
  const body = (await json(res)) as { error: Record<string, unknown> }
  expect(Object.keys(body.error).sort()).toEqual(['code', 'message', 'param', 'type'])
  expect(body.error.type).toBe(type)
  if (code !== undefined) expect(body.error.code).toBe(code)
  expect(JSON.stringify(body)).not.toMatch(/at .*\.ts:\d+/)
  return body.error
}

describe('POST /v1/chat/completions', () => {
  it('answers in the OpenAI shape with a verifying receipt in the body and header', async () => {
    const res = await post(gateway(), '/v1/chat/completions', chat())
    expect(res.status).toBe(200)
    const body = await json(res)
    expect(body.object).toBe('chat.completion')
    expect(body.model).toBe(MODEL)
    expect(body.choices).toHaveLength(1)
    expect(body.choices[0].message.role).toBe('assistant')
    expect(typeof body.choices[0].message.content).toBe('string')
    expect(['stop', 'length']).toContain(body.choices[0].finish_reason)
    expect(body.usage.completion_tokens).toBeLessThanOrEqual(8)
    expect(body.usage.total_tokens).toBe(body.usage.prompt_tokens + body.usage.completion_tokens)
    const verity = body.verity as VerityField
    expect(verity.request.seed).toBe(7)
    await expect(verifyReceipt(verity.receipt, { request: verity.request })).resolves.toBe(true)
    expect(decodeReceiptHeader(res.headers.get(RECEIPT_HEADER)!)).toEqual(verity.receipt)
    expect(res.headers.get('x-request-id')).toMatch(/^req_/)
  })

  it('chooses and returns a seed when none is given; replaying it gives the same text', async () => {
    const app = gateway()
    const a = await json(await post(app, '/v1/chat/completions', chat({ seed: undefined })))
    const seed = a.verity.request.seed
    expect(Number.isSafeInteger(seed)).toBe(true)
    const b = await json(await post(app, '/v1/chat/completions', chat({ seed })))
    expect(b.choices[0].message.content).toBe(a.choices[0].message.content)
    expect(b.verity.receipt.outputHash).toBe(a.verity.receipt.outputHash)
  })

  it('streams chunks whose text equals the non-streamed answer; include_usage adds a usage chunk with the receipt', async () => {
    const app = gateway()
    const plain = await json(await post(app, '/v1/chat/completions', chat({ max_tokens: 16 })))
    const res = await post(
      app,
      '/v1/chat/completions',
      chat({ max_tokens: 16, stream: true, stream_options: { include_usage: true } }),
    )
    expect(res.status).toBe(200)
    expect(res.headers.get('content-type')).toMatch(/text\/event-stream/)
    const { chunks, done, errors } = await sse(res)
    expect(done).toBe(true)
    expect(errors).toEqual([])
    expect(chunks[0]!.choices[0]!.delta).toEqual({ role: 'assistant', content: '' })
    const text = chunks.map((c) => c.choices[0]?.delta?.content ?? '').join('')
    expect(text).toBe(plain.choices[0].message.content)
    const last = chunks.at(-1)!
    expect(last.choices).toEqual([])
    expect(last.usage).toEqual(plain.usage)
    expect(last.verity!.receipt.outputHash).toBe(plain.verity.receipt.outputHash)
    expect(chunks.at(-2)!.choices[0]!.finish_reason).toBe(plain.choices[0].finish_reason)
    for (const c of chunks.slice(0, -1)) expect(c.usage).toBeNull()
  })

  it('streams without include_usage: the receipt rides on the finish chunk', async () => {
    const { chunks } = await sse(
      await post(gateway(), '/v1/chat/completions', chat({ stream: true })),
    )
    const last = chunks.at(-1)!
    expect(last.choices[0]!.finish_reason).not.toBeNull()
    expect(last.verity?.receipt.signature).toMatch(/^0x/)
    expect('usage' in last).toBe(false)
  })

  it('cuts the answer at a stop sequence, streamed and not, with finish_reason stop', async () => {
    const app = gateway()
    const free = await json(await post(app, '/v1/chat/completions', chat({ max_tokens: 24 })))
    const full: string = free.choices[0].message.content
    const stop = full.slice(4, 6)
    expect(stop.length).toBe(2)
    const cut = full.indexOf(stop)
    const body = await json(
      await post(app, '/v1/chat/completions', chat({ max_tokens: 24, stop: [stop] })),
    )
    expect(body.choices[0].message.content).toBe(full.slice(0, cut))
    expect(body.choices[0].finish_reason).toBe('stop')
    expect(body.verity.request.stop).toEqual([stop])
    const { chunks } = await sse(
      await post(app, '/v1/chat/completions', chat({ max_tokens: 24, stop, stream: true })),
    )
    expect(chunks.map((c) => c.choices[0]?.delta?.content ?? '').join('')).toBe(full.slice(0, cut))
  })

  it('accepts text content parts, max_completion_tokens, temperature 0 and top_p', async () => {
    const res = await post(gateway(), '/v1/chat/completions', {
      model: MODEL,
      messages: [
        { role: 'system', content: 'Be brief.' },
        { role: 'user', content: [{ type: 'text', text: 'Hello' }] },
      ],
      max_completion_tokens: 3,
      temperature: 0,
      top_p: 0.5,
    })
    expect(res.status).toBe(200)
    const body = await json(res)
    expect(body.usage.completion_tokens).toBeLessThanOrEqual(3)
    expect(body.verity.request.params).toEqual({ temperatureMilli: 0, topK: 0, topPMilli: 500 })
  })
})

describe('n choices', () => {
  it('answers n choices, each with its own seed, receipt and index; usage is summed', async () => {
    const app = gateway()
    const res = await post(app, '/v1/chat/completions', chat({ n: 3, temperature: 1 }))
    expect(res.status).toBe(200)
    expect(res.headers.get(RECEIPT_HEADER)).toBeNull()
    const body = await json(res)
    expect(body.choices.map((c: { index: number }) => c.index)).toEqual([0, 1, 2])
    const fields = body.verity as VerityField[]
    expect(fields).toHaveLength(3)
    expect(fields.map((f) => f.request.seed)).toEqual([7, choiceSeed(7, 1), choiceSeed(7, 2)])
    const receipts = new Set(fields.map((f) => f.receipt.requestHash))
    expect(receipts.size).toBe(3)
    for (const [i, f] of fields.entries()) {
      await expect(
        verifyReceipt(f.receipt, { request: f.request, tokens: f.tokens }),
      ).resolves.toBe(true)
      // choice i's receipt is not choice j's
      const j = (i + 1) % 3
      await expect(verifyReceipt(f.receipt, { request: fields[j]!.request })).rejects.toThrow(
        /requestHash/,
      )
    }
    const total = fields.reduce((sum, f) => sum + f.tokens.length, 0)
    expect(body.usage.completion_tokens).toBe(total)
    expect(body.usage.prompt_tokens).toBe(fields[0]!.request.promptTokens.length)
    // choice 0 is the n = 1 answer
    const one = await json(await post(app, '/v1/chat/completions', chat({ temperature: 1 })))
    expect(one.verity.tokens).toEqual(fields[0]!.tokens)
    expect(one.choices[0].message.content).toBe(body.choices[0].message.content)
  })

  it('streams n choices interleaved by index; the text of each equals the non-streamed one', async () => {
    const app = gateway()
    const plain = await json(
      await post(app, '/v1/completions', {
        model: MODEL,
        prompt: 'Once',
        max_tokens: 6,
        seed: 3,
        n: 2,
      }),
    )
    const res = await post(app, '/v1/completions', {
      model: MODEL,
      prompt: 'Once',
      max_tokens: 6,
      seed: 3,
      n: 2,
      stream: true,
      stream_options: { include_usage: true },
    })
    const { chunks, done, errors } = await sse(res)
    expect(errors).toEqual([])
    expect(done).toBe(true)
    for (const i of [0, 1]) {
      const mine = chunks.flatMap((c) =>
        c.choices.filter((x) => (x as { index?: number }).index === i),
      )
      expect(mine.map((c) => c.text ?? '').join('')).toBe(plain.choices[i].text)
      expect(mine.at(-1)!.finish_reason).toBe(plain.choices[i].finish_reason)
      const final = chunks.find(
        (c) => (c.verity as { index?: number } | undefined)?.index === i && c.verity?.receipt,
      )
      // Another call (another nonce), the same request and tokens.
      expect(final?.verity?.receipt.requestHash).toBe(plain.verity[i].receipt.requestHash)
      expect(final?.verity?.tokens).toEqual(plain.verity[i].tokens)
    }
    const usage = chunks.at(-1)!.usage as { completion_tokens: number }
    expect(usage.completion_tokens).toBe(plain.usage.completion_tokens)
  })

  it('concurrent n-choice requests, streamed and not, each get their own deterministic choices', async () => {
    const app = gateway()
    const body = (seed: number, extra = {}) => chat({ n: 3, seed, temperature: 1, ...extra })
    const [a, b, c] = await Promise.all([
      Promise.resolve(post(app, '/v1/chat/completions', body(1))).then(json),
      Promise.resolve(post(app, '/v1/chat/completions', body(2))).then(json),
      Promise.resolve(post(app, '/v1/chat/completions', body(1, { stream: true }))).then(sse),
    ])
    const again = await json(await post(app, '/v1/chat/completions', body(1)))
    const tokens = (v: VerityField[]) => v.map((f) => f.tokens)
    expect(tokens(a.verity)).toEqual(tokens(again.verity))
    expect(tokens(b.verity)).not.toEqual(tokens(a.verity))
    for (const i of [0, 1, 2]) {
      const final = c.chunks.find(
        (k) => (k.verity as { index?: number } | undefined)?.index === i && k.verity?.receipt,
      )
      expect(final?.verity?.tokens).toEqual(a.verity[i].tokens)
    }
    expect(app.state.pools.get(MODEL)!.status()[0]!.inFlight).toBe(0)
  })

  it('a client closing an n-choice stream stops every choice and frees the miner', async () => {
    const app = gateway()
    const res = await post(
      app,
      '/v1/chat/completions',
      chat({ n: 4, stream: true, max_tokens: 64 }),
    )
    const reader = res.body!.getReader()
    await reader.read()
    await reader.cancel()
    const pool = app.state.pools.get(MODEL)!
    for (let i = 0; i < 100 && pool.status()[0]!.inFlight > 0; i++)
      await new Promise((r) => setTimeout(r, 10))
    expect(pool.status()[0]!.inFlight).toBe(0)
  })

  it('one choice failing before any token fails the whole request with an HTTP error', async () => {
    // A miner that refuses every choice but the first: the answer is not served half.
    const picky: MinerClient = {
      hotkey: miner.hotkey,
      infer: (request, options) =>
        request.seed === 7
          ? miner.infer(request, options)
          : new FlakyMiner(miner, 0).infer(request, options),
    }
    const app = gateway({}, [picky as typeof miner])
    const res = await post(app, '/v1/chat/completions', chat({ n: 2 }))
    expect(res.status).toBe(502)
    expect((await post(app, '/v1/chat/completions', chat({ n: 1 }))).status).toBe(200)
  })
})

describe('logprobs', () => {
  it('chat: one entry per token in the OpenAI shape, top alternatives sorted, exact Q16 values', async () => {
    const app = gateway()
    const res = await post(app, '/v1/chat/completions', chat({ logprobs: true, top_logprobs: 3 }))
    expect(res.status).toBe(200)
    const body = await json(res)
    const verity = body.verity as VerityField
    expect(verity.request.logprobs).toBe(3)
    await expect(verifyReceipt(verity.receipt, { request: verity.request })).resolves.toBe(true)
    const content = body.choices[0].logprobs.content as {
      token: string
      logprob: number
      bytes: number[]
      top_logprobs: { token: string; logprob: number; bytes: number[] }[]
    }[]
    expect(content).toHaveLength(verity.tokens.length)
    expect(body.choices[0].logprobs.refusal).toBeNull()
    for (const entry of content) {
      expect(entry.logprob).toBeLessThanOrEqual(0)
      expect(Number.isInteger(entry.logprob * 65536)).toBe(true)
      expect(entry.top_logprobs).toHaveLength(3)
      const lps = entry.top_logprobs.map((t) => t.logprob)
      expect([...lps].sort((a, b) => b - a)).toEqual(lps)
      expect(entry.logprob).toBeLessThanOrEqual(lps[0]!)
      expect(new TextDecoder().decode(new Uint8Array(entry.bytes))).toBe(entry.token)
    }
    // The same request without logprobs: the same tokens (logprobs do not change sampling).
    const plain = await json(await post(app, '/v1/chat/completions', chat()))
    expect(plain.choices[0].logprobs).toBeNull()
    expect(plain.verity.tokens).toEqual(verity.tokens)
    expect(plain.verity.receipt.requestHash).not.toBe(verity.receipt.requestHash)
  })

  it('completions: the legacy shape; streamed, the finish chunk carries them', async () => {
    const app = gateway()
    const req = { model: MODEL, prompt: 'Once', max_tokens: 5, seed: 2, logprobs: 2 }
    const body = await json(await post(app, '/v1/completions', req))
    const lp = body.choices[0].logprobs
    expect(lp.tokens).toHaveLength(body.verity.tokens.length)
    expect(lp.token_logprobs).toHaveLength(lp.tokens.length)
    expect(lp.text_offset[0]).toBe(0)
    for (const top of lp.top_logprobs) expect(Object.keys(top).length).toBeLessThanOrEqual(2)
    const { chunks } = await sse(await post(app, '/v1/completions', { ...req, stream: true }))
    const finish = chunks.find((c) => c.choices[0]?.finish_reason)!
    expect(finish.choices[0]!.logprobs).toEqual(lp)
    const error = await expectError(
      await post(app, '/v1/completions', { ...req, logprobs: 6 }),
      400,
      'invalid_request_error',
    )
    expect(error.param).toBe('logprobs')
  })
})

describe('logit_bias and penalties', () => {
  it('are applied by the miner and committed in the receipt; a ban holds', async () => {
    const app = gateway()
    const plain = await json(await post(app, '/v1/chat/completions', chat({ temperature: 0 })))
    const first = plain.verity.tokens[0] as number
    const res = await post(
      app,
      '/v1/chat/completions',
      chat({ temperature: 0, logit_bias: { [first]: -100 }, frequency_penalty: 1 }),
    )
    expect(res.status).toBe(200)
    const verity = (await json(res)).verity as VerityField
    expect(verity.tokens).not.toContain(first)
    expect(verity.request.params.logitBias).toEqual([[first, -100_000]])
    expect(verity.request.params.frequencyPenaltyMilli).toBe(1000)
    await expect(verifyReceipt(verity.receipt, { request: verity.request })).resolves.toBe(true)
    const other = {
      ...verity.request,
      params: { ...verity.request.params, logitBias: [[first, -99_000]] as [number, number][] },
    }
    await expect(verifyReceipt(verity.receipt, { request: other })).rejects.toThrow(/requestHash/)
  })
})

describe('errors', () => {
  const app = gateway()
  it('malformed JSON is a 400 and the gateway keeps serving', async () => {
    await expectError(
      await post(app, '/v1/chat/completions', '{"model": '),
      400,
      'invalid_request_error',
      'invalid_json',
    )
    await expectError(
      await post(app, '/v1/chat/completions', '[1,2]'),
      400,
      'invalid_request_error',
    )
    expect((await post(app, '/v1/chat/completions', chat())).status).toBe(200)
  })

  it.each([
    [{ messages: [{ role: 'user', content: 'x' }] }, 'model'],
    [{ model: MODEL }, 'messages'],
    [{ model: MODEL, messages: [] }, 'messages'],
    [{ model: MODEL, messages: [{ role: 'wizard', content: 'x' }] }, 'messages[0].role'],
    [{ model: MODEL, messages: [{ role: 'user' }] }, 'messages[0].content'],
    [
      chat({ messages: [{ role: 'user', content: [{ type: 'image_url', image_url: {} }] }] }),
      'messages[0].content[0]',
    ],
    [chat({ temperature: 3 }), 'temperature'],
    [chat({ temperature: 'hot' }), 'temperature'],
    [chat({ top_p: 1.5 }), 'top_p'],
    [chat({ seed: -1 }), 'seed'],
    [chat({ seed: 1.5 }), 'seed'],
    [chat({ max_tokens: 0 }), 'max_tokens'],
    [chat({ max_completion_tokens: -3 }), 'max_completion_tokens'],
    [chat({ stop: 5 }), 'stop'],
    [chat({ stop: ['a', 'b', 'c', 'd', 'e'] }), 'stop'],
    [chat({ n: 9 }), 'n'],
    [chat({ n: 0 }), 'n'],
    [chat({ n: 1.5 }), 'n'],
    [chat({ n: '2' }), 'n'],
    [chat({ stream: 'yes' }), 'stream'],
    [chat({ stream_options: { include_usage: true } }), 'stream_options'],
    [chat({ logprobs: 'yes' }), 'logprobs'],
    [chat({ logprobs: 1 }), 'logprobs'],
    [chat({ top_logprobs: 3 }), 'top_logprobs'],
    [chat({ logprobs: false, top_logprobs: 3 }), 'top_logprobs'],
    [chat({ logprobs: true, top_logprobs: 21 }), 'top_logprobs'],
    [chat({ logprobs: true, top_logprobs: -1 }), 'top_logprobs'],
    [chat({ logprobs: true, top_logprobs: 2.5 }), 'top_logprobs'],
    [chat({ logprobs: true, top_logprobs: 'NaN' }), 'top_logprobs'],
    [chat({ tools: [{ type: 'function', function: { name: 'f' } }] }), 'tools'],
    [chat({ response_format: { type: 'json_object' } }), 'messages'],
    [chat({ response_format: { type: 'yaml' } }), 'response_format.type'],
    [chat({ presence_penalty: 3 }), 'presence_penalty'],
    [chat({ logit_bias: { '999999': 5 } }), 'logit_bias'],
    [chat({ temprature: 0.5 }), 'temprature'],
    [chat({ function_call: 'auto' }), 'function_call'],
  ])('%j is a 400 naming %s', async (body, param) => {
    const error = await expectError(
      await post(app, '/v1/chat/completions', body),
      400,
      'invalid_request_error',
    )
    expect(error.param).toBe(param)
  })

  it('an unknown model is a 404 model_not_found', async () => {
    const error = await expectError(
      await post(app, '/v1/chat/completions', chat({ model: 'gpt-4o' })),
      404,
      'invalid_request_error',
      'model_not_found',
    )
    expect(error.param).toBe('model')
    await expectError(
      await app.request('/v1/models/gpt-4o'),
      404,
      'invalid_request_error',
      'model_not_found',
    )
  })

  it('a prompt longer than the context is a 400 context_length_exceeded', async () => {
    const long = 'the cat sat on the mat '.repeat(200)
    await expectError(
      await post(
        app,
        '/v1/chat/completions',
        chat({ messages: [{ role: 'user', content: long }] }),
      ),
      400,
      'invalid_request_error',
      'context_length_exceeded',
    )
    await expectError(
      await post(app, '/v1/chat/completions', chat({ max_tokens: 100_000 })),
      400,
      'invalid_request_error',
      'context_length_exceeded',
    )
  })

  it('a body over the limit is a 413', async () => {
    const small = gateway({ maxBodyBytes: 1000 })
    await expectError(
      await post(
        small,
        '/v1/chat/completions',
        chat({ messages: [{ role: 'user', content: 'x'.repeat(5000) }] }),
      ),
      413,
      'invalid_request_error',
      'request_too_large',
    )
    expect((await post(small, '/v1/chat/completions', chat())).status).toBe(200)
  })

  it('unknown routes are 404s in the OpenAI shape', async () => {
    await expectError(
      await app.request('/v1/embeddings', { method: 'POST' }),
      404,
      'invalid_request_error',
      'unknown_url',
    )
    await expectError(await app.request('/nope'), 404, 'invalid_request_error')
  })
})

describe('API keys and rate limit', () => {
  it('with keys on, a missing or wrong key is a 401; the right one passes; /health stays public', async () => {
    const app = gateway({ apiKeys: ['sk-good'] })
    await expectError(
      await post(app, '/v1/chat/completions', chat()),
      401,
      'invalid_request_error',
      'invalid_api_key',
    )
    await expectError(
      await post(app, '/v1/chat/completions', chat(), { authorization: 'Bearer sk-bad' }),
      401,
      'invalid_request_error',
      'invalid_api_key',
    )
    await expectError(await app.request('/v1/models'), 401, 'invalid_request_error')
    const ok = await post(app, '/v1/chat/completions', chat(), { authorization: 'Bearer sk-good' })
    expect(ok.status).toBe(200)
    expect((await app.request('/health')).status).toBe(200)
  })

  it('over the rate limit is a 429 with Retry-After', async () => {
    const app = gateway({ rateLimit: { requests: 2, windowMs: 60_000 } })
    expect((await app.request('/v1/models')).status).toBe(200)
    expect((await app.request('/v1/models')).status).toBe(200)
    const res = await app.request('/v1/models')
    expect(res.headers.get('retry-after')).toMatch(/^\d+$/)
    await expectError(res, 429, 'rate_limit_error', 'rate_limit_exceeded')
  })

  it('GET /v1/usage without accounts is a 501', async () => {
    await expectError(await gateway().request('/v1/usage'), 501, 'server_error', 'not_implemented')
  })

  it('a made-up bearer never buys a fresh rate-limit bucket', async () => {
    const bearer = (k: string) => ({ headers: { authorization: `Bearer ${k}` } })
    // keys off: a bearer proves nothing, so every caller shares one budget
    const open = gateway({ rateLimit: { requests: 2, windowMs: 60_000 } })
    expect((await open.request('/v1/models', bearer('a'))).status).toBe(200)
    expect((await open.request('/v1/models', bearer('b'))).status).toBe(200)
    for (const k of ['c', 'd', 'e'])
      expect((await open.request('/v1/models', bearer(k))).status).toBe(429)
    // keys on: a made-up key is a 401 before the limiter; the real key keeps its own budget
    const keyed = gateway({ apiKeys: ['good'], rateLimit: { requests: 2, windowMs: 60_000 } })
    for (const k of ['x', 'y', 'z'])
      expect((await keyed.request('/v1/models', bearer(k))).status).toBe(401)
    expect((await keyed.request('/v1/models', bearer('good'))).status).toBe(200)
    expect((await keyed.request('/v1/models', bearer('good'))).status).toBe(200)
    expect((await keyed.request('/v1/models', bearer('good'))).status).toBe(429)
  })
})

describe('failover', () => {
  it('a miner failing before any token: the next miner answers, with the same text', async () => {
    const reference = await json(await post(gateway(), '/v1/chat/completions', chat()))
    const flaky = new FlakyMiner(testMiner(1), 0)
    const app = gateway({}, [flaky, testMiner(2)] as never)
    app.state.pools.get(MODEL)!.setScore(flaky.hotkey, 10)
    const res = await post(app, '/v1/chat/completions', chat())
    expect(res.status).toBe(200)
    const body = await json(res)
    expect(flaky.calls).toBe(1)
    expect(body.choices[0].message.content).toBe(reference.choices[0].message.content)
    expect(body.verity.miner.hotkey).toBe(testMiner(2).hotkey)
    const metrics = await (await app.request('/metrics')).text()
    expect(metrics).toMatch(/verity_gateway_failovers_total\{model="verity-tiny-random"\} 1/)
  })

  it('a miner failing mid-stream: the stream continues from another miner with no duplicated text', async () => {
    const app0 = gateway()
    const reference = await json(await post(app0, '/v1/chat/completions', chat({ max_tokens: 12 })))
    const flaky = new FlakyMiner(testMiner(1), 4)
    const app = gateway({}, [flaky, testMiner(2)] as never)
    app.state.pools.get(MODEL)!.setScore(flaky.hotkey, 10)
    const res = await post(app, '/v1/chat/completions', chat({ max_tokens: 12, stream: true }))
    const { chunks, done, errors } = await sse(res)
    expect(errors).toEqual([])
    expect(done).toBe(true)
    expect(chunks.map((c) => c.choices[0]?.delta?.content ?? '').join('')).toBe(
      reference.choices[0].message.content,
    )
    const verity = chunks.at(-1)!.verity!
    await expect(verifyReceipt(verity.receipt, { request: verity.request })).resolves.toBe(true)
    expect(verity.miner.hotkey).toBe(testMiner(2).hotkey)
  })

  it('every miner failing: 502 before the stream starts, an error event after it started', async () => {
    const app = gateway({}, [
      new FlakyMiner(testMiner(1), 0),
      new FlakyMiner(testMiner(2), 0),
    ] as never)
    await expectError(
      await post(app, '/v1/chat/completions', chat()),
      502,
      'upstream_error',
      'miner_failed',
    )
    const mid = gateway({}, [new FlakyMiner(testMiner(1), 3)] as never)
    const res = await post(mid, '/v1/chat/completions', chat({ stream: true }))
    expect(res.status).toBe(200)
    const { done, errors } = await sse(res)
    expect(done).toBe(true)
    expect(errors).toHaveLength(1)
    expect(errors[0]).toMatchObject({ type: 'upstream_error', code: 'miner_failed' })
    // the gateway still serves
    expect((await mid.request('/v1/models')).status).toBe(200)
  })

  it('a silent miner is abandoned after the idle timeout and the request fails over', async () => {
    const hanging = new HangingMiner('0x000000000000000000000000000000000000dEaD')
    const app = gateway({ idleTimeoutMs: 200 }, [hanging, testMiner(2)] as never)
    app.state.pools.get(MODEL)!.setScore(hanging.hotkey, 10)
    const res = await post(app, '/v1/chat/completions', chat())
    expect(res.status).toBe(200)
    expect(hanging.aborted).toBe(1)
  })

  it('a miner whose tokens disagree after a mid-stream failover ends the stream with an error', async () => {
    const flaky = new FlakyMiner(testMiner(1), 3)
    const liar = new LyingMiner(testMiner(2), '0x000000000000000000000000000000000000bEEF')
    const app = gateway({}, [flaky, liar] as never)
    app.state.pools.get(MODEL)!.setScore(flaky.hotkey, 10)
    const { errors, done } = await sse(
      await post(app, '/v1/chat/completions', chat({ stream: true })),
    )
    expect(done).toBe(true)
    expect(errors[0]).toMatchObject({ type: 'upstream_error' })
  })

  it('no miner at all: 503 with Retry-After, and /health says unavailable', async () => {
    const app = gateway({}, [])
    const res = await post(app, '/v1/chat/completions', chat())
    expect(res.headers.get('retry-after')).toBe('1')
    await expectError(res, 503, 'service_unavailable_error', 'no_miner_available')
    const health = await app.request('/health')
    expect(health.status).toBe(503)
    expect((await json(health)).status).toBe('unavailable')
  })
})

describe('POST /v1/completions', () => {
  const app = gateway()
  const body = (extra: Record<string, unknown> = {}) => ({
    model: MODEL,
    prompt: 'Once upon a time',
    max_tokens: 6,
    seed: 3,
    ...extra,
  })
  it('continues a prompt in the text_completion shape, streamed the same', async () => {
    const res = await post(app, '/v1/completions', body())
    expect(res.status).toBe(200)
    const j = await json(res)
    expect(j.object).toBe('text_completion')
    expect(typeof j.choices[0].text).toBe('string')
    expect(j.verity.request.maxTokens).toBe(6)
    const { chunks, done } = await sse(await post(app, '/v1/completions', body({ stream: true })))
    expect(done).toBe(true)
    expect(chunks.map((c) => c.choices[0]?.text ?? '').join('')).toBe(j.choices[0].text)
    expect(chunks.at(-1)!.verity!.receipt.outputHash).toBe(j.verity.receipt.outputHash)
  })
  it('accepts token ids and defaults max_tokens to 16', async () => {
    const j = await json(
      await post(app, '/v1/completions', body({ prompt: [1, 300, 301], max_tokens: undefined })),
    )
    expect(j.verity.request.promptTokens).toEqual([1, 300, 301])
    expect(j.verity.request.maxTokens).toBe(16)
  })
  it('refuses bad prompts and unsupported options', async () => {
    await expectError(
      await post(app, '/v1/completions', body({ prompt: 5 })),
      400,
      'invalid_request_error',
    )
    await expectError(
      await post(app, '/v1/completions', body({ prompt: ['a', 'b'] })),
      400,
      'invalid_request_error',
    )
    await expectError(
      await post(app, '/v1/completions', body({ prompt: [1, 99999] })),
      400,
      'invalid_request_error',
    )
    await expectError(
      await post(app, '/v1/completions', body({ echo: true })),
      400,
      'invalid_request_error',
    )
    await expectError(
      await post(app, '/v1/completions', body({ suffix: 'x' })),
      400,
      'invalid_request_error',
    )
  })
})

describe('GET endpoints', () => {
  const app = gateway()
  it('/v1/models lists the served model', async () => {
    const j = await json(await app.request('/v1/models'))
    expect(j.object).toBe('list')
    expect(j.data[0]).toMatchObject({
      id: MODEL,
      object: 'model',
      owned_by: 'verity',
      max_model_len: 512,
    })
    const one = await json(await app.request(`/v1/models/${MODEL}`))
    expect(one.id).toBe(MODEL)
  })
  it('/health is ok with an available miner', async () => {
    const res = await app.request('/health')
    expect(res.status).toBe(200)
    expect(await json(res)).toEqual({
      status: 'ok',
      models: [{ id: MODEL, miners: 1, available: 1 }],
    })
  })
  it('/health reports the node around the gateway, and is 503 when the node is not ready', async () => {
    let ready = true
    const node = gateway({
      nodeStatus: async () => ({
        ready,
        role: 'gateway',
        uid: ready ? 2 : null,
        chain: { reachable: ready, head: ready ? 9 : null },
        peers: 3,
      }),
    })
    const ok = await node.request('/health')
    expect(ok.status).toBe(200)
    expect(await json(ok)).toEqual({
      status: 'ok',
      role: 'gateway',
      uid: 2,
      chain: { reachable: true, head: 9 },
      peers: 3,
      models: [{ id: MODEL, miners: 1, available: 1 }],
    })
    ready = false
    const down = await node.request('/health')
    expect(down.status).toBe(503)
    expect(await json(down)).toMatchObject({ status: 'unavailable', uid: null, peers: 3 })
    const post = await node.request('/metrics', { method: 'POST' })
    expect(post.status).toBe(405)
    expect(post.headers.get('allow')).toBe('GET, HEAD')
    expect((await node.request('/health', { method: 'DELETE' })).status).toBe(405)
  })
  it('/metrics is Prometheus text with requests, errors, tokens, latency and per-miner series', async () => {
    await post(app, '/v1/chat/completions', chat())
    await post(app, '/v1/chat/completions', '{')
    const res = await app.request('/metrics')
    expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0.0.4/)
    const text = await res.text()
    expect(text).toMatch(/# TYPE verity_gateway_requests_total counter/)
    expect(text).toMatch(
      /verity_gateway_requests_total\{endpoint="\/v1\/chat\/completions",method="POST",status="200"\} \d+/,
    )
    expect(text).toMatch(/verity_gateway_errors_total\{status="400",type="client"\} \d+/)
    expect(text).toMatch(/verity_gateway_completion_tokens_total\{model="verity-tiny-random"\} \d+/)
    expect(text).toMatch(
      /verity_gateway_request_duration_seconds_bucket\{endpoint="\/v1\/chat\/completions",le="\+Inf"\} \d+/,
    )
    expect(text).toMatch(
      new RegExp(
        `verity_gateway_miner_requests_total\\{miner="${miner.hotkey}",model="${MODEL}",outcome="ok"\\} \\d+`,
      ),
    )
    expect(text).toMatch(
      new RegExp(`verity_gateway_miner_available\\{miner="${miner.hotkey}",model="${MODEL}"\\} 1`),
    )
    for (const line of text.trim().split('\n'))
      expect(line).toMatch(/^(# (HELP|TYPE) \w+ .+|\w+(\{(\w+="[^"]*",?)*\})? -?[\d.e+-]+)$/)
  })
})

describe('routing preferences (provider)', () => {
  const VTY_PER_M = 1_000_000_000_000n // 1 VTY per million tokens, in wei per token
  const priced = () => {
    const [a, b, c] = [testMiner(1), testMiner(2), testMiner(3)]
    const pool = new MinerPool(miner.describe(), { miners: [a, b, c] })
    const hour = Math.floor(Date.now() / 1000) + 3600
    pool.setPrice(a.hotkey, {
      prompt: 3n * VTY_PER_M,
      completion: 3n * VTY_PER_M,
      validUntil: hour,
    })
    pool.setPrice(b.hotkey, { prompt: VTY_PER_M, completion: 2n * VTY_PER_M, validUntil: hour })
    pool.setPrice(c.hotkey, {
      prompt: 2n * VTY_PER_M,
      completion: 4n * VTY_PER_M,
      validUntil: hour,
    })
    return { app: createGateway({ pools: [pool] }), pool, a, b, c }
  }

  it('sort: price is served by the cheapest miner, every time', async () => {
    const { app, b } = priced()
    for (let i = 0; i < 3; i++) {
      const res = await post(app, '/v1/chat/completions', chat({ provider: { sort: 'price' } }))
      expect(res.status).toBe(200)
      expect(res.headers.get('x-verity-miner')).toBe(b.hotkey)
    }
  })

  it('max_price keeps dearer miners out, and names the model when none is left', async () => {
    const { app, b } = priced()
    const capped = await post(
      app,
      '/v1/chat/completions',
      chat({ provider: { max_price: { prompt: 1.5, completion: '2' } } }),
    )
    expect(capped.status).toBe(200)
    expect(capped.headers.get('x-verity-miner')).toBe(b.hotkey)
    const none = await post(
      app,
      '/v1/chat/completions',
      chat({ provider: { max_price: { completion: 1 } } }),
    )
    expect(none.status).toBe(503)
    expect((await json(none)).error.message).toMatch(MODEL)
  })

  it('allow_fallbacks: false fails with the first miner instead of moving on', async () => {
    for (const allow of [false, true]) {
      const flaky = new FlakyMiner(testMiner(1), 0)
      // the flaky miner is picked first (same score, added first)
      const app = gateway({}, [flaky, testMiner(2)])
      const res = await post(
        app,
        '/v1/chat/completions',
        chat({ provider: { allow_fallbacks: allow } }),
      )
      expect(flaky.calls).toBe(1)
      expect(res.status).toBe(allow ? 200 : 502)
    }
  })
})

describe('/v1/models miner prices', () => {
  it("lists the cheapest and dearest signed price of the model's miners", async () => {
    const [a, b] = [testMiner(1), testMiner(2)]
    const pool = new MinerPool(miner.describe(), { miners: [a, b, testMiner(3)] })
    const hour = Math.floor(Date.now() / 1000) + 3600
    pool.setPrice(a.hotkey, { prompt: 250_000_000_000n, completion: 10n ** 12n, validUntil: hour })
    pool.setPrice(b.hotkey, { prompt: 1n, completion: 3n * 10n ** 12n, validUntil: hour })
    const app = createGateway({ pools: [pool] })
    const models = await json(await app.request('/v1/models'))
    expect(models.data[0].verity.miner_prices).toEqual({
      unit: 'VTY per million tokens',
      miners: 3,
      priced: 2,
      prompt: { min: '0.000000000001', max: '0.25' },
      completion: { min: '1', max: '3' },
    })
  })
})
