import { BaseError } from '../errors/base.ts'
import { ReceiptError } from '../errors/node.ts'
import type { FinishReason } from '../types/inference.ts'
import { parseReceiptBundle, type ReceiptBundle, verifyBundle } from './bundle.ts'
import { assertPromptTokens, defaultStopTokens, type PromptRenderer } from './prompt/render.ts'
import { finalText } from './text.ts'

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
  const bundle = parseReceiptBundle(body)
  if (body.verity === undefined) return { bundle, shown: undefined }
  const choices = body.choices
  if (!Array.isArray(choices) || choices.length !== 1)
    throw new ReceiptError("the response must have exactly one entry in 'choices'")
  const choice = choices[0] as Record<string, unknown>
  const finishReason = typeof choice.finish_reason === 'string' ? choice.finish_reason : undefined
  if (body.object === 'chat.completion') {
    const message = choice.message as Record<string, unknown> | undefined
    if (typeof message?.content !== 'string')
      throw new ReceiptError("'choices[0].message.content' is missing")
    return {
      bundle,
      shown: {
        kind: 'chat',
        field: 'choices[0].message.content',
        text: message.content,
        finishReason,
      },
    }
  }
  if (body.object === 'text_completion') {
    if (typeof choice.text !== 'string') throw new ReceiptError("'choices[0].text' is missing")
    return {
      bundle,
      shown: { kind: 'text', field: 'choices[0].text', text: choice.text, finishReason },
    }
  }
  throw new ReceiptError(`unknown response object ${JSON.stringify(body.object)}`)
}

function parseStream(text: string): SavedResponse {
  let content = ''
  let kind: 'chat' | 'text' | undefined
  let finishReason: string | undefined
  const streamTokens: number[] = []
  let final: Record<string, unknown> | undefined
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
      const piece =
        kind === 'chat' ? (c.delta as Record<string, unknown> | undefined)?.content : c.text
      if (typeof piece === 'string') content += piece
      if (typeof c.finish_reason === 'string') finishReason = c.finish_reason
    }
    const verity = chunk.verity as Record<string, unknown> | undefined
    if (verity?.receipt !== undefined) final = verity
    if (Array.isArray(verity?.tokens) && verity.receipt === undefined)
      streamTokens.push(...(verity.tokens as number[]))
  }
  if (!final) throw new ReceiptError('the stream has no chunk with the receipt (was it cut short?)')
  if (!kind) throw new ReceiptError('the stream has no completion chunks')
  return {
    bundle: parseReceiptBundle(final),
    shown: {
      kind,
      field: kind === 'chat' ? 'stream delta.content' : 'stream text',
      text: content,
      finishReason,
      streamTokens,
    },
  }
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
    if (shown.text !== text) out.push({ field: shown.field, problem: diffText(shown.text, text) })
    const last = tokens[tokens.length - 1]
    const finish: FinishReason =
      hitStop || (last !== undefined && request.stopTokens.includes(last)) ? 'stop' : 'length'
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

function diffText(shown: string, signed: string): string {
  let i = 0
  while (i < shown.length && i < signed.length && shown[i] === signed[i]) i++
  const at = (s: string) => JSON.stringify(s.slice(i, i + 24))
  return `the text shown is not the decoding of the signed tokens: from character ${i}, shown ${at(shown)}, signed ${at(signed)}`
}
