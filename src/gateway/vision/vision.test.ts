import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import OpenAI, { APIError } from 'openai'
import type { Hex } from 'viem'
import { privateKeyToAccount } from 'viem/accounts'
import { afterAll, afterEach, describe, expect, it } from 'vitest'
import { checkVisionAnswer, type VisionAnswer } from '../../vision/answer.ts'
import { classifyDigits } from '../../vision/classify.ts'
import { readDigits, splitDigits } from '../../vision/dataset.ts'
import { LocalVisionMiner, type VisionMiner } from '../../vision/local-miner.ts'
import { parseDigitsModel } from '../../vision/model.ts'
import { visionModelId } from '../../vision/model-id.ts'
import { loadDigitsCircuit, stopProver, verifyDigitsProof } from '../../vision/prover.ts'
import { testMiner } from '../fixtures.ts'
import { MinerPool } from '../pool.ts'
import { type GatewayServer, startGatewayServer } from '../server.ts'
import type { GatewayOptions } from '../state.ts'
import { VisionPool, type VisionPoolOptions } from './pool.ts'
import type { VisionVerityField } from './respond.ts'
import { dataUrl, digitPng, grayPng } from './test-png.ts'

/**
 * The vision model through POST /v1/chat/completions with the openai client against a real
 * server: real Groth16 proofs from LocalVisionMiners; cheaters' answers are never returned and the
 * request fails over; every malformed image is a 400 naming the field.
 */
const root = join(import.meta.dirname, '../../..')
const circuit = loadDigitsCircuit(join(root, 'circuits/build/digits'))
const model = parseDigitsModel(JSON.parse(readFileSync(join(root, 'models/digits.json'), 'utf8')))
const modelId = visionModelId(circuit.vkey)
const NAME = 'verity-digits'
const binding = {
  chainId: 31337,
  netuid: 3,
  verifyingContract: '0x00000000000000000000000000000000000000aa' as const,
}
const key = (i: number) => privateKeyToAccount(`0x${i.toString(16).padStart(2, '0').repeat(32)}`)
const miner = (i: number, cheat?: 'invalid-proof' | 'wrong-label') =>
  new LocalVisionMiner({
    model,
    circuit,
    ...binding,
    account: key(i),
    blockNumber: () => 7,
    ...(cheat ? { cheat } : {}),
  })
const samples = splitDigits(readDigits()).test.slice(0, 6)
const sample = samples[0]!

let servers: GatewayServer[] = []
afterEach(async () => {
  await Promise.all(servers.map((s) => s.stop()))
  servers = []
})
afterAll(stopProver)

async function serve(
  miners: VisionMiner[],
  options: Partial<VisionPoolOptions> = {},
  gateway: Partial<GatewayOptions> = {},
) {
  const vision = new VisionPool({
    name: NAME,
    modelId,
    vkey: circuit.vkey,
    ...binding,
    miners,
    ...options,
  })
  const text = new MinerPool(testMiner(0).describe(), { miners: [testMiner(0)] as never })
  const server = startGatewayServer({ port: 0, pools: [text], vision, ...gateway })
  servers.push(server)
  await server.start()
  const client = new OpenAI({
    baseURL: `${server.url}/v1`,
    apiKey: 'unused',
    maxRetries: 0,
    timeout: 30_000,
  })
  return { server, client, vision }
}

const ask = (client: OpenAI, url: string, extra: Record<string, unknown> = {}) =>
  client.chat.completions.create({
    model: NAME,
    messages: [
      {
        role: 'user',
        content: [
          { type: 'text', text: 'Which digit is this?' },
          { type: 'image_url', image_url: { url } },
        ],
      },
    ],
    ...extra,
  } as never) as unknown as Promise<OpenAI.ChatCompletion & { verity: VisionVerityField }>

/** The answer as checkVisionAnswer takes it, from the `verity` field. */
const answerOf = (v: VisionVerityField): VisionAnswer => ({
  pixels: v.pixels,
  label: v.label,
  scores: v.scores,
  proof: v.proof,
  publicSignals: v.publicSignals,
  receipt: v.receipt,
})

describe('the vision model through chat completions', () => {
  it('classifies a PNG: the label is the message, the verity field verifies; listed in /v1/models', async () => {
    const { client, server } = await serve([miner(1)])
    const models = await client.models.list()
    const card = models.data.find((m) => m.id === NAME) as unknown as {
      verity: { task: string; modelId: string; miners: number }
    }
    expect(card.verity).toMatchObject({ task: 'vision', modelId, miners: 1 })
    expect(models.data.map((m) => m.id)).toContain(testMiner(0).describe().id)
    const one = (await fetch(`${server.url}/v1/models/${NAME}`).then((r) => r.json())) as {
      id: string
    }
    expect(one.id).toBe(NAME)

    for (const s of samples.slice(0, 3)) {
      const expected = classifyDigits(model, s.pixels)
      const started = performance.now()
      const res = await ask(client, dataUrl(digitPng(s.pixels)))
      // proving dominates: decode, prove, check (sign recovery + Groth16 verify), over HTTP
      console.log(`vision request: ${Math.round(performance.now() - started)} ms`)
      expect(res.object).toBe('chat.completion')
      expect(res.model).toBe(NAME)
      expect(res.choices[0]!.message.content).toBe(String(expected.label))
      expect(res.choices[0]!.finish_reason).toBe('stop')
      const v = res.verity
      expect(v.task).toBe('vision')
      expect(v.modelId).toBe(modelId)
      expect(v.pixels).toEqual(s.pixels)
      expect(v.label).toBe(expected.label)
      expect(v.scores).toEqual(expected.scores)
      expect(v.miner.hotkey).toBe(key(1).address)
      expect(await verifyDigitsProof(circuit.vkey, v.publicSignals, v.proof)).toBe(true)
      expect(
        await checkVisionAnswer(answerOf(v), { vkey: circuit.vkey, modelId, ...binding }),
      ).toEqual({ ok: true, signer: key(1).address })
    }
  }, 60_000)

  it('streams the same checked answer as chunks: role, label, finish with verity, [DONE]', async () => {
    const { client } = await serve([miner(1)])
    const expected = classifyDigits(model, sample.pixels)
    const stream = (await client.chat.completions.create({
      model: NAME,
      stream: true,
      stream_options: { include_usage: true },
      messages: [
        {
          role: 'user',
          content: [{ type: 'image_url', image_url: { url: dataUrl(digitPng(sample.pixels)) } }],
        },
      ],
    })) as AsyncIterable<OpenAI.ChatCompletionChunk & { verity?: VisionVerityField }>
    let text = ''
    let verity: VisionVerityField | undefined
    let finish: string | null = null
    let usage: unknown
    for await (const chunk of stream) {
      text += chunk.choices[0]?.delta.content ?? ''
      finish = chunk.choices[0]?.finish_reason ?? finish
      if (chunk.verity) verity = chunk.verity
      if (chunk.usage) usage = chunk.usage
    }
    expect(text).toBe(String(expected.label))
    expect(finish).toBe('stop')
    expect(usage).toEqual({ prompt_tokens: 0, completion_tokens: 0, total_tokens: 0 })
    expect(verity?.label).toBe(expected.label)
    expect(
      await checkVisionAnswer(answerOf(verity!), { vkey: circuit.vkey, modelId, ...binding }),
    ).toMatchObject({ ok: true })
  }, 60_000)

  it("never returns a cheater's answer: fails over to the honest miner; cheaters alone are a 502", async () => {
    const refused: { hotkey: string; signed: boolean; reason: string }[] = []
    const { client, vision } = await serve(
      [miner(2, 'invalid-proof'), miner(3, 'wrong-label'), miner(1)],
      {
        onRefused: (m, verdict) =>
          refused.push({ hotkey: m.hotkey, signed: verdict.signed, reason: verdict.reason }),
      },
    )
    const expected = classifyDigits(model, sample.pixels)
    // the rotation starts at the invalid-proof miner, then the wrong-label one
    const res = await ask(client, dataUrl(digitPng(sample.pixels)))
    expect(res.verity.miner.hotkey).toBe(key(1).address)
    expect(res.choices[0]!.message.content).toBe(String(expected.label))
    expect(refused.map((r) => r.hotkey)).toEqual([key(2).address, key(3).address])
    for (const r of refused) {
      expect(r.signed).toBe(true)
      expect(r.reason).toMatch(/proof does not verify/)
    }
    const status = vision.status()
    expect(status.map((s) => [s.served, s.refuted])).toEqual([
      [0, 1],
      [0, 1],
      [1, 0],
    ])
    // refuted miners are tried last from now on: the next request goes to the honest one at once
    refused.length = 0
    const again = await ask(client, dataUrl(digitPng(samples[1]!.pixels)))
    expect(again.verity.miner.hotkey).toBe(key(1).address)
    expect(refused).toEqual([])

    const cheaters = await serve([miner(2, 'invalid-proof'), miner(3, 'wrong-label')])
    const error = await ask(cheaters.client, dataUrl(digitPng(sample.pixels))).catch((e) => e)
    expect(error).toBeInstanceOf(APIError)
    expect(error.status).toBe(502)
    expect(error.code).toBe('miner_failed')
    expect(error.message).toMatch(/proof does not verify/)
  }, 90_000)

  it('fails over a miner that throws or hangs; 503 with no miner until one is added after start', async () => {
    const failing: VisionMiner = {
      hotkey: key(4).address,
      classify: async () => {
        throw new Error('connection reset')
      },
    }
    const hanging: VisionMiner = {
      hotkey: key(5).address,
      classify: () => new Promise(() => {}),
    }
    const { client } = await serve([failing, hanging, miner(1)], {}, { idleTimeoutMs: 500 })
    const res = await ask(client, dataUrl(digitPng(sample.pixels)))
    expect(res.verity.miner.hotkey).toBe(key(1).address)

    const empty = await serve([])
    const error = await ask(empty.client, dataUrl(digitPng(sample.pixels))).catch((e) => e)
    expect(error.status).toBe(503)
    expect(error.code).toBe('no_miner_available')
    empty.vision.add(miner(1))
    const late = await ask(empty.client, dataUrl(digitPng(sample.pixels)))
    expect(late.choices[0]!.message.content).toBe(
      String(classifyDigits(model, sample.pixels).label),
    )
  }, 60_000)

  it("a replayed or relayed answer is not served, and is not counted as the signer's cheat", async () => {
    const honest = miner(1)
    const old = await honest.classify(sample.pixels, { nonce: `0x${'cd'.repeat(32)}` })
    // replays an earlier genuine answer of its own (another call's nonce)
    const replaying: VisionMiner = { hotkey: key(1).address, classify: async () => old }
    // relays another miner's genuine answer to this call under its own name
    const relaying: VisionMiner = {
      hotkey: key(8).address,
      classify: (pixels, options) => honest.classify(pixels, options),
    }
    // answers for other pixels than those sent
    const swapping: VisionMiner = {
      hotkey: key(9).address,
      classify: (_pixels, options) => miner(9).classify(samples[1]!.pixels, options),
    }
    const refused: [string, boolean, string][] = []
    const { client, vision } = await serve([replaying, relaying, swapping, miner(6)], {
      onRefused: (m, verdict) => refused.push([m.hotkey, verdict.signed, verdict.reason]),
    })
    const res = await ask(client, dataUrl(digitPng(sample.pixels)))
    expect(res.verity.miner.hotkey).toBe(key(6).address)
    expect(res.verity.receipt.nonce).not.toBe(old.receipt.nonce)
    expect(refused).toEqual([
      [key(1).address, false, "the receipt's nonce is not the call's"],
      [key(8).address, false, 'the receipt is signed by another hotkey than the call went to'],
      [key(9).address, false, 'the receipt is for another input than the one sent'],
    ])
    expect(vision.status().map((s) => [s.failed, s.refuted, s.served])).toEqual([
      [1, 0, 0],
      [1, 0, 0],
      [1, 0, 0],
      [0, 0, 1],
    ])
  }, 90_000)

  it('answers concurrent requests each with its own checked answer', async () => {
    const { client } = await serve([miner(1), miner(6)])
    const results = await Promise.all(
      samples.slice(0, 4).map((s) => ask(client, dataUrl(digitPng(s.pixels)))),
    )
    const nonces = new Set<Hex>()
    for (const [i, res] of results.entries()) {
      const s = samples[i]!
      expect(res.verity.pixels).toEqual(s.pixels)
      expect(res.choices[0]!.message.content).toBe(String(classifyDigits(model, s.pixels).label))
      expect(
        await checkVisionAnswer(answerOf(res.verity), { vkey: circuit.vkey, modelId, ...binding }),
      ).toMatchObject({ ok: true })
      nonces.add(res.verity.receipt.nonce)
    }
    expect(nonces.size).toBe(4)
    expect(new Set(results.map((r) => r.verity.miner.hotkey)).size).toBe(2)
  }, 90_000)

  it('refuses every bad input with a 400 naming the field, before any miner is asked', async () => {
    let asked = 0
    const counting: VisionMiner = {
      hotkey: key(7).address,
      classify: async () => {
        asked++
        throw new Error('should not be asked')
      },
    }
    const { client, server } = await serve([counting], { limits: { maxImageBytes: 4096 } })
    const good = digitPng(sample.pixels)
    const part = (url: string) => ({ type: 'image_url', image_url: { url } })
    const body = (content: unknown, extra: Record<string, unknown> = {}) => ({
      model: NAME,
      messages: [{ role: 'user', content }],
      ...extra,
    })
    const corrupt = Buffer.from(good)
    corrupt[40] = (corrupt[40] as number) ^ 0xff
    const noise = new Uint8Array(80 * 80).map((_, i) => (i * 2654435761) >>> 24)
    const cases: [string, unknown, string, RegExp][] = [
      ['text only', body('a seven'), 'messages[0].content', /no image/],
      ['no image part', body([{ type: 'text', text: 'hi' }]), 'messages[0].content', /no image/],
      [
        'two images',
        body([part(dataUrl(good)), part(dataUrl(good))]),
        'messages[0].content',
        /2 images/,
      ],
      [
        'remote URL',
        body([part('https://example.org/seven.png')]),
        'messages[0].content[0].image_url.url',
        /fetches nothing/,
      ],
      [
        'not PNG',
        body([part(`data:image/jpeg;base64,${good.toString('base64')}`)]),
        'messages[0].content[0].image_url.url',
        /only image\/png/,
      ],
      [
        'PNG bytes that are not a PNG',
        body([part(`data:image/png;base64,${Buffer.from('GIF89a....').toString('base64')}`)]),
        'messages[0].content[0].image_url.url',
        /not a PNG/,
      ],
      [
        'corrupt',
        body([part(dataUrl(corrupt))]),
        'messages[0].content[0].image_url.url',
        /bad CRC/,
      ],
      [
        'truncated',
        body([part(dataUrl(good.subarray(0, good.length - 20)))]),
        'messages[0].content[0].image_url.url',
        /truncated/,
      ],
      [
        'not base64',
        body([part('data:image/png;base64,iVBOR%%%not*base64')]),
        'messages[0].content[0].image_url.url',
        /not valid base64/,
      ],
      [
        'not a data URL',
        body([part('file:///etc/passwd')]),
        'messages[0].content[0].image_url.url',
        /must be a data URL/,
      ],
      [
        'too small',
        body([part(dataUrl(grayPng(4, 4, new Uint8Array(16).fill(255))))]),
        'messages[0].content[0].image_url.url',
        /smaller than 8x8/,
      ],
      [
        'too many bytes',
        body([part(dataUrl(grayPng(80, 80, noise, { level: 0 })))]),
        'messages[0].content[0].image_url.url',
        /at most 4096 are accepted/,
      ],
      [
        'too many pixels',
        body([
          part(dataUrl(grayPng(1100, 1000, new Uint8Array(1_100_000).fill(255), { level: 9 }))),
        ]),
        'messages[0].content[0].image_url.url',
        /1100x1000 .*at most 1048576 pixels/,
      ],
      [
        'a sampling parameter',
        body([part(dataUrl(good))], { temperature: 0.5 }),
        'temperature',
        /not supported for a vision model/,
      ],
      ['two choices', body([part(dataUrl(good))], { n: 2 }), 'n', /'n' must be 1/],
      [
        'an unknown part type',
        body([{ type: 'input_audio', input_audio: {} }]),
        'messages[0].content[0]',
        /content part must be/,
      ],
      [
        'no user message',
        { model: NAME, messages: [{ role: 'system', content: 'x' }] },
        'messages',
        /needs a user message/,
      ],
      [
        'an image sent to the text model',
        { ...body([part(dataUrl(good))]), model: testMiner(0).describe().id },
        'model',
        /does not take images: send them to the vision model 'verity-digits'/,
      ],
      [
        'an image sent to an unknown model',
        { ...body([part(dataUrl(good))]), model: 'verity-cats' },
        'model',
        /'verity-cats' does not take images/,
      ],
    ]
    for (const [name, request, param, message] of cases) {
      const error = await client.chat.completions.create(request as never).catch((e) => e)
      expect(error, name).toBeInstanceOf(APIError)
      expect(error.status, name).toBe(400)
      expect(error.param, name).toBe(param)
      expect(error.message, name).toMatch(message)
    }
    // an unknown model without an image is OpenAI's 404 naming 'model', as before
    const unknown = await client.chat.completions
      .create({ model: 'verity-cats', messages: [{ role: 'user', content: 'hi' }] })
      .catch((e) => e)
    expect([unknown.status, unknown.param, unknown.code]).toEqual([404, 'model', 'model_not_found'])
    // a body over the gateway's limit is refused before it is parsed
    const huge = await fetch(`${server.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body([part(`data:image/png;base64,${'A'.repeat(1_100_000)}`)])),
    })
    expect(huge.status).toBe(413)
    expect(asked).toBe(0)
  }, 60_000)
})
