import { describe, expect, it } from 'vitest'
import { InvalidRequestError } from '../errors/gateway.ts'
import { parseChatRequest, parseCompletionRequest } from './params.ts'

const chat = (extra: Record<string, unknown> = {}) => ({
  model: 'm',
  messages: [{ role: 'user', content: 'hi' }],
  ...extra,
})
const completion = (extra: Record<string, unknown> = {}) => ({ model: 'm', prompt: 'hi', ...extra })

/** The InvalidRequestError a parse throws (fails the test when it does not throw one). */
function refusal(parse: () => unknown): InvalidRequestError {
  try {
    parse()
  } catch (error) {
    expect(error).toBeInstanceOf(InvalidRequestError)
    return error as InvalidRequestError
  }
  throw new Error('expected an InvalidRequestError')
}

describe('unknown fields', () => {
  it.each([
    ['temprature', chat({ temprature: 0.5 })],
    ['function_call', chat({ function_call: 'auto' })],
    ['repetition_penalty', chat({ repetition_penalty: 1.1 })],
    ['prompt', chat({ prompt: 'x' })],
    [
      '__proto__',
      JSON.parse('{"model":"m","messages":[{"role":"user","content":"hi"}],"__proto__":{}}'),
    ],
  ])('chat: %s is a 400 naming it', (field, body) => {
    const e = refusal(() => parseChatRequest(body))
    expect(e.param).toBe(field)
    expect(e.status).toBe(400)
    expect(e.shortMessage).toContain(`'${field}'`)
  })

  it.each([
    ['messages', completion({ messages: [] })],
    ['max_completion_tokens', completion({ max_completion_tokens: 3 })],
    ['response_format', completion({ response_format: { type: 'text' } })],
  ])('completions: %s is a 400 naming it', (field, body) => {
    expect(refusal(() => parseCompletionRequest(body)).param).toBe(field)
  })

  it('a huge unknown key is named, cut short', () => {
    const key = 'k'.repeat(10_000)
    const e = refusal(() => parseChatRequest(chat({ [key]: 1 })))
    expect(e.shortMessage.length).toBeLessThan(300)
  })

  it('accepts the informational fields user, metadata and store, checking their types', () => {
    expect(parseChatRequest(chat({ user: 'u-1', metadata: { a: 'b' }, store: false })).model).toBe(
      'm',
    )
    expect(parseCompletionRequest(completion({ user: 'u-1' })).model).toBe('m')
    expect(refusal(() => parseChatRequest(chat({ user: 5 }))).param).toBe('user')
    expect(refusal(() => parseChatRequest(chat({ user: 'x'.repeat(513) }))).param).toBe('user')
    expect(refusal(() => parseChatRequest(chat({ store: 'yes' }))).param).toBe('store')
    expect(refusal(() => parseChatRequest(chat({ metadata: [] }))).param).toBe('metadata')
    expect(refusal(() => parseChatRequest(chat({ metadata: { a: 1 } }))).param).toBe('metadata')
    const many = Object.fromEntries(Array.from({ length: 17 }, (_, i) => [`k${i}`, 'v']))
    expect(refusal(() => parseChatRequest(chat({ metadata: many }))).param).toBe('metadata')
  })

  it('null for an optional known field means absent, as OpenAI treats it', () => {
    const input = parseChatRequest(chat({ temperature: null, stop: null, user: null }))
    expect(input.temperature).toBe(1)
    expect(input.stop).toEqual([])
  })
})

describe('logit_bias and penalties', () => {
  it('parses them', () => {
    const input = parseChatRequest(
      chat({ logit_bias: { '5': -100, '0': 2.5 }, presence_penalty: -2, frequency_penalty: 2 }),
    )
    expect(input.logitBias).toEqual({ 0: 2.5, 5: -100 })
    expect(input.presencePenalty).toBe(-2)
    expect(input.frequencyPenalty).toBe(2)
    expect(parseCompletionRequest(completion({ logit_bias: {} })).logitBias).toEqual({})
  })

  it.each([
    ['presence_penalty', { presence_penalty: 2.01 }],
    ['presence_penalty', { presence_penalty: -3 }],
    ['presence_penalty', { presence_penalty: '1' }],
    ['frequency_penalty', { frequency_penalty: true }],
    ['frequency_penalty', { frequency_penalty: [1] }],
    ['logit_bias', { logit_bias: [] }],
    ['logit_bias', { logit_bias: 'x' }],
    ['logit_bias', { logit_bias: { '5': 101 } }],
    ['logit_bias', { logit_bias: { '5': -100.5 } }],
    ['logit_bias', { logit_bias: { '5': '10' } }],
    ['logit_bias', { logit_bias: { '5': null } }],
    ['logit_bias', { logit_bias: { '-1': 1 } }],
    ['logit_bias', { logit_bias: { '05': 1 } }],
    ['logit_bias', { logit_bias: { '1.5': 1 } }],
    ['logit_bias', { logit_bias: { abc: 1 } }],
    ['logit_bias', { logit_bias: { '4294967296': 1 } }],
    ['logit_bias', { logit_bias: { '99999999999': 1 } }],
    [
      'logit_bias',
      { logit_bias: Object.fromEntries(Array.from({ length: 301 }, (_, i) => [String(i), 1])) },
    ],
  ])('%s: %j is a 400', (param, extra) => {
    expect(refusal(() => parseChatRequest(chat(extra))).param).toBe(param)
    expect(refusal(() => parseCompletionRequest(completion(extra))).param).toBe(param)
  })

  it('NaN and Infinity cannot arrive as JSON numbers; as strings they are refused', () => {
    for (const v of ['NaN', 'Infinity', '1e400'])
      expect(refusal(() => parseChatRequest(chat({ presence_penalty: v }))).param).toBe(
        'presence_penalty',
      )
    // 1e400 parses to Infinity
    const body = JSON.parse(
      '{"model":"m","messages":[{"role":"user","content":"x"}],"frequency_penalty":1e400}',
    )
    expect(refusal(() => parseChatRequest(body)).param).toBe('frequency_penalty')
  })

  it('a repeated key keeps its last value (JSON.parse), and exactly 300 entries pass', () => {
    const body = JSON.parse(
      '{"model":"m","messages":[{"role":"user","content":"x"}],"logit_bias":{"5":100,"5":-100}}',
    )
    expect(parseChatRequest(body).logitBias).toEqual({ 5: -100 })
    const full = Object.fromEntries(Array.from({ length: 300 }, (_, i) => [String(i), 1]))
    expect(Object.keys(parseChatRequest(chat({ logit_bias: full })).logitBias!)).toHaveLength(300)
  })
})

describe('stop', () => {
  it('takes a string or up to 4 strings; empty ones are dropped, duplicates merged', () => {
    expect(parseChatRequest(chat({ stop: '\n' })).stop).toEqual(['\n'])
    expect(parseChatRequest(chat({ stop: ['a', 'b', 'a', ''] })).stop).toEqual(['a', 'b'])
    expect(parseChatRequest(chat({ stop: [] })).stop).toEqual([])
    expect(parseCompletionRequest(completion({ stop: ['x', 'y', 'z', 'w'] })).stop).toHaveLength(4)
  })

  it.each([
    [{ stop: ['a', 'b', 'c', 'd', 'e'] }],
    [{ stop: ['', '', '', '', 'a'] }],
    [{ stop: Array.from({ length: 1_000_000 }, () => 'a') }],
    [{ stop: 5 }],
    [{ stop: [5] }],
    [{ stop: ['a', null] }],
    [{ stop: { a: 1 } }],
    [{ stop: 'x'.repeat(257) }],
  ])('%j is a 400 naming stop', (extra) => {
    expect(refusal(() => parseChatRequest(chat(extra))).param).toBe('stop')
    expect(refusal(() => parseCompletionRequest(completion(extra))).param).toBe('stop')
  })
})

describe('n and logprobs', () => {
  it('parses them', () => {
    expect(parseChatRequest(chat()).n).toBe(1)
    expect(parseChatRequest(chat({ n: 8 })).n).toBe(8)
    expect(parseChatRequest(chat()).logprobs).toBeUndefined()
    expect(parseChatRequest(chat({ logprobs: false })).logprobs).toBeUndefined()
    expect(parseChatRequest(chat({ logprobs: true })).logprobs).toBe(0)
    expect(parseChatRequest(chat({ logprobs: true, top_logprobs: 20 })).logprobs).toBe(20)
    expect(parseCompletionRequest(completion({ logprobs: 5 })).logprobs).toBe(5)
    expect(parseCompletionRequest(completion({ logprobs: null })).logprobs).toBeUndefined()
  })

  it.each([
    ['n', { n: 9 }],
    ['n', { n: 0 }],
    ['n', { n: -1 }],
    ['n', { n: 2.5 }],
    ['n', { n: '2' }],
    ['n', { n: 1e300 }],
    ['logprobs', { logprobs: 'true' }],
    ['top_logprobs', { top_logprobs: 2 }],
    ['top_logprobs', { logprobs: true, top_logprobs: 21 }],
    ['top_logprobs', { logprobs: true, top_logprobs: [1] }],
  ])('chat %s: %j is a 400', (param, extra) => {
    expect(refusal(() => parseChatRequest(chat(extra))).param).toBe(param)
  })

  it.each([[{ logprobs: true }], [{ logprobs: 6 }], [{ logprobs: -1 }], [{ top_logprobs: 1 }]])(
    'completions %j is a 400',
    (extra) => {
      expect(refusal(() => parseCompletionRequest(completion(extra))).status).toBe(400)
    },
  )
})

describe('provider (routing preferences)', () => {
  const hotkey = `0x${'ab'.repeat(20)}`
  it('parses sort, max_price (VTY per million tokens, into wei per token) and allow_fallbacks', () => {
    const parsed = parseChatRequest(
      chat({
        provider: {
          sort: 'price',
          max_price: { prompt: 0.5, completion: '2' },
          allow_fallbacks: false,
          only: [hotkey.toUpperCase().replace('0X', '0x')],
        },
      }),
    )
    expect(parsed.provider).toEqual({
      sort: 'price',
      maxPrice: { prompt: 500_000_000_000n, completion: 2_000_000_000_000n },
      allowFallbacks: false,
      only: [hotkey],
    })
    expect(parseChatRequest(chat()).provider).toEqual({})
  })

  it.each([
    [{ sort: 'cheapest' }, 'provider.sort'],
    [{ sort: 3 }, 'provider.sort'],
    [{ max_price: 1 }, 'provider.max_price'],
    [{ max_price: { prompt: -1 } }, 'provider.max_price.prompt'],
    [{ max_price: { completion: 1e-30 } }, 'provider.max_price.completion'],
    [{ max_price: { completion: 'NaN' } }, 'provider.max_price.completion'],
    [{ max_price: { request: 1 } }, 'provider.max_price.request'],
    [{ allow_fallbacks: 'no' }, 'provider.allow_fallbacks'],
    [{ order: ['a'] }, 'provider.order'],
    [{ only: ['alice'] }, 'provider.only'],
  ])('%j is a 400 naming %s', (provider, param) => {
    const e = refusal(() => parseChatRequest(chat({ provider })))
    expect(e.param).toBe(param)
  })
})

describe('response_format', () => {
  const ask = (response_format: unknown, content = 'Reply in json.') =>
    parseChatRequest({ model: 'm', messages: [{ role: 'user', content }], response_format })

  it('text is no format; json_object needs the word json (any case) in some message', () => {
    expect(ask({ type: 'text' }).responseFormat).toBeUndefined()
    expect(ask({ type: 'json_object' }).responseFormat).toEqual({ type: 'json_object' })
    expect(ask({ type: 'json_object' }, 'Answer in JSON').responseFormat).toEqual({
      type: 'json_object',
    })
    const e = refusal(() => ask({ type: 'json_object' }, 'Answer please'))
    expect(e.param).toBe('messages')
  })

  it('json_schema: the schema is canonicalized (sorted keys, no whitespace) and checked', () => {
    const f = ask({
      type: 'json_schema',
      json_schema: {
        name: 'pet_1',
        strict: true,
        description: 'd',
        schema: {
          type: 'object',
          required: ['b'],
          properties: { b: { type: 'string' }, a: { enum: [{ y: 1, x: 2 }] } },
        },
      },
    }).responseFormat
    expect(f).toEqual({
      type: 'json_schema',
      schema:
        '{"properties":{"a":{"enum":[{"x":2,"y":1}]},"b":{"type":"string"}},"required":["b"],"type":"object"}',
    })
    expect(
      refusal(() =>
        ask({
          type: 'json_schema',
          json_schema: { name: 'p', schema: { type: 'object', format: 'x' } },
        }),
      ).shortMessage,
    ).toMatch(/keyword "format" is not supported/)
    expect(
      refusal(() =>
        ask({
          type: 'json_schema',
          json_schema: { name: 'p', strict: 'yes', schema: { type: 'object' } },
        }),
      ).param,
    ).toBe('response_format.json_schema.strict')
    expect(
      refusal(() =>
        ask({
          type: 'json_schema',
          json_schema: { name: 'p', schema: { type: 'object' }, extra: 1 },
        }),
      ).param,
    ).toBe('response_format.json_schema.extra')
    expect(
      refusal(() => ask({ type: 'json_schema', json_schema: { name: 'p', schema: 'text' } })).param,
    ).toBe('response_format.json_schema.schema')
    expect(refusal(() => ask({ type: 'text', json_schema: {} })).param).toBe(
      'response_format.json_schema',
    )
    expect(refusal(() => ask({ type: null })).param).toBe('response_format.type')
    let deep: unknown = { type: 'object' }
    for (let i = 0; i < 5000; i++) deep = { type: 'object', properties: { a: deep } }
    const e = refusal(() => ask({ type: 'json_schema', json_schema: { name: 'p', schema: deep } }))
    expect(e.param).toBe('response_format.json_schema.schema')
    expect(e.shortMessage).toMatch(/nested deeper than 64/)
  })

  it('is refused together with tools (a constrained answer could not be a tool call)', () => {
    const body = {
      model: 'm',
      messages: [{ role: 'user', content: 'json' }],
      tools: [{ type: 'function', function: { name: 'f' } }],
    }
    expect(parseChatRequest(body).tools).toBeDefined()
    const e = refusal(() => parseChatRequest({ ...body, response_format: { type: 'json_object' } }))
    expect(e.param).toBe('response_format')
  })
})
