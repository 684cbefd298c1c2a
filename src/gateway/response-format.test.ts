import OpenAI from 'openai'
import { afterEach, describe, expect, it } from 'vitest'
import { executeRequest } from '../verify/execute.ts'
import { verifyReceipt } from '../verify/receipt.ts'
import { reexecuteReceipt } from '../verify/reexecute.ts'
import { requestHash } from '../verify/request.ts'
import { testMiner, testModel } from './fixtures.ts'
import { MinerPool } from './pool.ts'
import type { VerityField } from './respond.ts'
import { checkSentBody } from './sent.ts'
import { type GatewayServer, startGatewayServer } from './server.ts'

const MODEL = 'verity-tiny-random'
let servers: GatewayServer[] = []
afterEach(async () => {
  await Promise.all(servers.map((s) => s.stop()))
  servers = []
})

async function serve() {
  const pool = new MinerPool(testMiner(0).describe(), { miners: [testMiner(0)] as never })
  const server = startGatewayServer({ port: 0, host: '127.0.0.1', pools: [pool] })
  servers.push(server)
  await server.start()
  return new OpenAI({
    baseURL: `${server.url}/v1`,
    apiKey: 'unused',
    maxRetries: 0,
    timeout: 20_000,
  })
}

type WithVerity = { verity: VerityField }
const tokenizer = testMiner(0).tokenizer
const idsOf = (text: string) =>
  Array.from({ length: tokenizer.vocabSize }, (_, i) => i).filter(
    (i) => tokenizer.decode([i]) === text,
  )
// The random test model would write a string for ever; a bias toward '"' and '}' (the request's own
// logit_bias) lets it finish. The constraint alone is what makes the text JSON.
const closers = Object.fromEntries([...idsOf('"'), ...idsOf('}')].map((id) => [String(id), 15]))
const messages = [{ role: 'user' as const, content: 'Describe a cat in JSON.' }]

describe('response_format through the openai client', () => {
  it('json_object, streamed and not: the same object, a verifying receipt that re-executes', async () => {
    const client = await serve()
    const params = {
      model: MODEL,
      messages,
      max_tokens: 200,
      seed: 5,
      temperature: 1,
      logit_bias: closers,
      response_format: { type: 'json_object' as const },
    }
    const completion = await client.chat.completions.create(params)
    const choice = completion.choices[0]!
    expect(choice.finish_reason).toBe('stop')
    const value = JSON.parse(choice.message.content!)
    expect(typeof value === 'object' && value !== null && !Array.isArray(value)).toBe(true)
    const { verity } = completion as unknown as WithVerity
    expect(verity.request.responseFormat).toEqual({ type: 'json_object' })
    await expect(verifyReceipt(verity.receipt, { request: verity.request })).resolves.toBe(true)
    expect(reexecuteReceipt(testModel(), tokenizer, verity.request, verity.receipt).ok).toBe(true)
    // The receipt does not stand for the same request without the format.
    const { responseFormat: _, ...plain } = verity.request
    const re = reexecuteReceipt(testModel(), tokenizer, plain, verity.receipt)
    expect(re.ok).toBe(false)
    expect(re.mismatches[0]).toMatch(/requestHash/)

    const stream = await client.chat.completions.create({ ...params, stream: true })
    let streamed = ''
    let finish: string | null | undefined
    for await (const chunk of stream) {
      streamed += chunk.choices[0]?.delta?.content ?? ''
      finish = chunk.choices[0]?.finish_reason ?? finish
    }
    expect(streamed).toBe(choice.message.content)
    expect(finish).toBe('stop')
  })

  it('json_schema: the output validates, the schema is committed canonically, max_tokens cuts with length', async () => {
    const client = await serve()
    const schema = {
      type: 'object',
      required: ['kind', 'ok'],
      additionalProperties: false,
      properties: {
        ok: { type: 'boolean' },
        kind: { enum: ['cat', 'dog'] },
        n: { type: 'integer' },
      },
    }
    const params = {
      model: MODEL,
      messages,
      max_tokens: 200,
      seed: 11,
      temperature: 1,
      logit_bias: closers,
      response_format: {
        type: 'json_schema' as const,
        json_schema: { name: 'pet', schema, strict: true },
      },
    }
    const completion = await client.chat.completions.create(params)
    const value = JSON.parse(completion.choices[0]!.message.content!)
    expect(['cat', 'dog']).toContain(value.kind)
    expect(typeof value.ok).toBe('boolean')
    expect(Object.keys(value).every((k) => ['ok', 'kind', 'n'].includes(k))).toBe(true)
    if ('n' in value) expect(Number.isInteger(value.n)).toBe(true)
    const { verity } = completion as unknown as WithVerity
    expect(verity.request.responseFormat).toEqual({
      type: 'json_schema',
      schema:
        '{"additionalProperties":false,"properties":{"kind":{"enum":["cat","dog"]},"n":{"type":"integer"},"ok":{"type":"boolean"}},"required":["kind","ok"],"type":"object"}',
    })
    expect(reexecuteReceipt(testModel(), tokenizer, verity.request, verity.receipt).ok).toBe(true)

    const cut = await client.chat.completions.create({ ...params, max_tokens: 3, stream: true })
    let text = ''
    let finish: string | null | undefined
    for await (const chunk of cut) {
      text += chunk.choices[0]?.delta?.content ?? ''
      finish = chunk.choices[0]?.finish_reason ?? finish
    }
    expect(finish).toBe('length')
    expect(() => JSON.parse(text)).toThrow()
  })

  it('verify with the sent body catches a gateway that dropped or changed the format', async () => {
    const client = await serve()
    const body = {
      model: MODEL,
      messages,
      max_tokens: 40,
      seed: 2,
      temperature: 1,
      logit_bias: closers,
      response_format: { type: 'json_object' as const },
    }
    const completion = await client.chat.completions.create(body)
    const { request } = (completion as unknown as WithVerity).verity
    expect(checkSentBody(JSON.stringify(body), 'chat', request)).toEqual([])
    const { responseFormat: _, ...dropped } = request
    expect(checkSentBody(JSON.stringify(body), 'chat', dropped)[0]?.field).toBe(
      'request.responseFormat',
    )
    const other = {
      ...request,
      responseFormat: { type: 'json_schema' as const, schema: '{"type":"object"}' },
    }
    expect(checkSentBody(JSON.stringify(body), 'chat', other)[0]?.field).toBe(
      'request.responseFormat',
    )
    const { response_format: __, ...plainBody } = body
    expect(checkSentBody(JSON.stringify(plainBody), 'chat', request).map((m) => m.field)).toContain(
      'request.responseFormat',
    )
  })

  it('refuses what it cannot constrain with a 400 naming the field', async () => {
    const client = await serve()
    const refusal = async (body: Record<string, unknown>) => {
      const e = await client.chat.completions
        .create({ model: MODEL, messages, max_tokens: 4, ...body } as never)
        .catch((error: unknown) => error)
      expect(e).toBeInstanceOf(OpenAI.BadRequestError)
      return e as InstanceType<typeof OpenAI.APIError>
    }
    const schema = (s: unknown) => ({
      response_format: { type: 'json_schema', json_schema: { name: 'x', schema: s } },
    })
    const noJson = await refusal({
      messages: [{ role: 'user', content: 'Describe a cat.' }],
      response_format: { type: 'json_object' },
    })
    expect(noJson.param).toBe('messages')
    expect(noJson.message).toMatch(/must contain the word 'json'/)
    expect((await refusal({ response_format: { type: 'yaml' } })).param).toBe(
      'response_format.type',
    )
    expect((await refusal({ response_format: 'json' })).param).toBe('response_format')
    const keyword = await refusal(
      schema({ type: 'object', properties: { a: { type: 'string', pattern: 'x' } } }),
    )
    expect(keyword.param).toBe('response_format.json_schema.schema')
    expect(keyword.message).toMatch(/#\/properties\/a: keyword "pattern" is not supported/)
    expect(
      (await refusal(schema({ type: 'object', properties: { next: { $ref: '#' } } }))).message,
    ).toMatch(/\$ref/)
    expect((await refusal(schema({ type: 'array', items: {} }))).message).toMatch(
      /root must be an object schema/,
    )
    const big = {
      type: 'object',
      properties: { a: { enum: Array.from({ length: 200 }, (_, i) => 'v'.repeat(400) + i) } },
    }
    expect((await refusal(schema(big))).message).toMatch(/too large/)
    expect(
      (
        await refusal({
          response_format: {
            type: 'json_schema',
            json_schema: { name: 'bad name!', schema: { type: 'object' } },
          },
        })
      ).param,
    ).toBe('response_format.json_schema.name')
    expect((await refusal({ response_format: { type: 'json_schema' } })).param).toBe(
      'response_format.json_schema',
    )
    expect((await refusal({ response_format: { type: 'json_object', schema: {} } })).param).toBe(
      'response_format.schema',
    )
  })

  it('a forged answer (the unconstrained tokens under the constrained request) fails re-execution', () => {
    const model = testModel()
    const request = {
      modelRoot: testMiner(0).describe().modelRoot,
      promptTokens: tokenizer.encode('JSON please'),
      maxTokens: 12,
      params: { temperatureMilli: 800, topK: 0, topPMilli: 1000 },
      seed: 3,
      stopTokens: [],
      stop: [],
      responseFormat: { type: 'json_object' as const },
    }
    const { responseFormat: _, ...plain } = request
    const free = executeRequest(model, tokenizer, plain)
    const honest = executeRequest(model, tokenizer, request)
    expect(free.outputHash).not.toBe(honest.outputHash)
    const receipt = {
      chainId: 1,
      netuid: 1,
      modelRoot: request.modelRoot,
      requestHash: requestHash(request),
      outputHash: free.outputHash,
      traceRoot: free.traceRoot,
      traceLeaves: free.traceLeaves,
      minerHotkey: testMiner(0).hotkey,
      issuedBlock: 1,
      validUntilBlock: 2,
      nonce: `0x${'00'.repeat(32)}` as const,
      verifyingContract: `0x${'00'.repeat(20)}` as const,
    }
    const re = reexecuteReceipt(model, tokenizer, request, receipt)
    expect(re.ok).toBe(false)
    expect(re.mismatches.join(' ')).toMatch(/outputHash/)
    expect(
      reexecuteReceipt(model, tokenizer, request, {
        ...receipt,
        outputHash: honest.outputHash,
        traceRoot: honest.traceRoot,
        traceLeaves: honest.traceLeaves,
      }).ok,
    ).toBe(true)
  })
})
