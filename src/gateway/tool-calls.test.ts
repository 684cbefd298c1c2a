import OpenAI from 'openai'
import { privateKeyToAccount } from 'viem/accounts'
import { afterEach, describe, expect, it } from 'vitest'
import { LLAMA_3_2, QWEN_2_5 } from '../../test/chat-templates.ts'
import { withToolTemplate } from '../../test/model-variant.ts'
import { defaultModelBytes } from '../runtime/model/default.ts'
import { loadModel, type Model } from '../runtime/model/load.ts'
import { promptRenderer } from '../verify/prompt/render.ts'
import { requestHash } from '../verify/request.ts'
import { checkSavedResponse, parseSavedResponse, parseSavedResponses } from '../verify/response.ts'
import { DEV_KEYS, ScriptedMiner, testMiner } from './fixtures.ts'
import { describeLoadedModel } from './model.ts'
import { MinerPool } from './pool.ts'
import type { VerityField } from './respond.ts'
import { checkSentBody } from './sent.ts'
import { type GatewayServer, startGatewayServer } from './server.ts'

/**
 * Tool calls through the gateway with the openai client. The served model is the tiny test model
 * with a real tool-calling template (Qwen2.5's or Llama 3.2's) in its file (and a 4096-token
 * context), so rendering, hashing
 * and the binding checks are real; its answers come from a ScriptedMiner (fixed text, honest
 * receipt over those tokens, no real trace), because the tiny model never writes a tool call.
 */

const account = privateKeyToAccount(DEV_KEYS[0]!)
const models = new Map<string, Model>()
const templated = (template: string): Model => {
  let m = models.get(template)
  if (!m) {
    // A longer context than the tiny model's 512: tool prompts are long, and nothing runs them.
    m = loadModel(withToolTemplate(defaultModelBytes(), template))
    models.set(template, m)
  }
  return m
}

let servers: GatewayServer[] = []
afterEach(async () => {
  await Promise.all(servers.map((s) => s.stop()))
  servers = []
})

async function serve(template: string | undefined, text: string) {
  const model = template === undefined ? testMiner(0).model : templated(template)
  const pool = new MinerPool(describeLoadedModel(model, { id: 'm' }), {
    miners: [new ScriptedMiner(model, account, text)],
  })
  const server = startGatewayServer({ port: 0, host: '127.0.0.1', pools: [pool] })
  servers.push(server)
  await server.start()
  const client = new OpenAI({ baseURL: `${server.url}/v1`, apiKey: 'x', maxRetries: 0 })
  return { client, server, renderer: promptRenderer(model.metadata) }
}

const tools: OpenAI.Chat.Completions.ChatCompletionTool[] = [
  {
    type: 'function',
    function: {
      name: 'get_weather',
      description: 'Current weather of a city',
      parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
    },
  },
  { type: 'function', function: { name: 'get_time', parameters: { type: 'object' } } },
]
const ask = { model: 'm', messages: [{ role: 'user' as const, content: 'Weather in Paris?' }] }
const QWEN_CALL =
  '<tool_call>\n{"name": "get_weather", "arguments": {"city": "Paris"}}\n</tool_call>'

type WithVerity = { verity: VerityField }

describe('tool calls through the gateway (openai client, scripted answers)', () => {
  it('Qwen2.5: the answer is a tool call in OpenAI shape, streamed or not, and verifies', async () => {
    const { client, server, renderer } = await serve(QWEN_2_5, QWEN_CALL)
    const res = await client.chat.completions.create({ ...ask, tools, seed: 1 })
    const choice = res.choices[0]!
    const { verity } = res as unknown as WithVerity
    expect(choice.finish_reason).toBe('tool_calls')
    expect(choice.message.content).toBeNull()
    const id = `call_${verity.receipt.requestHash.slice(2, 26)}_0`
    expect(choice.message.tool_calls).toEqual([
      { id, type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } },
    ])
    // The prompt source commits to the tools (kind 3) and the prompt shows them to the model.
    expect(verity.request.prompt).toMatchObject({ kind: 'chat', tools: JSON.stringify(tools) })
    expect(requestHash(verity.request)).toBe(verity.receipt.requestHash)
    const prompt = renderer.tokenizer.decode(verity.request.promptTokens)
    expect(prompt).toContain('"name": "get_weather", "description": "Current weather of a city"')
    // verity verify's checks: binding, text, calls; a gateway that edits the arguments is caught.
    const body = JSON.stringify(res)
    expect(await checkSavedResponse(parseSavedResponse(body), renderer)).toEqual([])

    // Streamed: the openai stream helper assembles the same message.
    const stream = client.beta.chat.completions.stream({ ...ask, tools, seed: 1 })
    const final = await stream.finalChatCompletion()
    expect(final.choices[0]!.finish_reason).toBe('tool_calls')
    // (ids differ across requests: each is rendered at its own time, so hashes apart)
    const callsOf = (m: { tool_calls?: { function: unknown; type: string }[] }) =>
      m.tool_calls?.map((c) => [c.type, c.function])
    expect(callsOf(final.choices[0]!.message)).toEqual(callsOf(choice.message))
    expect(final.choices[0]!.message.tool_calls![0]!.id).toMatch(/^call_[0-9a-f]{24}_0$/)
    expect(final.choices[0]!.message.content ?? null).toBeNull()
    // The raw stream verifies too (what a user saves with curl).
    const raw = await fetch(`${server.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ ...ask, tools, seed: 1, stream: true }),
    }).then((r) => r.text())
    expect(raw).toContain('"tool_calls":[{"index":0,"id":"call_')
    const [saved] = parseSavedResponses(raw)
    const savedHash = saved!.bundle.receipt.requestHash
    expect(saved!.shown!.toolCalls).toEqual([
      { ...choice.message.tool_calls![0]!, id: `call_${savedHash.slice(2, 26)}_0` },
    ])
    expect(await checkSavedResponse(saved!, renderer)).toEqual([])

    // The next turn: the call and its result go back in; the prompt renders them.
    const next = await client.chat.completions.create({
      ...ask,
      tools,
      seed: 1,
      messages: [
        ...ask.messages,
        { role: 'assistant', content: null, tool_calls: choice.message.tool_calls! },
        { role: 'tool', tool_call_id: id, content: '{"temp": 21}' },
      ],
    })
    const nextVerity = (next as unknown as WithVerity).verity
    expect(renderer.tokenizer.decode(nextVerity.request.promptTokens)).toContain(
      '<tool_call>\n{"name": "get_weather", "arguments": {"city": "Paris"}}\n</tool_call><|im_end|>\n<|im_start|>user\n<tool_response>\n{"temp": 21}\n</tool_response>',
    )
    expect(await checkSavedResponse(parseSavedResponse(JSON.stringify(next)), renderer)).toEqual([])
  })

  it('a gateway that alters, adds or drops a call, or shows calls the text does not make, fails verification', async () => {
    const { client, renderer, server } = await serve(QWEN_2_5, `Let me look.\n${QWEN_CALL}`)
    const res = JSON.parse(
      JSON.stringify(await client.chat.completions.create({ ...ask, tools, seed: 2 })),
    )
    expect(res.choices[0].message.content).toBe('Let me look.\n')
    expect(await checkSavedResponse(parseSavedResponse(JSON.stringify(res)), renderer)).toEqual([])
    const check = async (edit: (b: typeof res) => void) => {
      const b = structuredClone(res)
      edit(b)
      return checkSavedResponse(parseSavedResponse(JSON.stringify(b)), renderer)
    }
    const altered = await check((b) => {
      b.choices[0].message.tool_calls[0].function.arguments = '{"city":"Rome"}'
    })
    expect(altered).toHaveLength(1)
    expect(altered[0]!.field).toBe('choices[0].message.tool_calls')
    expect(altered[0]!.problem).toMatch(/are not the calls the signed text makes/)
    const renamed = await check((b) => {
      b.choices[0].message.tool_calls[0].function.name = 'get_time'
    })
    expect(renamed[0]!.field).toBe('choices[0].message.tool_calls')
    const forgedId = await check((b) => {
      b.choices[0].message.tool_calls[0].id = 'call_mine'
    })
    expect(forgedId[0]!.field).toBe('choices[0].message.tool_calls')
    const added = await check((b) => {
      b.choices[0].message.tool_calls.push(b.choices[0].message.tool_calls[0])
    })
    expect(added[0]!.field).toBe('choices[0].message.tool_calls')
    const content = await check((b) => {
      b.choices[0].message.content = 'Sure.\n'
    })
    expect(content[0]!.field).toBe('choices[0].message.content')
    const finish = await check((b) => {
      b.choices[0].finish_reason = 'stop'
    })
    expect(finish[0]!.field).toBe('finish_reason')
    // Shown as plain text instead (what tool_choice 'none' does) is honest and passes.
    const asText = await check((b) => {
      b.choices[0].message = { role: 'assistant', content: `Let me look.\n${QWEN_CALL}` }
      b.choices[0].finish_reason = 'stop'
    })
    expect(asText).toEqual([])

    // Streamed with n = 2: content before the calls streams, each choice's calls verify.
    const raw = await fetch(`${server.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ ...ask, tools, seed: 2, n: 2, stream: true }),
    }).then((r) => r.text())
    const saved = parseSavedResponses(raw)
    expect(saved).toHaveLength(2)
    for (const one of saved) {
      expect(one.shown!.text).toBe('Let me look.\n')
      expect(one.shown!.finishReason).toBe('tool_calls')
      expect(await checkSavedResponse(one, renderer)).toEqual([])
    }
    // A stream whose arguments delta was edited fails.
    const edited = raw.replace(
      '"arguments":"{\\"city\\":\\"Paris\\"}"',
      '"arguments":"{\\"city\\":\\"Rome\\"}"',
    )
    expect(edited).not.toBe(raw)
    const found = (
      await Promise.all(parseSavedResponses(edited).map((x) => checkSavedResponse(x, renderer)))
    ).flat()
    expect(found.map((m) => m.field)).toContain('choices[0] stream delta.tool_calls')
  })

  it('the sent body catches a gateway that changed a call in the history', async () => {
    const { client } = await serve(QWEN_2_5, 'Fine.')
    const history = {
      ...ask,
      tools,
      seed: 9,
      messages: [
        ...ask.messages,
        {
          role: 'assistant' as const,
          content: null,
          tool_calls: [
            {
              id: 'call_a',
              type: 'function' as const,
              function: { name: 'get_weather', arguments: '{"city":"Paris"}' },
            },
          ],
        },
        { role: 'tool' as const, tool_call_id: 'call_a', content: '20 C' },
      ],
    }
    const res = await client.chat.completions.create(history)
    const { request } = (res as unknown as WithVerity).verity
    expect(checkSentBody(JSON.stringify(history), 'chat', request)).toEqual([])
    const other = structuredClone(history)
    const call = other.messages[1] as { tool_calls: { function: { arguments: string } }[] }
    call.tool_calls[0]!.function.arguments = '{"city":"Rome"}'
    expect(checkSentBody(JSON.stringify(other), 'chat', request)).toEqual([
      {
        field: 'request.prompt.messages',
        problem: 'the messages the miner ran are not the messages sent',
      },
    ])
  })

  it('Llama 3.2: a bare JSON call; several calls separated by ";"', async () => {
    const { client, renderer } = await serve(
      LLAMA_3_2,
      '{"name": "get_weather", "parameters": {"city": "Paris"}}; {"name": "get_time", "parameters": {}}',
    )
    const res = await client.chat.completions.create({ ...ask, tools, seed: 3 })
    const calls = res.choices[0]!.message.tool_calls!
    expect(calls.map((c) => [c.function.name, c.function.arguments])).toEqual([
      ['get_weather', '{"city":"Paris"}'],
      ['get_time', '{}'],
    ])
    expect(calls[1]!.id).toMatch(/_1$/)
    expect(res.choices[0]!.finish_reason).toBe('tool_calls')
    const prompt = renderer.tokenizer.decode(
      (res as unknown as WithVerity).verity.request.promptTokens,
    )
    expect(prompt).toContain('Environment: ipython')
    expect(prompt).toContain(
      '{\n    "type": "function",\n    "function": {\n        "name": "get_weather"',
    )
    expect(await checkSavedResponse(parseSavedResponse(JSON.stringify(res)), renderer)).toEqual([])
    // parallel_tool_calls: false shows a two-call answer as text.
    const single = await client.chat.completions.create({
      ...ask,
      tools,
      seed: 3,
      parallel_tool_calls: false,
    })
    expect(single.choices[0]!.message.tool_calls).toBeUndefined()
    expect(single.choices[0]!.finish_reason).toBe('stop')
    const stream = client.beta.chat.completions.stream({ ...ask, tools, seed: 3 })
    const final = await stream.finalChatCompletion()
    expect(final.choices[0]!.message.tool_calls?.map((c) => c.function.arguments)).toEqual([
      '{"city":"Paris"}',
      '{}',
    ])
  })

  it("tool_choice 'none' and unparseable calls stay text (never a crash); Hermes cannot be forced", async () => {
    const { client } = await serve(QWEN_2_5, QWEN_CALL)
    for (const tool_choice of ['none'] as const) {
      const res = await client.chat.completions.create({ ...ask, tools, tool_choice, seed: 4 })
      expect(res.choices[0]!.message.content).toBe(QWEN_CALL)
      expect(res.choices[0]!.message.tool_calls).toBeUndefined()
      expect(res.choices[0]!.finish_reason).toBe('stop')
      // tools are rendered (and committed) whatever tool_choice says, as OpenAI and vLLM do
      const { request } = (res as unknown as WithVerity).verity
      expect(request.prompt).toMatchObject({ tools: JSON.stringify(tools) })
      expect(
        promptRenderer(templated(QWEN_2_5).metadata).tokenizer.decode(request.promptTokens),
      ).toContain('<tools>\n{"type": "function", "function": {"name": "get_weather"')
    }
    // A Hermes call is wrapped in tags the JSON constraint cannot write: forcing one is a 400.
    for (const tool_choice of [
      'required',
      { type: 'function', function: { name: 'get_weather' } },
    ] as const) {
      const error = await client.chat.completions
        .create({ ...ask, tools, tool_choice, seed: 4 })
        .catch((e) => e)
      expect(error).toBeInstanceOf(OpenAI.BadRequestError)
      expect(error.param).toBe('tool_choice')
      expect(error.code).toBe('tool_choice_unsupported')
      expect(error.message).toMatch(/hermes format/)
    }
    for (const text of [
      '<tool_call>\n{"name": "get_weather", "arguments": {city: Paris}}\n</tool_call>',
      '<tool_call>\n{"name": "rm -rf /", "arguments": {}}\n</tool_call>',
      `${QWEN_CALL} and then some prose`,
      '<tool_call>\n{"name": "get_weather", "arguments": {"city": "Paris"}}',
    ]) {
      const { client: c, renderer } = await serve(QWEN_2_5, text)
      const res = await c.chat.completions.create({ ...ask, tools, seed: 5 })
      expect(res.choices[0]!.message.content).toBe(text)
      expect(res.choices[0]!.message.tool_calls).toBeUndefined()
      // A gateway that shows this text as a call is caught.
      const forged = JSON.parse(JSON.stringify(res))
      forged.choices[0].message = {
        role: 'assistant',
        content: null,
        tool_calls: [
          { id: 'call_x', type: 'function', function: { name: 'get_weather', arguments: '{}' } },
        ],
      }
      forged.choices[0].finish_reason = 'tool_calls'
      const found = await checkSavedResponse(parseSavedResponse(JSON.stringify(forged)), renderer)
      expect(found[0]).toEqual({
        field: 'choices[0].message.tool_calls',
        problem: 'tool calls were shown, but the signed text is not a tool call',
      })
      let streamed = ''
      for await (const chunk of await c.chat.completions.create({
        ...ask,
        tools,
        seed: 5,
        stream: true,
      }))
        streamed += chunk.choices[0]?.delta?.content ?? ''
      expect(streamed).toBe(text)
    }
  })

  it('a template without tools is a 400 naming tools; bad tool fields are 400s naming the field', async () => {
    const { client } = await serve(undefined, 'x')
    const error = await client.chat.completions.create({ ...ask, tools }).catch((e) => e)
    expect(error).toBeInstanceOf(OpenAI.BadRequestError)
    expect(error.param).toBe('tools')
    expect(error.code).toBe('tools_unsupported')
    expect(error.message).toMatch(/model m's chat template has no tools/)
    const { client: q } = await serve(QWEN_2_5, 'x')
    const bad = await q.chat.completions
      .create({
        ...ask,
        tools,
        messages: [...ask.messages, { role: 'tool', tool_call_id: 'call_forged', content: '1' }],
      })
      .catch((e) => e)
    expect(bad.status).toBe(400)
    expect(bad.param).toBe('messages[1].tool_call_id')
  })
})
