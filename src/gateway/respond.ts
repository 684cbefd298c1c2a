import type { Context } from 'hono'
import type { CallProof, InferenceRequest, SignedReceipt } from '../types/inference.ts'
import { choiceRequests } from '../verify/choice.ts'
import { finalText, TextStream } from '../verify/text.ts'
import { mapError } from './errors.ts'
import { type RoutedEvent, routeInference } from './execute.ts'
import { choiceLogprobs } from './logprobs.ts'
import type { ChatInput, SamplingInput } from './params.ts'
import type { MinerPool } from './pool.ts'
import type { GatewayState } from './state.ts'
import { readAnswer, ToolStreamHold, toolReading } from './tool-answer.ts'

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

type Done = RoutedEvent & { type: 'done' }

/**
 * Runs the request's choices through the pool (choice i with the seed `choiceSeed(seed, i)`,
 * each its own generation and receipt) and answers in the OpenAI shape, streamed or not. With
 * n = 1 the `verity` field is the one choice's VerityField; with n > 1 it is the list of them,
 * `verity[i]` for `choices[i]`, and a stream's finish chunk of choice i carries its own.
 */
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
  const requests = choiceRequests(request, input.n)
  // Accounts on: the most this request can cost (the prompt once, max_tokens per choice) is held
  // now (429/402 before any miner is asked), and what it produced is charged when it ends, however
  // it ends (a failure before any token is free; a client that hangs up pays for the prompt and
  // the tokens made so far).
  const caller = state.accounts?.callerOf(c.req.raw)
  const charge = caller
    ? state.accounts!.reserve(
        caller,
        model.id,
        request.promptTokens.length,
        request.maxTokens * requests.length,
      )
    : undefined
  const producedBy = requests.map(() => 0)
  let completed = false
  let clientGone = false
  const settle = () => {
    if (!charge) return
    // the client leaving (not a choice failing, which also aborts the others) is what it pays for
    const outcome = completed
      ? 'ok'
      : clientGone || c.req.raw.signal.aborted
        ? 'client_closed'
        : 'failed'
    try {
      charge.settle({ completionTokens: producedBy.reduce((a, b) => a + b, 0), outcome })
    } catch {
      // the store is gone (shutting down): the hold is released at the next start
      metrics.errors.inc({ type: 'accounts' })
    }
  }
  // Counts each choice's tokens as they arrive (what a request that ends early is charged for).
  async function* counted(run: AsyncGenerator<RoutedEvent>, i: number) {
    for await (const e of run) {
      if (e.type === 'token') producedBy[i]!++
      else producedBy[i] = e.tokens.length
      yield e
    }
  }
  const route = (r: InferenceRequest, i: number) =>
    counted(
      routeInference(pool, r, {
        signal,
        idleTimeoutMs: state.idleTimeoutMs,
        // allow_fallbacks: false is one miner or an error
        ...(input.provider.allowFallbacks === false
          ? { maxAttempts: 1 }
          : state.maxAttempts === undefined
            ? {}
            : { maxAttempts: state.maxAttempts }),
        prefs: {
          ...(input.provider.sort ? { sort: input.provider.sort } : {}),
          ...(input.provider.maxPrice ? { maxPrice: input.provider.maxPrice } : {}),
        },
        ...(input.provider.only ? { only: new Set(input.provider.only) } : {}),
        ...(input.provider.ignore ? { ignore: new Set(input.provider.ignore) } : {}),
        metrics,
      }),
      i,
    )
  const runs = requests.map(route)
  const shape: Shape = {
    id: randomId(kind === 'chat' ? 'chatcmpl' : 'cmpl'),
    created: Math.floor(Date.now() / 1000),
    model: model.id,
    fingerprint: `verity-${model.modelRoot.slice(2, 18)}`,
  }
  const labels = { model: model.id }
  metrics.promptTokens.inc(labels, request.promptTokens.length)
  const endpoint = kind === 'chat' ? '/v1/chat/completions' : '/v1/completions'
  const reading = toolReading(model, 'tools' in input ? (input as ChatInput).tools : undefined)
  const single = requests.length === 1

  // The first event of every choice decides the status: failures before any token are plain
  // HTTP errors (and stop the other choices).
  let firsts: IteratorResult<RoutedEvent>[]
  try {
    firsts = await Promise.all(runs.map((r) => r.next()))
  } catch (error) {
    abort.abort(new Error('another choice failed'))
    settle()
    throw error
  }
  metrics.firstToken.observe(labels, (performance.now() - started) / 1000)

  if (!input.stream) {
    let dones: Done[]
    try {
      dones = await Promise.all(runs.map((r, i) => finishRun(r, firsts[i]!)))
      completed = true
    } catch (error) {
      abort.abort(new Error('another choice failed'))
      throw error
    } finally {
      settle()
    }
    const fields = dones.map((done, i) => verityField(done, requests[i]!))
    const choices = dones.map((done, i) => {
      metrics.completionTokens.inc(labels, done.tokens.length)
      const { text, hitStop } = finalText(model.tokenizer, done.tokens, request.stop)
      const finish = hitStop ? 'stop' : done.finishReason
      forward(state, fields[i]!)
      const logprobs = choiceLogprobs(model, kind, requests[i]!, done)
      if (kind !== 'chat') return { text, index: i, logprobs, finish_reason: finish }
      const answer = readAnswer(reading, text, done.receipt.requestHash)
      return {
        index: i,
        message: answer.toolCalls
          ? {
              role: 'assistant',
              content: answer.content === '' ? null : answer.content,
              refusal: null,
              tool_calls: answer.toolCalls,
            }
          : { role: 'assistant', content: text, refusal: null },
        logprobs,
        finish_reason: answer.toolCalls && finish === 'stop' ? 'tool_calls' : finish,
      }
    })
    metrics.latency.observe({ endpoint }, (performance.now() - started) / 1000)
    const headers: Record<string, string> = { 'x-verity-miner': dones[0]!.miner.hotkey }
    if (single) headers[RECEIPT_HEADER] = encodeReceiptHeader(dones[0]!.receipt)
    return c.json(
      {
        id: shape.id,
        object: kind === 'chat' ? 'chat.completion' : 'text_completion',
        created: shape.created,
        model: shape.model,
        system_fingerprint: shape.fingerprint,
        choices,
        usage: usage(
          request,
          dones.reduce((sum, d) => sum + d.tokens.length, 0),
        ),
        verity: single ? fields[0] : fields,
      },
      200,
      headers,
    )
  }

  const encoder = new TextEncoder()
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
  const delta = (
    index: number,
    content: string | undefined,
    finish: string | null,
    role = false,
    logprobs: unknown = null,
  ) =>
    kind === 'chat'
      ? {
          index,
          delta: finish ? {} : role ? { role: 'assistant', content: '' } : { content },
          logprobs,
          finish_reason: finish,
        }
      : { text: content ?? '', index, logprobs, finish_reason: finish }

  const toolDelta = (index: number, call: unknown) => ({
    index,
    delta: { tool_calls: [call] },
    logprobs: null,
    finish_reason: null,
  })

  const stream = new ReadableStream<Uint8Array>({
    start(controller) {
      let completionTokens = 0
      const finals: { index: number; verity: VerityField }[] = []
      // One pump per choice; chunks of different choices interleave, each naming its index.
      // Each content chunk names the token ids it covers (`verity.tokens`), so a streaming client
      // can check the text against the final receipt as it goes.
      const pumpChoice = async (index: number) => {
        const r = requests[index]!
        const text = new TextStream(model.tokenizer, r.stop)
        // With tools, content that could be part of a call is held until the answer is complete.
        const hold = reading ? new ToolStreamHold(reading.format) : undefined
        let full = ''
        let pendingTokens: number[] = []
        const takeTokens = () => {
          const t = pendingTokens
          pendingTokens = []
          return single ? { verity: { tokens: t } } : { verity: { index, tokens: t } }
        }
        if (kind === 'chat') controller.enqueue(chunk([delta(index, undefined, null, true)]))
        let event: IteratorResult<RoutedEvent> = firsts[index]!
        while (!event.done) {
          const e = event.value
          if (e.type === 'token') {
            pendingTokens.push(e.token)
            const piece = text.push(e.token)
            full += piece
            const show = hold ? hold.push(piece) : piece
            if (show) controller.enqueue(chunk([delta(index, show, null)], takeTokens()))
          } else {
            const rest = text.finish()
            full += rest
            const answer = hold
              ? readAnswer(reading, full, e.receipt.requestHash)
              : { content: rest }
            const tail = hold ? answer.content.slice(hold.shown) : rest
            const calls = answer.toolCalls ?? []
            if (tail || (pendingTokens.length > 0 && calls.length === 0))
              controller.enqueue(chunk([delta(index, tail, null)], takeTokens()))
            for (const [i, call] of calls.entries()) {
              // name first, then the arguments: the pieces OpenAI's stream helpers accumulate
              const head = {
                index: i,
                id: call.id,
                type: 'function',
                function: { name: call.function.name, arguments: '' },
              }
              const tokens = pendingTokens.length > 0 ? takeTokens() : {}
              controller.enqueue(chunk([toolDelta(index, head)], tokens))
              const args = { index: i, function: { arguments: call.function.arguments } }
              controller.enqueue(chunk([toolDelta(index, args)]))
            }
            metrics.completionTokens.inc(labels, e.tokens.length)
            completionTokens += e.tokens.length
            const ended = text.hitStop ? 'stop' : e.finishReason
            const finish = calls.length > 0 && ended === 'stop' ? 'tool_calls' : ended
            const verity = verityField(e, r)
            forward(state, verity)
            const logprobs = choiceLogprobs(model, kind, r, e)
            if (single && input.includeUsage) {
              controller.enqueue(chunk([delta(index, undefined, finish, false, logprobs)]))
              finals.push({ index, verity })
            } else
              controller.enqueue(
                chunk([delta(index, undefined, finish, false, logprobs)], {
                  verity: single ? verity : { index, ...verity },
                }),
              )
          }
          event = await runs[index]!.next()
        }
      }
      const pump = async () => {
        try {
          await Promise.all(requests.map((_, i) => pumpChoice(i)))
          completed = true
          if (input.includeUsage) {
            const extra: Record<string, unknown> = { usage: usage(request, completionTokens) }
            if (single) extra.verity = finals[0]!.verity
            controller.enqueue(chunk([], extra))
          }
          controller.enqueue(encoder.encode('data: [DONE]\n\n'))
        } catch (error) {
          // A client that went away gets no error event (and counts no error).
          const gone = abort.signal.aborted || c.req.raw.signal.aborted
          abort.abort(new Error('a choice failed'))
          if (!gone) {
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
      clientGone = true
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

/** Reads a run to its `done` event. */
async function finishRun(
  run: AsyncGenerator<RoutedEvent>,
  first: IteratorResult<RoutedEvent>,
): Promise<Done> {
  if (!first.done && first.value.type === 'done') return first.value
  for await (const e of run) if (e.type === 'done') return e
  throw new Error('inference ended without a receipt')
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
