import type { Context } from 'hono'
import { ContextLengthError } from '../errors/gateway.ts'
import { samplingParams } from '../runtime/sampler/sample.ts'
import type { InferenceRequest, SignedReceipt } from '../types/inference.ts'
import { mapError } from './errors.ts'
import { type RoutedEvent, routeInference } from './execute.ts'
import type { SamplingInput } from './params.ts'
import type { MinerPool } from './pool.ts'
import type { GatewayState } from './state.ts'
import { finalText, TextStream } from './text.ts'

export type InferenceKind = 'chat' | 'text'

/** What `verity verify` needs to check and re-execute an answer. */
export type VerityField = {
  receipt: SignedReceipt
  request: InferenceRequest
  miner: { hotkey: string; peerId?: string }
}

/** Header carrying the receipt of a non-streamed answer: base64 of its compact JSON. */
export const RECEIPT_HEADER = 'x-verity-receipt'

export function encodeReceiptHeader(receipt: SignedReceipt): string {
  return Buffer.from(JSON.stringify(receipt)).toString('base64')
}

export function decodeReceiptHeader(value: string): SignedReceipt {
  return JSON.parse(Buffer.from(value, 'base64').toString('utf8')) as SignedReceipt
}

function randomId(prefix: string): string {
  const b = crypto.getRandomValues(new Uint8Array(12))
  return `${prefix}-${Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('')}`
}

/** Builds the InferenceRequest: context checks, default length, a seed when none was given. */
export function buildRequest(
  state: GatewayState,
  pool: MinerPool,
  input: SamplingInput,
  promptTokens: number[],
  defaultMaxTokens: number,
  promptParam: string,
): InferenceRequest {
  const context = pool.model.contextLength
  const room = context - promptTokens.length
  if (room < 1)
    throw new ContextLengthError(
      `This model's maximum context length is ${context} tokens. However, your ${promptParam} resulted in ${promptTokens.length} tokens, which leaves no room for a completion. Please reduce the length of the ${promptParam}.`,
      { param: promptParam },
    )
  if (input.maxTokens !== undefined && input.maxTokens > room)
    throw new ContextLengthError(
      `This model's maximum context length is ${context} tokens. However, you requested ${promptTokens.length + input.maxTokens} tokens (${promptTokens.length} in the ${promptParam}, ${input.maxTokens} in the completion). Please reduce the length of the ${promptParam} or completion.`,
      { param: promptParam },
    )
  return {
    modelRoot: pool.model.modelRoot,
    promptTokens,
    maxTokens: input.maxTokens ?? Math.min(defaultMaxTokens, room),
    params: samplingParams({ temperature: input.temperature, topP: input.topP, topK: input.topK }),
    seed: input.seed ?? state.chooseSeed(),
    stopTokens: pool.model.stopTokens,
    stop: input.stop,
  }
}

type Shape = {
  id: string
  created: number
  model: string
  fingerprint: string
}

function usage(request: InferenceRequest, tokens: number) {
  return {
    prompt_tokens: request.promptTokens.length,
    completion_tokens: tokens,
    total_tokens: request.promptTokens.length + tokens,
  }
}

/** Runs the request through the pool and answers in the OpenAI shape, streamed or not. */
export async function respond(
  c: Context,
  state: GatewayState,
  pool: MinerPool,
  kind: InferenceKind,
  input: SamplingInput,
  request: InferenceRequest,
  started: number,
): Promise<Response> {
  const { metrics } = state
  const model = pool.model
  const abort = new AbortController()
  const signal = AbortSignal.any([abort.signal, c.req.raw.signal])
  const events = routeInference(pool, request, {
    signal,
    idleTimeoutMs: state.idleTimeoutMs,
    ...(state.maxAttempts === undefined ? {} : { maxAttempts: state.maxAttempts }),
    metrics,
  })
  const shape: Shape = {
    id: randomId(kind === 'chat' ? 'chatcmpl' : 'cmpl'),
    created: Math.floor(Date.now() / 1000),
    model: model.id,
    fingerprint: `verity-${model.modelRoot.slice(2, 18)}`,
  }
  const labels = { model: model.id }
  metrics.promptTokens.inc(labels, request.promptTokens.length)
  const endpoint = kind === 'chat' ? '/v1/chat/completions' : '/v1/completions'

  // The first event decides the status: failures before any token are plain HTTP errors.
  const first = await events.next()
  metrics.firstToken.observe(labels, (performance.now() - started) / 1000)

  if (!input.stream) {
    let done: (RoutedEvent & { type: 'done' }) | undefined
    if (!first.done && first.value.type === 'done') done = first.value
    else for await (const e of events) if (e.type === 'done') done = e
    if (!done) throw new Error('inference ended without a receipt')
    metrics.completionTokens.inc(labels, done.tokens.length)
    const { text, hitStop } = finalText(model.tokenizer, done.tokens, request.stop)
    const finish = hitStop ? 'stop' : done.finishReason
    const verity = verityField(done, request)
    const choice =
      kind === 'chat'
        ? {
            index: 0,
            message: { role: 'assistant', content: text, refusal: null },
            logprobs: null,
            finish_reason: finish,
          }
        : { text, index: 0, logprobs: null, finish_reason: finish }
    metrics.latency.observe({ endpoint }, (performance.now() - started) / 1000)
    return c.json(
      {
        id: shape.id,
        object: kind === 'chat' ? 'chat.completion' : 'text_completion',
        created: shape.created,
        model: shape.model,
        system_fingerprint: shape.fingerprint,
        choices: [choice],
        usage: usage(request, done.tokens.length),
        verity,
      },
      200,
      {
        [RECEIPT_HEADER]: encodeReceiptHeader(done.receipt),
        'x-verity-miner': done.miner.hotkey,
      },
    )
  }

  const encoder = new TextEncoder()
  const text = new TextStream(model.tokenizer, request.stop)
  const object = kind === 'chat' ? 'chat.completion.chunk' : 'text_completion'
  const chunk = (choices: unknown[], extra: Record<string, unknown> = {}) => {
    const body: Record<string, unknown> = {
      id: shape.id,
      object,
      created: shape.created,
      model: shape.model,
      system_fingerprint: shape.fingerprint,
      choices,
      ...extra,
    }
    if (input.includeUsage && !('usage' in extra)) body.usage = null
    return encoder.encode(`data: ${JSON.stringify(body)}\n\n`)
  }
  const delta = (content: string | undefined, finish: string | null, role = false) =>
    kind === 'chat'
      ? {
          index: 0,
          delta: finish ? {} : role ? { role: 'assistant', content: '' } : { content },
          logprobs: null,
          finish_reason: finish,
        }
      : { text: content ?? '', index: 0, logprobs: null, finish_reason: finish }

  const stream = new ReadableStream<Uint8Array>({
    start(controller) {
      const pump = async () => {
        try {
          if (kind === 'chat') controller.enqueue(chunk([delta(undefined, null, true)]))
          let event: IteratorResult<RoutedEvent> = first
          while (!event.done) {
            const e = event.value
            if (e.type === 'token') {
              const piece = text.push(e.token)
              if (piece) controller.enqueue(chunk([delta(piece, null)]))
            } else {
              const rest = text.finish()
              if (rest) controller.enqueue(chunk([delta(rest, null)]))
              metrics.completionTokens.inc(labels, e.tokens.length)
              const finish = text.hitStop ? 'stop' : e.finishReason
              const verity = verityField(e, request)
              if (input.includeUsage) {
                controller.enqueue(chunk([delta(undefined, finish)]))
                controller.enqueue(chunk([], { usage: usage(request, e.tokens.length), verity }))
              } else controller.enqueue(chunk([delta(undefined, finish)], { verity }))
            }
            event = await events.next()
          }
          controller.enqueue(encoder.encode('data: [DONE]\n\n'))
        } catch (error) {
          if (!signal.aborted) {
            const mapped = mapError(error)
            metrics.errors.inc({ type: mapped.body.error.type })
            try {
              controller.enqueue(encoder.encode(`data: ${JSON.stringify(mapped.body)}\n\n`))
              controller.enqueue(encoder.encode('data: [DONE]\n\n'))
            } catch {}
          }
        } finally {
          metrics.latency.observe({ endpoint }, (performance.now() - started) / 1000)
          try {
            controller.close()
          } catch {}
        }
      }
      void pump()
    },
    cancel() {
      abort.abort(new Error('the client closed the stream'))
    },
  })
  return new Response(stream, {
    status: 200,
    headers: {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache',
      connection: 'keep-alive',
    },
  })
}

function verityField(done: RoutedEvent & { type: 'done' }, request: InferenceRequest): VerityField {
  const miner: VerityField['miner'] = { hotkey: done.miner.hotkey }
  if (done.miner.peerId !== undefined) miner.peerId = done.miner.peerId
  return { receipt: done.receipt, request, miner }
}
