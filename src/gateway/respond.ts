import type { Context } from 'hono'
import type { CallProof, InferenceRequest, SignedReceipt } from '../types/inference.ts'
import { finalText, TextStream } from '../verify/text.ts'
import { mapError } from './errors.ts'
import { type RoutedEvent, routeInference } from './execute.ts'
import type { SamplingInput } from './params.ts'
import type { MinerPool } from './pool.ts'
import type { GatewayState } from './state.ts'

export type InferenceKind = 'chat' | 'text'

/**
 * What a client needs to check an answer alone (`verity verify`): the request (with the messages
 * or prompt text it was rendered from), the output token ids, the miner's signed receipt and the
 * signed call it answers. The text shown must be exactly the decoding of `tokens`.
 */
export type VerityField = {
  request: InferenceRequest
  tokens: number[]
  receipt: SignedReceipt
  call: CallProof
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
  // Accounts on: the most this request can cost is held now (429/402 before any miner is asked),
  // and what it produced is charged when it ends, however it ends (a failure before any token is
  // free; a client that hangs up pays for the prompt and the tokens made so far).
  const caller = state.accounts?.callerOf(c.req.raw)
  const charge = caller
    ? state.accounts!.reserve(caller, model.id, request.promptTokens.length, request.maxTokens)
    : undefined
  let produced = 0
  let completed = false
  const settle = () => {
    if (!charge) return
    const outcome = completed ? 'ok' : signal.aborted ? 'client_closed' : 'failed'
    try {
      charge.settle({ completionTokens: produced, outcome })
    } catch {
      // the store is gone (shutting down): the hold is released at the next start
      metrics.errors.inc({ type: 'accounts' })
    }
  }
  const events = routeInference(pool, request, {
    signal,
    idleTimeoutMs: state.idleTimeoutMs,
    ...(state.maxAttempts === undefined ? {} : { maxAttempts: state.maxAttempts }),
    ...(input.provider.only ? { only: new Set(input.provider.only) } : {}),
    ...(input.provider.ignore ? { ignore: new Set(input.provider.ignore) } : {}),
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
  let first: IteratorResult<RoutedEvent>
  try {
    first = await events.next()
  } catch (error) {
    settle()
    throw error
  }
  if (!first.done && first.value.type === 'token') produced++
  metrics.firstToken.observe(labels, (performance.now() - started) / 1000)

  if (!input.stream) {
    let done: (RoutedEvent & { type: 'done' }) | undefined
    try {
      if (!first.done && first.value.type === 'done') done = first.value
      else
        for await (const e of events) {
          if (e.type === 'done') done = e
          else produced++
        }
      if (!done) throw new Error('inference ended without a receipt')
      produced = done.tokens.length
      completed = true
    } finally {
      settle()
    }
    metrics.completionTokens.inc(labels, done.tokens.length)
    const { text, hitStop } = finalText(model.tokenizer, done.tokens, request.stop)
    const finish = hitStop ? 'stop' : done.finishReason
    const verity = verityField(done, request)
    forward(state, verity)
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
  // Each content chunk names the token ids it covers (`verity.tokens`, those that arrived since the
  // previous chunk), so a streaming client can check the text against the final receipt as it goes.
  let pendingTokens: number[] = []
  const takeTokens = () => {
    const t = pendingTokens
    pendingTokens = []
    return { verity: { tokens: t } }
  }
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
              if (event !== first) produced++
              pendingTokens.push(e.token)
              const piece = text.push(e.token)
              if (piece) controller.enqueue(chunk([delta(piece, null)], takeTokens()))
            } else {
              const rest = text.finish()
              if (rest || pendingTokens.length > 0)
                controller.enqueue(chunk([delta(rest, null)], takeTokens()))
              metrics.completionTokens.inc(labels, e.tokens.length)
              produced = e.tokens.length
              completed = true
              const finish = text.hitStop ? 'stop' : e.finishReason
              const verity = verityField(e, request)
              forward(state, verity)
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
          settle()
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

/** Every answer served is handed to the validators (best effort: a client already has it). */
function forward(state: GatewayState, field: VerityField): void {
  const { request, tokens, receipt, call } = field
  void state.submitBundle?.({ request, tokens, receipt, call }).catch(() => {})
}

function verityField(done: RoutedEvent & { type: 'done' }, request: InferenceRequest): VerityField {
  const miner: VerityField['miner'] = { hotkey: done.miner.hotkey }
  if (done.miner.peerId !== undefined) miner.peerId = done.miner.peerId
  return { request, tokens: done.tokens, receipt: done.receipt, call: done.call, miner }
}
