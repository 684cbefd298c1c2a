import { BaseError } from '../errors/base.ts'
import { ReceiptError } from '../errors/node.ts'
import type { Tokenizer } from '../runtime/tokenizer/index.ts'
import type { FinishReason, Hex, InferenceRequest, StepLogprobs } from '../types/inference.ts'
import { parseReceiptBundle, type ReceiptBundle, verifyBundle } from './bundle.ts'
import { choiceSeed, MAX_CHOICES } from './choice.ts'
import { chatLogprobs, textLogprobs } from './logprobs.ts'
import { assertPromptTokens, defaultStopTokens, type PromptRenderer } from './prompt/render.ts'
import { toolCallFormat } from './prompt/tools.ts'
import { requestHash } from './request.ts'
import { finalText } from './text.ts'
import { parseToolCalls, shownToolCalls } from './tool-calls.ts'

/** What a client was shown: the answer's text, where it sat, and (for a stream) its chunks' tokens. */
export type ShownAnswer = {
  /** 'chat' (message content) or 'text' (legacy completion text). */
  kind: 'chat' | 'text'
  /** The JSON path of the text, for error messages. */
  field: string
  text: string
  finishReason: string | undefined
  /** A stream only: the token ids its content chunks named, concatenated. */
  streamTokens?: number[]
  /** The choice's `logprobs` as shown (absent when null). */
  logprobs?: unknown
  /** Chat: `message.tool_calls` as shown (a stream's deltas assembled); `text` is then the content. */
  toolCalls?: unknown[]
}

/** A saved response: the bundle it carries and, unless it is a bare bundle, what it showed. */
export type SavedResponse = { bundle: ReceiptBundle; shown: ShownAnswer | undefined }

/** One failed check: the field at fault and what is wrong with it. */
export type Mismatch = { field: string; problem: string }

/**
 * Parses a saved response: an API response body (`chat.completion` or `text_completion` with a
 * `verity` field), a saved SSE stream (`data: {...}` lines, the last chunk carrying `verity`), or a
 * bare bundle `{ request, tokens, receipt, call }`. A ReceiptError names what is missing.
 */
export function parseSavedResponse(text: string): SavedResponse {
  const all = parseSavedResponses(text)
  if (all.length !== 1)
    throw new ReceiptError(
      `the response has ${all.length} choices: check each (verity verify does)`,
    )
  return all[0]!
}

/**
 * Every choice of a saved response, in index order: one for n = 1 (or a bare bundle), n for a
 * response with n choices (`verity[i]` is the bundle of `choices[i]`).
 */
export function parseSavedResponses(text: string): SavedResponse[] {
  const trimmed = text.trimStart()
  if (trimmed.startsWith('data:')) return parseStream(trimmed)
  let json: unknown
  try {
    json = JSON.parse(text)
  } catch (error) {
    throw new ReceiptError('the file is neither JSON nor a saved event stream', {
      details: (error as Error).message,
    })
  }
  const body = json as Record<string, unknown> | null
  if (typeof body !== 'object' || body === null)
    throw new ReceiptError('the file is not a JSON object')
  if (body.verity === undefined) return [{ bundle: parseReceiptBundle(body), shown: undefined }]
  const choices = body.choices
  const fields = Array.isArray(body.verity) ? (body.verity as unknown[]) : [body.verity]
  if (!Array.isArray(choices) || choices.length !== fields.length || fields.length === 0)
    throw new ReceiptError(
      `the response must have one entry in 'choices' per receipt in 'verity' (${fields.length})`,
    )
  if (fields.length > MAX_CHOICES)
    throw new ReceiptError(`the response has more than ${MAX_CHOICES} choices`)
  return fields.map((field, i) => {
    const choice = choices.find((c) => (c as Record<string, unknown>)?.index === i) as
      | Record<string, unknown>
      | undefined
    if (!choice) throw new ReceiptError(`no entry in 'choices' has index ${i}`)
    const bundle = parseReceiptBundle(field)
    const finishReason = typeof choice.finish_reason === 'string' ? choice.finish_reason : undefined
    const logprobs = choice.logprobs ?? undefined
    if (body.object === 'chat.completion') {
      const message = choice.message as Record<string, unknown> | undefined
      const toolCalls = message?.tool_calls
      const calls = Array.isArray(toolCalls) && toolCalls.length > 0 ? toolCalls : undefined
      // An answer that only calls tools has content null.
      const content = message?.content === null && calls ? '' : message?.content
      if (typeof content !== 'string')
        throw new ReceiptError(`'choices[${i}].message.content' is missing`)
      return {
        bundle,
        shown: {
          kind: 'chat',
          field: `choices[${i}].message.content`,
          text: content,
          finishReason,
          ...(logprobs === undefined ? {} : { logprobs }),
          ...(calls ? { toolCalls: calls } : {}),
        },
      }
    }
    if (body.object === 'text_completion') {
      if (typeof choice.text !== 'string') throw new ReceiptError(`'choices[${i}].text' is missing`)
      return {
        bundle,
        shown: {
          kind: 'text',
          field: `choices[${i}].text`,
          text: choice.text,
          finishReason,
          ...(logprobs === undefined ? {} : { logprobs }),
        },
      }
    }
    throw new ReceiptError(`unknown response object ${JSON.stringify(body.object)}`)
  })
}

function parseStream(text: string): SavedResponse[] {
  type Acc = {
    content: string
    finishReason?: string
    streamTokens: number[]
    final?: Record<string, unknown>
    logprobs: unknown[]
    sawLogprobs: boolean
    toolCalls: { id?: unknown; type?: unknown; name: string; arguments: string }[]
  }
  const byIndex = new Map<number, Acc>()
  const acc = (i: number): Acc => {
    if (!Number.isInteger(i) || i < 0 || i >= MAX_CHOICES)
      throw new ReceiptError(`a stream chunk names choice ${JSON.stringify(i)}`)
    const found = byIndex.get(i)
    if (found) return found
    const a: Acc = {
      content: '',
      streamTokens: [],
      logprobs: [],
      sawLogprobs: false,
      toolCalls: [],
    }
    byIndex.set(i, a)
    return a
  }
  let kind: 'chat' | 'text' | undefined
  for (const line of text.split('\n')) {
    if (!line.startsWith('data:')) continue
    const data = line.slice(5).trim()
    if (data === '[DONE]') break
    let chunk: Record<string, unknown>
    try {
      chunk = JSON.parse(data)
    } catch {
      throw new ReceiptError('a stream line is not JSON', { details: data.slice(0, 80) })
    }
    if (chunk.error !== undefined) throw new ReceiptError('the stream ended with an error')
    if (chunk.object === 'chat.completion.chunk') kind = 'chat'
    else if (chunk.object === 'text_completion') kind = 'text'
    for (const c of (chunk.choices as Record<string, unknown>[] | undefined) ?? []) {
      const a = acc(typeof c.index === 'number' ? c.index : 0)
      const piece =
        kind === 'chat' ? (c.delta as Record<string, unknown> | undefined)?.content : c.text
      if (typeof piece === 'string') a.content += piece
      const deltaCalls = (c.delta as Record<string, unknown> | undefined)?.tool_calls
      if (kind === 'chat' && Array.isArray(deltaCalls)) addToolDeltas(a.toolCalls, deltaCalls)
      if (typeof c.finish_reason === 'string') a.finishReason = c.finish_reason
      const lp = c.logprobs as Record<string, unknown> | null | undefined
      if (lp !== null && lp !== undefined) {
        a.sawLogprobs = true
        a.logprobs.push(lp)
      }
    }
    const verity = chunk.verity as Record<string, unknown> | undefined
    if (verity === undefined) continue
    const a = acc(typeof verity.index === 'number' ? verity.index : 0)
    if (verity.receipt !== undefined) a.final = verity
    else if (Array.isArray(verity.tokens)) a.streamTokens.push(...(verity.tokens as number[]))
  }
  if (!kind) throw new ReceiptError('the stream has no completion chunks')
  const out: SavedResponse[] = []
  for (let i = 0; i < byIndex.size; i++) {
    const a = byIndex.get(i)
    if (!a) throw new ReceiptError(`the stream has no chunks for choice ${i}`)
    if (!a.final)
      throw new ReceiptError(
        `the stream has no chunk with the receipt${byIndex.size > 1 ? ` of choice ${i}` : ''} (was it cut short?)`,
      )
    const { index: _index, ...bundle } = a.final
    const prefix = byIndex.size > 1 ? `choices[${i}] ` : ''
    out.push({
      bundle: parseReceiptBundle(bundle),
      shown: {
        kind,
        field: `${prefix}${kind === 'chat' ? 'stream delta.content' : 'stream text'}`,
        text: a.content,
        finishReason: a.finishReason,
        streamTokens: a.streamTokens,
        ...(a.sawLogprobs ? { logprobs: mergeLogprobs(a.logprobs) } : {}),
        ...(a.toolCalls.length > 0
          ? {
              toolCalls: a.toolCalls.map((t) => ({
                id: t.id,
                type: t.type,
                function: { name: t.name, arguments: t.arguments },
              })),
            }
          : {}),
      },
    })
  }
  return out
}

/** Assembles tool-call deltas as OpenAI's stream helpers do: by index, name and arguments appended. */
function addToolDeltas(
  calls: { id?: unknown; type?: unknown; name: string; arguments: string }[],
  deltas: unknown[],
): void {
  for (const d of deltas) {
    const delta = d as Record<string, unknown> | null
    const i = delta?.index
    if (typeof i !== 'number' || !Number.isInteger(i) || i < 0 || i > calls.length || i >= 1024)
      throw new ReceiptError(`a stream chunk names tool call ${JSON.stringify(i)}`)
    calls[i] ??= { name: '', arguments: '' }
    const call = calls[i]!
    if (delta!.id !== undefined) call.id = delta!.id
    if (delta!.type !== undefined) call.type = delta!.type
    const fn = delta!.function as Record<string, unknown> | undefined
    if (typeof fn?.name === 'string') call.name += fn.name
    if (typeof fn?.arguments === 'string') call.arguments += fn.arguments
  }
}

/** A stream's logprobs chunks joined into one `{ content: [...] }` (chat) or legacy object. */
function mergeLogprobs(parts: unknown[]): unknown {
  if (parts.length === 1) return parts[0]
  const content: unknown[] = []
  for (const p of parts) {
    const c = (p as Record<string, unknown>).content
    if (Array.isArray(c)) content.push(...c)
  }
  return { content, refusal: null }
}

/**
 * The checks a client makes alone with the model's tokenizer and template (no chain, no
 * re-execution): the bundle verifies (miner's signature, request and output hashes, the caller's
 * signed call with the receipt's nonce); the prompt tokens are exactly the rendering of the
 * messages or text the request carries, and the stop tokens the model's; the text shown is
 * exactly the decoding of the signed tokens, cut at the first stop string; a stream's chunks name
 * exactly those tokens; the finish reason follows from them.
 */
export async function checkSavedResponse(
  saved: SavedResponse,
  renderer: PromptRenderer,
): Promise<Mismatch[]> {
  const { bundle, shown } = saved
  const out: Mismatch[] = []
  try {
    await verifyBundle(bundle)
  } catch (error) {
    const problem = error instanceof BaseError ? error.shortMessage : String(error)
    const field = /requestHash|modelRoot does not match/.test(problem)
      ? 'request'
      : /outputHash/.test(problem)
        ? 'tokens'
        : /call|nonce/.test(problem)
          ? 'call'
          : 'receipt'
    out.push({ field, problem })
    return out
  }
  const { request, tokens } = bundle
  if (shown && request.prompt === undefined)
    out.push({
      field: 'request.prompt',
      problem: 'the request does not say what its prompt tokens were made from',
    })
  try {
    assertPromptTokens(renderer, request)
  } catch (error) {
    out.push({
      field: 'request.promptTokens',
      problem: error instanceof BaseError ? error.shortMessage : String(error),
    })
  }
  if (shown) {
    const expectStop = defaultStopTokens(renderer.tokenizer)
    if (request.stopTokens.join() !== expectStop.join())
      out.push({
        field: 'request.stopTokens',
        problem: `[${request.stopTokens}] are not the model's stop tokens [${expectStop}]`,
      })
    const { text, hitStop } = finalText(renderer.tokenizer, tokens, request.stop)
    const last = tokens[tokens.length - 1]
    let finish: FinishReason | 'tool_calls' =
      hitStop || (last !== undefined && request.stopTokens.includes(last)) ? 'stop' : 'length'
    if (shown.toolCalls === undefined) {
      if (shown.text !== text) out.push({ field: shown.field, problem: diffText(shown.text, text) })
    } else {
      const { mismatches, calls } = checkShownToolCalls(
        shown,
        text,
        request,
        bundle.receipt.requestHash,
        renderer,
      )
      out.push(...mismatches)
      if (calls && finish === 'stop') finish = 'tool_calls'
    }
    if (shown.finishReason !== undefined && shown.finishReason !== finish)
      out.push({
        field: 'finish_reason',
        problem: `'${shown.finishReason}', but the signed tokens end with '${finish}'`,
      })
    if (shown.streamTokens && shown.streamTokens.join() !== tokens.join())
      out.push({
        field: 'stream verity.tokens',
        problem: `the chunks named ${shown.streamTokens.length} tokens that are not the ${tokens.length} signed ones`,
      })
  }
  return out
}

/**
 * An answer shown as tool calls: the signed text must read as exactly these calls (same parse as
 * the gateway's, src/verify/tool-calls.ts, with the ids derived from the requestHash) and the
 * content shown must be the text before them. A gateway that edits a call's name or arguments,
 * invents a call, or drops one fails here.
 */
function checkShownToolCalls(
  shown: ShownAnswer,
  text: string,
  request: InferenceRequest,
  requestHash: Hex,
  renderer: PromptRenderer,
): { mismatches: Mismatch[]; calls: boolean } {
  const field = shown.field.replace(/content$/, 'tool_calls')
  const tools = request.prompt?.kind === 'chat' ? request.prompt.tools : undefined
  const template = renderer.template
  const format = template instanceof Error ? undefined : toolCallFormat(template.source)
  if (tools === undefined || format === undefined)
    return {
      mismatches: [
        {
          field,
          problem: 'tool calls were shown, but the request has no tools the model can call',
        },
      ],
      calls: false,
    }
  const names = new Set(
    (JSON.parse(tools) as { function: { name: string } }[]).map((t) => t.function.name),
  )
  const parsed = parseToolCalls(text, format, names)
  if (!parsed)
    return {
      mismatches: [
        { field, problem: 'tool calls were shown, but the signed text is not a tool call' },
      ],
      calls: false,
    }
  const out: Mismatch[] = []
  const expected = JSON.stringify(shownToolCalls(requestHash, parsed.calls))
  const got = JSON.stringify(
    shown.toolCalls!.map((c) => {
      const call = c as { id?: unknown; type?: unknown; function?: Record<string, unknown> }
      return {
        id: call.id,
        type: call.type,
        function: { name: call.function?.name, arguments: call.function?.arguments },
      }
    }),
  )
  if (got !== expected)
    out.push({
      field,
      problem: `are not the calls the signed text makes: shown ${got.slice(0, 200)}, signed ${expected.slice(0, 200)}`,
    })
  if (shown.text !== parsed.content)
    out.push({ field: shown.field, problem: diffText(shown.text, parsed.content) })
  return { mismatches: out, calls: true }
}

function diffText(shown: string, signed: string): string {
  let i = 0
  while (i < shown.length && i < signed.length && shown[i] === signed[i]) i++
  const at = (s: string) => JSON.stringify(s.slice(i, i + 24))
  return `the text shown is not the decoding of the signed tokens: from character ${i}, shown ${at(shown)}, signed ${at(signed)}`
}

/**
 * The choices of one response are one request: every choice's request equals choice 0's but for
 * its seed, which is `choiceSeed(seed of choice 0, i)`. A gateway cannot run extra draws and show
 * the ones it likes, nor mix requests.
 */
export function checkChoices(requests: readonly InferenceRequest[]): Mismatch[] {
  const out: Mismatch[] = []
  const first = requests[0]
  if (first === undefined) return out
  requests.forEach((r, i) => {
    if (i === 0) return
    const expected = choiceSeed(first.seed, i)
    if (r.seed !== expected)
      out.push({
        field: `choices[${i}] request.seed`,
        problem: `${r.seed}, but choice ${i} of seed ${first.seed} must run with ${expected}`,
      })
    let same = false
    try {
      same = requestHash({ ...r, seed: first.seed }) === requestHash(first)
    } catch {}
    if (!same)
      out.push({
        field: `choices[${i}] request`,
        problem: 'differs from choice 0 in more than its seed',
      })
  })
  return out
}

/**
 * Compares the logprobs a response showed with those re-execution computed (exact: both are
 * Q16 values written as numbers, which convert exactly). Absent on both sides passes.
 */
export function checkShownLogprobs(
  tokenizer: Tokenizer,
  shown: ShownAnswer | undefined,
  tokens: readonly number[],
  local: readonly StepLogprobs[] | undefined,
): Mismatch[] {
  if (!shown) return []
  const field = shown.field.replace(
    /(message\.content|text|stream delta\.content|stream text)$/,
    'logprobs',
  )
  if (shown.logprobs === undefined && local === undefined) return []
  if (shown.logprobs === undefined)
    return [{ field, problem: 'the request asked for logprobs and none were shown' }]
  if (local === undefined)
    return [{ field, problem: 'logprobs were shown, but the request did not ask for them' }]
  const expected = JSON.stringify(
    shown.kind === 'chat'
      ? chatLogprobs(tokenizer, tokens, local)
      : textLogprobs(tokenizer, tokens, local),
  )
  const got = JSON.stringify(shown.logprobs)
  if (expected === got) return []
  let i = 0
  while (i < got.length && got[i] === expected[i]) i++
  return [
    {
      field,
      problem: `are not the model's: from character ${i}, shown ${JSON.stringify(got.slice(i, i + 40))}, computed ${JSON.stringify(expected.slice(i, i + 40))}`,
    },
  ]
}
