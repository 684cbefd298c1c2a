import OpenAI from 'openai'
import { privateKeyToAccount } from 'viem/accounts'
import { afterAll, describe, expect, it } from 'vitest'
import { LLAMA_3_2 } from '../../test/chat-templates.ts'
import { withToolTemplate } from '../../test/model-variant.ts'
import { defaultModelBytes } from '../runtime/model/default.ts'
import { loadModel } from '../runtime/model/load.ts'
import { promptRenderer } from '../verify/prompt/render.ts'
import { reexecuteReceipt } from '../verify/reexecute.ts'
import { checkSavedResponse, parseSavedResponse } from '../verify/response.ts'
import { DEV_KEYS } from './fixtures.ts'
import { LocalMiner } from './local-miner.ts'
import { describeLoadedModel } from './model.ts'
import { MinerPool } from './pool.ts'
import type { VerityField } from './respond.ts'
import { checkSentBody } from './sent.ts'
import { type GatewayServer, startGatewayServer } from './server.ts'
import { toolCallResponseFormat } from './tool-choice.ts'
import { parseTools } from './tools.ts'

/**
 * tool_choice 'required' and a named function, forced by constrained sampling on a real model
 * (the default model with Llama 3.2's template, run by the runtime, so the answers re-execute).
 */
const model = loadModel(withToolTemplate(defaultModelBytes(), LLAMA_3_2))
const renderer = promptRenderer(model.metadata)
const miner = new LocalMiner({ model, account: privateKeyToAccount(DEV_KEYS[0]!) })
let server: GatewayServer
let client: OpenAI

const tools: OpenAI.Chat.Completions.ChatCompletionTool[] = [
  {
    type: 'function',
    function: {
      name: 'get_weather',
      parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
    },
  },
  // outside the sampler's schema subset ('minimum'): forced with any object as parameters
  {
    type: 'function',
    function: {
      name: 'get_time',
      parameters: { type: 'object', properties: { zone: { type: 'integer', minimum: -12 } } },
    },
  },
]
// The tiny model would write a string for ever; a bias toward '"' and '}' lets it finish. The
// constraint alone is what makes the text a call.
const idsOf = (text: string) =>
  Array.from({ length: renderer.tokenizer.vocabSize }, (_, i) => i).filter(
    (i) => renderer.tokenizer.decode([i]) === text,
  )
const closers = Object.fromEntries([...idsOf('"'), ...idsOf('}')].map((id) => [String(id), 12]))
const ask = {
  model: 'm',
  messages: [{ role: 'user' as const, content: 'Weather in Paris?' }],
  tools,
  seed: 7,
  max_tokens: 120,
  logit_bias: closers,
}
type WithVerity = { verity: VerityField }

const WEATHER_SCHEMA =
  '{"additionalProperties":false,"properties":{"name":{"const":"get_weather"},"parameters":{"properties":{"city":{"type":"string"}},"required":["city"],"type":"object"}},"required":["name","parameters"],"type":"object"}'

afterAll(() => server?.stop())

describe("tool_choice 'required' and named, forced by constrained sampling", () => {
  it('the schema is a pure function of the tools and the choice', () => {
    const parsed = (choice: unknown) => parseTools({ tools, tool_choice: choice })!
    expect(
      toolCallResponseFormat(parsed({ type: 'function', function: { name: 'get_weather' } })),
    ).toEqual({ type: 'json_schema', schema: WEATHER_SCHEMA })
    expect(toolCallResponseFormat(parsed('required'))).toEqual({
      type: 'json_schema',
      schema:
        '{"additionalProperties":false,"properties":{"name":{"enum":["get_weather","get_time"]},"parameters":{"type":"object"}},"required":["name","parameters"],"type":"object"}',
    })
    expect(
      toolCallResponseFormat(parsed({ type: 'function', function: { name: 'get_time' } }))!,
    ).toMatchObject({ schema: expect.stringContaining('"parameters":{"type":"object"}}') })
    expect(toolCallResponseFormat(parsed('auto'))).toBeUndefined()
    expect(toolCallResponseFormat(parsed('none'))).toBeUndefined()
  })

  it('a named function: a call to it with its parameters, streamed or not, that re-executes and verifies', async () => {
    const pool = new MinerPool(describeLoadedModel(model, { id: 'm' }), { miners: [miner] })
    server = startGatewayServer({ port: 0, host: '127.0.0.1', pools: [pool] })
    await server.start()
    client = new OpenAI({ baseURL: `${server.url}/v1`, apiKey: 'x', maxRetries: 0 })
    const params = {
      ...ask,
      tool_choice: { type: 'function' as const, function: { name: 'get_weather' } },
    }
    const res = await client.chat.completions.create(params)
    const choice = res.choices[0]!
    expect(choice.finish_reason).toBe('tool_calls')
    expect(choice.message.content).toBeNull()
    const calls = choice.message.tool_calls!
    expect(calls).toHaveLength(1)
    expect(calls[0]!.function.name).toBe('get_weather')
    const args = JSON.parse(calls[0]!.function.arguments)
    expect(Object.keys(args)).toEqual(['city'])
    expect(typeof args.city).toBe('string')
    const { verity } = res as unknown as WithVerity
    expect(verity.request.responseFormat).toEqual({ type: 'json_schema', schema: WEATHER_SCHEMA })
    expect(reexecuteReceipt(model, renderer.tokenizer, verity.request, verity.receipt).ok).toBe(
      true,
    )
    expect(await checkSavedResponse(parseSavedResponse(JSON.stringify(res)), renderer)).toEqual([])
    const body = JSON.stringify(params)
    expect(checkSentBody(body, 'chat', verity.request)).toEqual([])
    // A gateway that dropped the constraint (an unforced answer under the same body) is caught.
    const { responseFormat: _, ...unforced } = verity.request
    expect(checkSentBody(body, 'chat', unforced).map((m) => m.field)).toContain(
      'request.responseFormat',
    )

    const stream = client.beta.chat.completions.stream(params)
    const final = await stream.finalChatCompletion()
    expect(final.choices[0]!.finish_reason).toBe('tool_calls')
    expect(final.choices[0]!.message.tool_calls!.map((c) => c.function)).toEqual(
      calls.map((c) => c.function),
    )
  })

  it("'required': a call to one of the tools, never text", async () => {
    for (const seed of [1, 2, 3]) {
      const res = await client.chat.completions.create({ ...ask, seed, tool_choice: 'required' })
      const choice = res.choices[0]!
      expect(choice.finish_reason).toBe('tool_calls')
      const calls = choice.message.tool_calls!
      expect(calls).toHaveLength(1)
      expect(['get_weather', 'get_time']).toContain(calls[0]!.function.name)
      expect(typeof JSON.parse(calls[0]!.function.arguments)).toBe('object')
      const { verity } = res as unknown as WithVerity
      expect(reexecuteReceipt(model, renderer.tokenizer, verity.request, verity.receipt).ok).toBe(
        true,
      )
      expect(await checkSavedResponse(parseSavedResponse(JSON.stringify(res)), renderer)).toEqual(
        [],
      )
    }
    // the same request unforced ('auto') is free text from this tiny model
    const free = await client.chat.completions.create({ ...ask, tool_choice: 'auto' })
    expect((free as unknown as WithVerity).verity.request.responseFormat).toBeUndefined()
  })
})
