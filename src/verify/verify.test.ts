import { sha256 } from '@noble/hashes/sha2.js'
import { bytesToHex, encodeAbiParameters, hexToBytes, parseAbiParameters } from 'viem'
import { privateKeyToAccount } from 'viem/accounts'
import { describe, expect, it } from 'vitest'
import { ReceiptError, RequestAuthError } from '../errors/node.ts'
import { samplingParams } from '../runtime/sampler/sample.ts'
import { testModel } from '../runtime/test-model.ts'
import { tokenizerFromGguf } from '../runtime/tokenizer/index.ts'
import { toHex } from '../runtime/trace/merkle.ts'
import { OpKind } from '../runtime/trace/ops.ts'
import type {
  ChatMessage,
  InferenceRequest,
  PromptSource,
  Receipt,
  SignedReceipt,
} from '../types/inference.ts'
import { ReplayGuard, signRequest, verifySignedRequest } from './call.ts'
import { executeRequest, executeRequestAsync } from './execute.ts'
import { compactJson } from './prompt/tools.ts'
import { signReceipt, verifyReceipt } from './receipt.ts'
import { reexecuteReceipt } from './reexecute.ts'
import { encodeRequest, outputHash, promptHash, REQUEST_HEADS, requestHash } from './request.ts'

const miner = privateKeyToAccount(`0x${'11'.repeat(32)}`)
const other = privateKeyToAccount(`0x${'22'.repeat(32)}`)
const caller = privateKeyToAccount(`0x${'33'.repeat(32)}`)
const model = testModel()
const tokenizer = tokenizerFromGguf(model.metadata)

function request(overrides: Partial<InferenceRequest> = {}): InferenceRequest {
  return {
    modelRoot: toHex(model.modelRoot),
    promptTokens: tokenizer.encode('Once upon a time'),
    maxTokens: 12,
    params: samplingParams({ temperature: 0.8, topP: 0.95 }),
    seed: 42,
    stopTokens: tokenizer.eosId === undefined ? [] : [tokenizer.eosId],
    stop: [],
    ...overrides,
  }
}

async function answer(
  req: InferenceRequest,
): Promise<{ receipt: SignedReceipt; tokens: number[] }> {
  const run = executeRequest(model, tokenizer, req)
  const receipt: Receipt = {
    chainId: 31337,
    netuid: 1,
    modelRoot: req.modelRoot,
    requestHash: requestHash(req),
    outputHash: run.outputHash,
    traceRoot: run.traceRoot,
    traceLeaves: run.traceLeaves,
    minerHotkey: miner.address,
    issuedBlock: 900,
    validUntilBlock: 1000,
    nonce: `0x${'ab'.repeat(32)}`,
    verifyingContract: '0x5FbDB2315678afecb367f032d93F642f64180aa3',
  }
  return { receipt: await signReceipt(miner, receipt), tokens: run.tokens }
}

describe('request hashing', () => {
  it('is canonical: key order does not matter, every field does', () => {
    const r = request()
    const shuffled = JSON.parse(JSON.stringify(Object.fromEntries(Object.entries(r).reverse())))
    expect(requestHash(shuffled)).toBe(requestHash(r))
    const variants: Partial<InferenceRequest>[] = [
      { seed: 43 },
      { maxTokens: 13 },
      { promptTokens: [...r.promptTokens, 5] },
      { params: { ...r.params, topK: 3 } },
      { params: { ...r.params, temperatureMilli: 801 } },
      { params: { ...r.params, topPMilli: 951 } },
      { stopTokens: [] },
      { stop: ['x'] },
      { modelRoot: `0x${'00'.repeat(32)}` },
      { prompt: { kind: 'text', text: 'Once upon a time' } },
      { prompt: { kind: 'chat', messages: [{ role: 'user', content: 'hi' }], time: 0 } },
      { prompt: { kind: 'chat', messages: [{ role: 'user', content: 'hi' }], time: 1 } },
      { prompt: { kind: 'chat', messages: [{ role: 'user', content: 'hi', name: '' }], time: 0 } },
      {
        prompt: {
          kind: 'chat',
          messages: [
            { role: 'system', content: 'be terse' },
            { role: 'user', content: 'hi' },
          ],
          time: 0,
        },
      },
    ]
    const hashes = new Set(variants.map((v) => requestHash(request(v))))
    expect(hashes.size).toBe(variants.length)
    expect(hashes.has(requestHash(r))).toBe(false)
    expect(encodeRequest(r).length % 32).toBe(0)
  })

  it('rejects malformed requests with the field named', () => {
    expect(() => requestHash({ ...request(), seed: -1 })).toThrow(/seed/)
    expect(() => requestHash({ ...request(), promptTokens: [1.5] })).toThrow(/promptTokens/)
    expect(() => requestHash({ ...request(), modelRoot: '0x12' })).toThrow(/modelRoot/)
    expect(() => requestHash({ ...request(), stop: [''] })).toThrow(/stop/)
    const chat = (messages: unknown, time: unknown = 0) =>
      requestHash({ ...request(), prompt: { kind: 'chat', messages, time } } as InferenceRequest)
    expect(() => chat([])).toThrow(/prompt.messages/)
    expect(() => chat([{ role: 'user' }])).toThrow(/content/)
    expect(() => chat([{ role: '', content: 'x' }])).toThrow(/role/)
    expect(() => chat([{ role: 'user', content: 'x' }], -1)).toThrow(/prompt.time/)
    expect(() => chat(Array.from({ length: 1025 }, () => ({ role: 'user', content: '' })))).toThrow(
      /more than 1024/,
    )
    expect(() =>
      requestHash({ ...request(), prompt: { kind: 'audio' } } as unknown as InferenceRequest),
    ).toThrow(/prompt.kind/)
  })

  it('a response format or a price selects the formatted tuple; each value hashes apart, requests without them hash as before', () => {
    const r = request()
    const plain = encodeRequest(r)
    const head = (bytes: Uint8Array) => new DataView(bytes.buffer).getUint32(96 + 28)
    expect(head(plain)).toBe(REQUEST_HEADS.base)
    expect(head(encodeRequest({ ...r, logprobs: 0 }))).toBe(REQUEST_HEADS.extended)
    const price = { promptWei: '1000', completionWei: '3000' }
    const variants: Partial<InferenceRequest>[] = [
      { price },
      { price: { promptWei: '1000', completionWei: '3001' } },
      { price: { promptWei: '0', completionWei: '3000' } },
      { responseFormat: { type: 'json_object' } },
      { responseFormat: { type: 'json_schema', schema: '{"type":"object"}' } },
      { responseFormat: { type: 'json_schema', schema: '{"type":"array"}' } },
      { responseFormat: { type: 'json_object' }, price },
      { price, logprobs: 2 },
    ]
    const hashes = new Set(variants.map((v) => requestHash(request(v))))
    expect(hashes.size).toBe(variants.length)
    expect(hashes.has(requestHash(r))).toBe(false)
    for (const v of variants) expect(head(encodeRequest(request(v)))).toBe(REQUEST_HEADS.formatted)
    // The price is head words 17 and 18 of the tuple (after the outer offset word), as uint256.
    const priced = encodeRequest(request({ price }))
    const word = (bytes: Uint8Array, index: number) =>
      BigInt(bytesToHex(bytes.slice(32 + 32 * index, 64 + 32 * index)))
    expect(word(priced, 17)).toBe(1000n)
    expect(word(priced, 18)).toBe(3000n)
  })

  it('refuses a malformed response format or price with the field named', () => {
    const bad = (v: Record<string, unknown>) => () =>
      requestHash({ ...request(), ...v } as InferenceRequest)
    expect(bad({ responseFormat: { type: 'text' } })).toThrow(/responseFormat.type/)
    expect(bad({ responseFormat: null })).toThrow(/responseFormat/)
    expect(bad({ responseFormat: { type: 'json_object', schema: '{}' } })).toThrow(/json_object/)
    expect(bad({ responseFormat: { type: 'json_schema', schema: '' } })).toThrow(/schema/)
    expect(bad({ responseFormat: { type: 'json_schema', schema: 'x'.repeat(65_537) } })).toThrow(
      /schema/,
    )
    expect(bad({ responseFormat: { type: 'json_schema', schema: {} } })).toThrow(/schema/)
    for (const promptWei of [1, '-1', '01', '1.5', '1e3', ' 1', `${10n ** 24n + 1n}`, ''])
      expect(bad({ price: { promptWei, completionWei: '1' } })).toThrow(/price.promptWei/)
    expect(bad({ price: { promptWei: '1' } })).toThrow(/price.completionWei/)
    expect(bad({ price: { promptWei: '0', completionWei: '0' } })).toThrow(/free answer/)
    expect(bad({ price: 'cheap' })).toThrow(/price/)
    expect(
      requestHash(request({ price: { promptWei: `${10n ** 24n}`, completionWei: '0' } })),
    ).toMatch(/^0x[0-9a-f]{64}$/)
  })

  const toolsText = compactJson([
    {
      type: 'function',
      function: {
        name: 'get_weather',
        parameters: { type: 'object', properties: { city: { type: 'string' } } },
      },
    },
    { type: 'function', function: { name: 'get_time' } },
  ])
  const toolChat = (over: Record<string, unknown> = {}) =>
    ({
      kind: 'chat',
      time: 7,
      tools: toolsText,
      messages: [
        { role: 'user', content: 'Weather in Paris?' },
        {
          role: 'assistant',
          content: '',
          toolCalls: [{ id: 'call_1', name: 'get_weather', arguments: '{"city":"Paris"}' }],
        },
        { role: 'tool', content: '{"temp":20}', toolCallId: 'call_1' },
      ],
      ...over,
    }) as PromptSource

  it('a chat without tools hashes exactly as the kind 1 ABI always did; a chat with tools is kind 3, pinned', () => {
    const chat: PromptSource = {
      kind: 'chat',
      time: 5,
      messages: [
        { role: 'system', content: 'be terse' },
        { role: 'user', content: 'hi', name: 'ann' },
      ],
    }
    const old = encodeAbiParameters(
      parseAbiParameters('uint8, uint64, (string,string,bool,string)[], string'),
      [
        1,
        5n,
        [
          ['system', 'be terse', false, ''],
          ['user', 'hi', true, 'ann'],
        ],
        '',
      ],
    )
    expect(promptHash(chat)).toBe(bytesToHex(sha256(hexToBytes(old))))
    // Golden: a change to the kind 3 ABI changes this value (and every tool receipt's requestHash).
    expect(promptHash(toolChat())).toBe(
      '0x65b1117d5812e084580f3a7570a0dbaedd2176467342a5bffa4668c0019d8173',
    )
    // The same value from the documented ABI, written independently; its first word is kind 3.
    const tools = encodeAbiParameters(
      parseAbiParameters(
        'uint8, uint64, (string,string,bool,string,string,(string,string,string)[])[], string, string',
      ),
      [
        3,
        7n,
        [
          ['user', 'Weather in Paris?', false, '', '', []],
          ['assistant', '', false, '', '', [['call_1', 'get_weather', '{"city":"Paris"}']]],
          ['tool', '{"temp":20}', false, '', 'call_1', []],
        ],
        toolsText,
        '',
      ],
    )
    expect(promptHash(toolChat())).toBe(bytesToHex(sha256(hexToBytes(tools))))
    expect(BigInt(tools.slice(0, 66))).toBe(3n)
  })

  it('a chat with tools commits to every tool field', () => {
    const base = toolChat()
    const msgs = base.kind === 'chat' ? base.messages : []
    const call = msgs[1]!.toolCalls![0]!
    const variants: PromptSource[] = [
      base,
      toolChat({
        tools: compactJson([
          { type: 'function', function: { name: 'get_weather' } },
          { type: 'function', function: { name: 'get_time' } },
        ]),
      }),
      toolChat({
        messages: [
          msgs[0]!,
          { ...msgs[1]!, toolCalls: [{ ...call, id: 'call_2' }] },
          { ...msgs[2]!, toolCallId: 'call_2' },
        ],
      }),
      toolChat({
        messages: [msgs[0]!, { ...msgs[1]!, toolCalls: [{ ...call, name: 'get_time' }] }, msgs[2]!],
      }),
      toolChat({
        messages: [
          msgs[0]!,
          { ...msgs[1]!, toolCalls: [{ ...call, arguments: '{"city":"Rome"}' }] },
          msgs[2]!,
        ],
      }),
      toolChat({
        messages: [
          msgs[0]!,
          { ...msgs[1]!, toolCalls: [{ ...call, arguments: '{"city": "Paris"}' }] },
          msgs[2]!,
        ],
      }),
      toolChat({ messages: [msgs[0]!, { ...msgs[1]!, content: 'Let me check.' }, msgs[2]!] }),
      toolChat({ messages: [msgs[0]!] }),
      { kind: 'chat', time: 7, messages: [msgs[0]!] },
    ]
    const hashes = new Set(variants.map((v) => requestHash(request({ prompt: v }))))
    expect(hashes.size).toBe(variants.length)
  })

  it('refuses tool fields that are malformed, unbound or inconsistent, naming the field', () => {
    const bad = (prompt: unknown) => () => requestHash(request({ prompt: prompt as PromptSource }))
    const base = toolChat()
    const msgs = (base as { messages: ChatMessage[] }).messages
    const call = msgs[1]!.toolCalls![0]!
    const withCall = (c: Record<string, unknown>) =>
      toolChat({ messages: [msgs[0]!, { ...msgs[1]!, toolCalls: [{ ...call, ...c }] }, msgs[2]!] })
    // tool fields in a chat without tools would not be hashed: refused
    expect(bad({ kind: 'chat', time: 0, messages: msgs })).toThrow(
      /has tool fields, but the prompt has no tools/,
    )
    expect(bad(toolChat({ tools: ' []' }))).toThrow(/prompt.tools/)
    expect(bad(toolChat({ tools: '[]' }))).toThrow(/1 to 64 tools/)
    expect(bad(toolChat({ tools: '{"a":1}' }))).toThrow(/prompt.tools/)
    expect(
      bad(
        toolChat({
          tools: JSON.stringify([{ type: 'function', function: { name: 'x' } }]).replace(':', ': '),
        }),
      ),
    ).toThrow(/compact JSON/)
    expect(bad(toolChat({ tools: 'x'.repeat(70_000) }))).toThrow(/prompt.tools/)
    expect(
      bad(
        toolChat({
          tools: compactJson(
            Array.from({ length: 65 }, (_, i) => ({
              type: 'function',
              function: { name: `f${i}` },
            })),
          ),
        }),
      ),
    ).toThrow(/1 to 64/)
    expect(
      bad(
        toolChat({
          tools: compactJson([
            { type: 'function', function: { name: 'a' } },
            { type: 'function', function: { name: 'a' } },
          ]),
        }),
      ),
    ).toThrow(/repeats/)
    expect(
      bad(toolChat({ tools: compactJson([{ type: 'function', function: { name: 'a"b' } }]) })),
    ).toThrow(/valid name/)
    expect(bad(withCall({ arguments: '{city' }))).toThrow(/arguments is not JSON/)
    expect(bad(withCall({ arguments: '[1]' }))).toThrow(/must be a JSON object/)
    expect(bad(withCall({ name: 'rm_rf' }))).toThrow(/must name one of the tools/)
    expect(bad(withCall({ id: 'a b' }))).toThrow(/toolCalls\[0\]\.id/)
    expect(bad(withCall({ extra: 1 }))).toThrow(/\{id, name, arguments\}/)
    // a tool message answering a call nobody made, or before it was made
    expect(
      bad(toolChat({ messages: [msgs[0]!, msgs[1]!, { ...msgs[2]!, toolCallId: 'call_9' }] })),
    ).toThrow(/toolCallId/)
    expect(bad(toolChat({ messages: [msgs[0]!, msgs[2]!, msgs[1]!] }))).toThrow(/toolCallId/)
    expect(
      bad(toolChat({ messages: [msgs[0]!, { ...msgs[1]!, role: 'user' }, msgs[2]!] })),
    ).toThrow(/only assistant/)
    expect(
      bad(toolChat({ messages: [msgs[0]!, msgs[1]!, { ...msgs[2]!, role: 'user' }] })),
    ).toThrow(/only 'tool'/)
    // the same id twice
    expect(bad(toolChat({ messages: [msgs[0]!, msgs[1]!, msgs[1]!] }))).toThrow(/unique id/)
  })

  it('outputHash is sha256 over big-endian uint32 tokens', () => {
    expect(outputHash([])).toBe(
      '0xe3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
    )
    expect(outputHash([1, 2])).not.toBe(outputHash([2, 1]))
  })
})

describe('receipts', () => {
  it('a signed receipt verifies against its request and tokens', async () => {
    const req = request()
    const { receipt, tokens } = await answer(req)
    await expect(
      verifyReceipt(receipt, { request: req, tokens, chainId: 31337, netuid: 1 }),
    ).resolves.toBe(true)
  })

  it('every tampered field fails', async () => {
    const req = request()
    const { receipt } = await answer(req)
    const flip = (h: string) => `${h.slice(0, -1)}${h.endsWith('0') ? '1' : '0'}` as `0x${string}`
    const tampered: Partial<SignedReceipt>[] = [
      { chainId: 1 },
      { netuid: 2 },
      { modelRoot: flip(receipt.modelRoot) },
      { requestHash: flip(receipt.requestHash) },
      { outputHash: flip(receipt.outputHash) },
      { traceRoot: flip(receipt.traceRoot) },
      { traceLeaves: receipt.traceLeaves + 1 },
      { minerHotkey: other.address },
      { issuedBlock: 901 },
      { validUntilBlock: 1001 },
      { validUntilBlock: 900 },
      { verifyingContract: other.address },
      { nonce: flip(receipt.nonce) },
      { signature: flip(receipt.signature) },
      { signature: '0x1234' },
    ]
    for (const t of tampered) {
      await expect(verifyReceipt({ ...receipt, ...t }), JSON.stringify(t)).rejects.toBeInstanceOf(
        ReceiptError,
      )
    }
    // signed by another key
    const forged = await signReceipt(other, { ...receipt, minerHotkey: other.address })
    await expect(verifyReceipt({ ...forged, minerHotkey: miner.address })).rejects.toThrow(
      /does not match/,
    )
    // right signature, wrong request / tokens / chain
    await expect(verifyReceipt(receipt, { request: request({ seed: 1 }) })).rejects.toThrow(
      /requestHash/,
    )
    await expect(verifyReceipt(receipt, { tokens: [1, 2, 3] })).rejects.toThrow(/outputHash/)
    await expect(verifyReceipt(receipt, { chainId: 1 })).rejects.toThrow(/chain/)
    await expect(verifyReceipt(receipt, { verifyingContract: other.address })).rejects.toThrow(
      /Verity contract/,
    )
    await expect(
      verifyReceipt(receipt, { call: { nonce: flip(receipt.nonce), miner: miner.address } }),
    ).rejects.toThrow(/nonce/)
    await expect(
      verifyReceipt(receipt, { call: { nonce: receipt.nonce, miner: other.address } }),
    ).rejects.toThrow(/another hotkey/)
    await expect(verifyReceipt({ ...receipt, traceRoot: '0x12' } as SignedReceipt)).rejects.toThrow(
      /traceRoot/,
    )
  })

  it('signReceipt refuses a key that is not the minerHotkey', async () => {
    const { receipt } = await answer(request())
    await expect(signReceipt(other, receipt)).rejects.toThrow(/minerHotkey/)
  })
})

describe('execution and re-execution', () => {
  it('re-execution reproduces an honest receipt and catches made-up output', async () => {
    const req = request()
    const { receipt } = await answer(req)
    expect(reexecuteReceipt(model, tokenizer, req, receipt)).toMatchObject({
      ok: true,
      mismatches: [],
    })
    const fake = { ...receipt, outputHash: outputHash([1, 2, 3]) }
    const result = reexecuteReceipt(model, tokenizer, req, fake)
    expect(result.ok).toBe(false)
    expect(result.mismatches[0]).toMatch(/^outputHash/)
    expect(reexecuteReceipt(model, tokenizer, request({ seed: 7 }), receipt).mismatches[0]).toMatch(
      /requestHash/,
    )
  })

  it('the receipt commits to one checkpoint per position run', () => {
    const req = request({ stopTokens: [] })
    const run = executeRequest(model, tokenizer, req)
    expect(run.tokens).toHaveLength(12)
    expect(run.traceLeaves).toBe(req.promptTokens.length + 12 - 1)
  })

  it('a subtle cheater (one value changed while answering, the rest consistent with it) fails re-execution', async () => {
    const req = request({ stopTokens: [] })
    const { receipt } = await answer(req)
    // v of layer 1 at the second prompt position, one element moved: later positions read it.
    const fault = { pos: 1, layer: 1, kind: OpKind.V, element: 5, delta: 30_000 }
    const cheat = executeRequest(model, tokenizer, req, { fault })
    expect(cheat.traceRoot).not.toBe(receipt.traceRoot)
    expect(cheat.traceLeaves).toBe(receipt.traceLeaves)
    // The same lie told while streaming gives the same receipt fields.
    const streamed = await executeRequestAsync(model, tokenizer, req, { fault })
    expect(streamed.traceRoot).toBe(cheat.traceRoot)
    expect(streamed.tokens).toEqual(cheat.tokens)
    const cheated = {
      ...receipt,
      outputHash: cheat.outputHash,
      traceRoot: cheat.traceRoot,
    }
    const result = reexecuteReceipt(model, tokenizer, req, cheated)
    expect(result.ok).toBe(false)
    expect(result.mismatches.some((m) => m.startsWith('traceRoot'))).toBe(true)
  })

  it('a text stop sequence ends generation at the completing token; the trace matches a shorter run', () => {
    const base = executeRequest(model, tokenizer, request({ maxTokens: 24, stopTokens: [] }))
    const text = tokenizer.decode(base.tokens)
    const stop = text.slice(Math.floor(text.length / 2), Math.floor(text.length / 2) + 2)
    const stopped = executeRequest(
      model,
      tokenizer,
      request({ maxTokens: 24, stopTokens: [], stop: [stop] }),
    )
    expect(stopped.finishReason).toBe('stop')
    expect(tokenizer.decode(stopped.tokens)).toContain(stop)
    expect(tokenizer.decode(stopped.tokens.slice(0, -1))).not.toContain(stop)
    const short = executeRequest(
      model,
      tokenizer,
      request({ maxTokens: stopped.tokens.length, stopTokens: [] }),
    )
    expect(short.tokens).toEqual(stopped.tokens)
    expect(short.traceRoot).toBe(stopped.traceRoot)
    expect(short.traceLeaves).toBe(stopped.traceLeaves)
  })

  it('honours an aborted signal and refuses another model', () => {
    const c = new AbortController()
    c.abort()
    expect(() => executeRequest(model, tokenizer, request(), { signal: c.signal })).toThrow()
    expect(() =>
      executeRequest(model, tokenizer, request({ modelRoot: `0x${'00'.repeat(32)}` })),
    ).toThrow(/another model/)
  })
})

describe('caller-signed requests', () => {
  it('verifies, and rejects a bad signature, another miner, replays and stale timestamps', async () => {
    let now = 1_000_000
    const guard = new ReplayGuard({ maxSkewMs: 1000, now: () => now })
    const call = await signRequest(caller, request(), { miner: miner.address, timestamp: now })
    const ok = await verifySignedRequest(call, { miner: miner.address })
    guard.check(ok)
    expect(() => guard.check(ok)).toThrow(/replayed/)
    await expect(verifySignedRequest(call, { miner: other.address })).rejects.toThrow(
      /another miner/,
    )
    await expect(
      verifySignedRequest({ ...call, request: request({ seed: 9 }) }, { miner: miner.address }),
    ).rejects.toThrow(/bad request signature/)
    await expect(
      verifySignedRequest({ ...call, caller: other.address }, { miner: miner.address }),
    ).rejects.toThrow(/bad request signature/)
    await expect(
      verifySignedRequest({ ...call, nonce: '0x1' }, { miner: miner.address }),
    ).rejects.toBeInstanceOf(RequestAuthError)
    const old = await signRequest(caller, request(), {
      miner: miner.address,
      timestamp: now - 5000,
    })
    expect(() => guard.check(old)).toThrow(/stale/)
    const fresh = await signRequest(caller, request(), { miner: miner.address, timestamp: now })
    guard.check(fresh)
    now += 10_000
    const later = await signRequest(caller, request(), { miner: miner.address, timestamp: now })
    guard.check(later)
    expect(call.nonce).not.toBe(fresh.nonce)
  })
})

describe('logit bias, penalties and logprobs in the request', () => {
  const adjusted = (p: Parameters<typeof samplingParams>[0]) =>
    request({ params: samplingParams({ temperature: 0.8, topP: 0.95, ...p }) })

  it('a request without them hashes as it always did (golden)', () => {
    const golden: InferenceRequest = {
      modelRoot: `0x${'ab'.repeat(32)}`,
      promptTokens: [1, 2, 3],
      maxTokens: 9,
      params: samplingParams({
        temperature: 0.7,
        topP: 0.9,
        topK: 5,
        logitBias: {},
        presencePenalty: 0,
        frequencyPenalty: 0,
      }),
      seed: 123456789012,
      stopTokens: [2],
      stop: ['\n\n'],
      prompt: { kind: 'text', text: 'hi' },
    }
    // The hash before logit bias existed (commit 8f71da1).
    expect(requestHash(golden)).toBe(
      '0x11df91dfab5e6187e68aba6c968d07507ae460784d1993028d3e217b2465be69',
    )
    // The extended tuple is used only when needed: 5 more head words and two empty arrays.
    const base = encodeRequest(golden).length
    expect(encodeRequest({ ...golden, logprobs: 0 }).length).toBe(base + 7 * 32)
  })

  it('every value changes requestHash; zero values are the same as none', () => {
    const variants = [
      { logitBias: { 5: 1 } },
      { logitBias: { 5: 2 } },
      { logitBias: { 6: 1 } },
      { logitBias: { 5: 1, 6: 1 } },
      { logitBias: { 5: -100 } },
      { logitBias: { 5: 0.001 } },
      { presencePenalty: 0.5 },
      { presencePenalty: -0.5 },
      { frequencyPenalty: 0.5 },
      { frequencyPenalty: 2 },
      { presencePenalty: 0.5, frequencyPenalty: 0.5 },
    ]
    const hashes = new Set(variants.map((v) => requestHash(adjusted(v))))
    expect(hashes.size).toBe(variants.length)
    expect(hashes.has(requestHash(request()))).toBe(false)
    expect(requestHash(adjusted({ logitBias: { 5: 0 }, presencePenalty: 0 }))).toBe(
      requestHash(request()),
    )
    // logprobs: off, on with 0, 1 and 20 alternatives are four requests
    const lp = [undefined, 0, 1, 20].map((k) =>
      requestHash(k === undefined ? request() : request({ logprobs: k })),
    )
    expect(new Set(lp).size).toBe(4)
  })

  it('rejects non-canonical or out-of-range values, naming the field', () => {
    const withParams = (extra: Record<string, unknown>) =>
      requestHash({ ...request(), params: { ...request().params, ...extra } } as InferenceRequest)
    expect(() => withParams({ presencePenaltyMilli: 2001 })).toThrow(/presencePenaltyMilli/)
    expect(() => withParams({ frequencyPenaltyMilli: 0 })).toThrow(/frequencyPenaltyMilli/)
    expect(() => withParams({ frequencyPenaltyMilli: 1.5 })).toThrow(/frequencyPenaltyMilli/)
    expect(() => withParams({ logitBias: [] })).toThrow(/logitBias/)
    expect(() =>
      withParams({
        logitBias: [
          [5, 1],
          [5, 2],
        ],
      }),
    ).toThrow(/logitBias\[1\]/)
    expect(() =>
      withParams({
        logitBias: [
          [6, 1],
          [5, 2],
        ],
      }),
    ).toThrow(/logitBias\[1\]/)
    expect(() => withParams({ logitBias: [[5, 0]] })).toThrow(/logitBias\[0\]/)
    expect(() => withParams({ logitBias: [[5, 100_001]] })).toThrow(/logitBias\[0\]/)
    expect(() => withParams({ logitBias: [[-1, 5]] })).toThrow(/logitBias\[0\]/)
    expect(() => withParams({ logitBias: [['5', 5]] })).toThrow(/logitBias\[0\]/)
    const many = Array.from({ length: 301 }, (_, i) => [i, 1])
    expect(() => withParams({ logitBias: many })).toThrow(/logitBias/)
    expect(() => requestHash({ ...request(), logprobs: 21 })).toThrow(/logprobs/)
    expect(() => requestHash({ ...request(), logprobs: -1 })).toThrow(/logprobs/)
    expect(() => requestHash({ ...request(), logprobs: '3' } as never)).toThrow(/logprobs/)
    // The runtime refuses a bias for a token outside the vocabulary.
    const beyond = adjusted({ logitBias: { [model.config.vocabSize]: 5 } })
    expect(() => executeRequest(model, tokenizer, beyond)).toThrow(/outside the vocabulary/)
    expect(() => samplingParams({ logitBias: { 5: Number.NaN } })).toThrow(/logit_bias/)
    expect(() => samplingParams({ presencePenalty: Number.POSITIVE_INFINITY })).toThrow(
      /presence_penalty/,
    )
  })

  it('re-execution reproduces an adjusted answer; its receipt does not verify for other values', async () => {
    const req = adjusted({ logitBias: { 7: 4 }, frequencyPenalty: 1.2, presencePenalty: 0.4 })
    const { receipt, tokens } = await answer(req)
    expect(reexecuteReceipt(model, tokenizer, req, receipt)).toMatchObject({ ok: true })
    expect(tokens).not.toEqual(executeRequest(model, tokenizer, request()).tokens)
    for (const other of [
      adjusted({ logitBias: { 7: 5 }, frequencyPenalty: 1.2, presencePenalty: 0.4 }),
      adjusted({ logitBias: { 7: 4 }, frequencyPenalty: 1.1, presencePenalty: 0.4 }),
      adjusted({ logitBias: { 7: 4 }, frequencyPenalty: 1.2 }),
      request(),
    ]) {
      await expect(verifyReceipt(receipt, { request: other, tokens })).rejects.toThrow(
        /requestHash/,
      )
      expect(reexecuteReceipt(model, tokenizer, other, receipt).mismatches[0]).toMatch(
        /requestHash/,
      )
    }
    // logprobs: the same tokens, but a receipt for one top count is not one for another.
    const lp = await answer(request({ logprobs: 3 }))
    expect(lp.tokens).toEqual(executeRequest(model, tokenizer, request()).tokens)
    for (const k of [undefined, 0, 2, 20]) {
      const other = k === undefined ? request() : request({ logprobs: k })
      await expect(verifyReceipt(lp.receipt, { request: other })).rejects.toThrow(/requestHash/)
    }
    expect(reexecuteReceipt(model, tokenizer, request({ logprobs: 3 }), lp.receipt).ok).toBe(true)
    // A miner that ignored the penalties signs tokens re-execution does not reproduce.
    const ignored = executeRequest(model, tokenizer, request())
    const lying = { ...receipt, outputHash: ignored.outputHash, traceRoot: ignored.traceRoot }
    expect(reexecuteReceipt(model, tokenizer, req, lying).ok).toBe(false)
  })
})
