import type { Context } from 'hono'
import type { Address, Hex } from 'viem'
import type { SignedVisionReceipt } from '../../vision/answer.ts'
import type { Groth16Proof } from '../../vision/prover.ts'
import type { GatewayState } from '../state.ts'
import { askVisionMiners } from './answer.ts'
import type { VisionPool } from './pool.ts'
import { parseVisionRequest } from './request.ts'

/**
 * The `verity` field of a vision answer: everything `verity verify` needs to check it alone (the
 * 8x8 input, the result, the Groth16 proof with its public signals, the miner's signed receipt).
 */
export type VisionVerityField = {
  task: 'vision'
  modelId: Hex
  pixels: number[]
  label: number
  scores: number[]
  proof: Groth16Proof
  publicSignals: string[]
  receipt: SignedVisionReceipt
  miner: { hotkey: Address }
}

const randomId = () =>
  `chatcmpl-${Buffer.from(crypto.getRandomValues(new Uint8Array(12))).toString('hex')}`

/**
 * POST /v1/chat/completions for a vision model: the image is decoded and reduced to 8x8, a miner
 * classifies and proves it, the answer is checked, and the label is the message. With
 * `stream: true` the same checked answer is sent as chat.completion.chunk events (role, the label,
 * then the finish chunk carrying `verity`): a failure is always a plain HTTP error, since nothing
 * is streamed before the answer is checked.
 */
export async function respondVision(
  c: Context,
  state: GatewayState,
  pool: VisionPool,
  body: Record<string, unknown>,
): Promise<Response> {
  const started = performance.now()
  const input = parseVisionRequest(body, pool.limits)
  const labels = { model: pool.name }
  const { answer, miner } = await askVisionMiners(pool, input.pixels, {
    signal: c.req.raw.signal,
    timeoutMs: state.idleTimeoutMs,
    onFailover: () => state.metrics.failovers.inc(labels),
  })
  const verity: VisionVerityField = {
    task: 'vision',
    modelId: pool.modelId,
    pixels: answer.pixels,
    label: answer.label,
    scores: answer.scores,
    proof: answer.proof,
    publicSignals: answer.publicSignals,
    receipt: answer.receipt,
    miner: { hotkey: miner.hotkey },
  }
  const shape = {
    id: randomId(),
    created: Math.floor(Date.now() / 1000),
    model: pool.name,
    system_fingerprint: `verity-${pool.modelId.slice(2, 18)}`,
  }
  const content = String(answer.label)
  const usage = { prompt_tokens: 0, completion_tokens: 0, total_tokens: 0 }
  state.metrics.latency.observe(
    { endpoint: '/v1/chat/completions' },
    (performance.now() - started) / 1000,
  )
  const headers = { 'x-verity-miner': miner.hotkey }
  if (!input.stream)
    return c.json(
      {
        ...shape,
        object: 'chat.completion',
        choices: [
          {
            index: 0,
            message: { role: 'assistant', content, refusal: null },
            logprobs: null,
            finish_reason: 'stop',
          },
        ],
        usage,
        verity,
      },
      200,
      headers,
    )
  const event = (choices: unknown[], extra: Record<string, unknown> = {}) =>
    `data: ${JSON.stringify({
      ...shape,
      object: 'chat.completion.chunk',
      choices,
      ...(input.includeUsage ? { usage: null } : {}),
      ...extra,
    })}\n\n`
  const delta = (d: Record<string, unknown>, finish: string | null) => ({
    index: 0,
    delta: d,
    logprobs: null,
    finish_reason: finish,
  })
  const text = [
    event([delta({ role: 'assistant', content: '' }, null)]),
    event([delta({ content }, null)]),
    event([delta({}, 'stop')], input.includeUsage ? {} : { verity }),
    ...(input.includeUsage ? [event([], { usage, verity })] : []),
    'data: [DONE]\n\n',
  ].join('')
  return new Response(text, {
    status: 200,
    headers: {
      ...headers,
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache',
    },
  })
}
