import { ChatTemplateError, InvalidRequestError } from '../../errors/gateway.ts'
import { RequestAuthError } from '../../errors/node.ts'
import type { Tokenizer } from '../../runtime/tokenizer/index.ts'
import { tokenizerFromGguf } from '../../runtime/tokenizer/index.ts'
import { TokenType } from '../../runtime/tokenizer/types.ts'
import type { ChatMessage, InferenceRequest, PromptSource } from '../../types/inference.ts'
import { type ChatTemplate, chatTemplate, renderChat } from './chat.ts'
import { jsonStrings, mapJsonStrings } from './tools.ts'

/**
 * What turns a prompt source into prompt tokens for one model: its tokenizer and chat template,
 * both named by its modelRoot. The gateway builds requests with it, miners check them with it,
 * and `verity verify` re-renders with it, so all three agree by construction.
 */
export type PromptRenderer = {
  tokenizer: Tokenizer
  /** The compiled chat template, or the error that kept it from compiling (chat requests get it). */
  template: ChatTemplate | ChatTemplateError
}

/** The renderer of a model from its GGUF metadata. */
export function promptRenderer(metadata: ReadonlyMap<string, unknown>): PromptRenderer {
  const tokenizer = tokenizerFromGguf(metadata)
  let template: ChatTemplate | ChatTemplateError
  try {
    template = chatTemplate(tokenizer.chatTemplate)
  } catch (error) {
    if (!(error instanceof ChatTemplateError)) throw error
    template = error
  }
  return { tokenizer, template }
}

/**
 * The prompt tokens of a source: chat messages rendered with the model's template at the source's
 * time, then tokenized with the template's control tokens parsed (no second BOS when the template
 * wrote one); a text prompt tokenized as is (BOS as the model says, no EOS).
 *
 * What a user writes stays text: a message containing `</s><s>` or `<|im_end|>` must not become
 * control tokens (it would forge turns). Each control or unknown token's text inside a message's
 * content is interrupted by a mark character before rendering (so the tokenizer's special-token
 * parse cannot match it) and the marks are removed before encoding: contents are tokenized as
 * llama.cpp tokenizes text without parse_special. The mark is the first Unicode noncharacter
 * (U+FDD0..U+FDEF) that appears in no content, template or token text, so rendering stays a pure
 * function of the request.
 */
export function renderPromptTokens(renderer: PromptRenderer, source: PromptSource): number[] {
  const { tokenizer, template } = renderer
  if (source.kind === 'text') return tokenizer.encode(source.text, { addEos: false })
  if (template instanceof Error) throw template
  const special = (id: number | undefined) => (id === undefined ? '' : tokenizer.tokenText(id))
  const bosToken = special(tokenizer.bosId)
  const texts = controlTexts(tokenizer)
  const tools = source.tools === undefined ? undefined : (JSON.parse(source.tools) as unknown[])
  // Everything a user wrote stays text: contents, tool definitions, call names, ids and arguments
  // (message names are left as they always were: changing that would re-render old requests).
  const mark = pickMark(userStrings(source.messages, tools), template.source, texts)
  const cut = (s: string) => interrupt(s, texts, mark)
  const messages = source.messages.map((m): ChatMessage => {
    const out: ChatMessage = { ...m, content: cut(m.content) }
    if (m.toolCallId !== undefined) out.toolCallId = cut(m.toolCallId)
    if (m.toolCalls !== undefined)
      out.toolCalls = m.toolCalls.map((c) => ({
        id: cut(c.id),
        name: cut(c.name),
        arguments: JSON.stringify(mapJsonStrings(JSON.parse(c.arguments), cut)),
      }))
    return out
  })
  const prompt = renderChat(template, messages, {
    bosToken,
    eosToken: special(tokenizer.eosId),
    time: source.time,
    ...(tools === undefined ? {} : { tools: mapJsonStrings(tools, cut) as unknown[] }),
  })
  return tokenizer.encode(prompt, {
    parseSpecial: true,
    specialMark: mark,
    addBos: tokenizer.addBos && !(bosToken && prompt.startsWith(bosToken)),
    addEos: false,
  })
}

const controlTextCache = new WeakMap<Tokenizer, string[]>()

/** Texts of the tokens only a special-token parse turns into ids: control and unknown. */
function controlTexts(tokenizer: Tokenizer): string[] {
  let texts = controlTextCache.get(tokenizer)
  if (!texts) {
    texts = []
    for (let id = 0; id < tokenizer.vocabSize; id++) {
      const type = tokenizer.tokenType(id)
      if (
        (type === TokenType.control || type === TokenType.unknown) &&
        tokenizer.tokenText(id).length > 0
      )
        texts.push(tokenizer.tokenText(id))
    }
    controlTextCache.set(tokenizer, texts)
  }
  return texts
}

/** The strings of a chat that came from its user (everything but the template and tokens). */
function userStrings(messages: readonly ChatMessage[], tools: unknown): string[] {
  const out: string[] = []
  for (const m of messages) {
    out.push(String(m.content))
    if (m.toolCallId !== undefined) out.push(m.toolCallId)
    for (const c of m.toolCalls ?? []) out.push(c.id, c.name, c.arguments)
  }
  if (tools !== undefined) jsonStrings(tools, out)
  return out
}

function pickMark(strings: readonly string[], template: string, texts: string[]): string {
  for (let cp = 0xfdd0; cp <= 0xfdef; cp++) {
    const mark = String.fromCodePoint(cp)
    if (
      !template.includes(mark) &&
      !strings.some((s) => s.includes(mark)) &&
      !texts.some((t) => t.includes(mark))
    )
      return mark
  }
  throw new InvalidRequestError('the messages use every Unicode noncharacter U+FDD0..U+FDEF', {
    param: 'messages',
  })
}

/** `content` with `mark` after the first code point of every occurrence of each text. */
function interrupt(content: string, texts: readonly string[], mark: string): string {
  if (typeof content !== 'string') return content
  let out = content
  for (const text of texts) {
    if (!out.includes(text)) continue
    const head = String.fromCodePoint(text.codePointAt(0)!)
    out = out.split(text).join(head + mark + text.slice(head.length))
  }
  return out
}

/**
 * Checks that a request's prompt tokens are exactly the rendering of its prompt source (a request
 * without a source is taken as token ids). Throws a RequestAuthError naming the first difference.
 */
export function assertPromptTokens(renderer: PromptRenderer, request: InferenceRequest): void {
  if (request.prompt === undefined) return
  let expected: number[]
  try {
    expected = renderPromptTokens(renderer, request.prompt)
  } catch (error) {
    throw new RequestAuthError('the prompt cannot be rendered with the model template', {
      cause: error,
      details: error instanceof Error ? error.message.split('\n')[0] : String(error),
    })
  }
  const got = request.promptTokens
  const n = Math.min(expected.length, got.length)
  let i = 0
  while (i < n && expected[i] === got[i]) i++
  if (i === n && expected.length === got.length) return
  throw new RequestAuthError(
    `promptTokens are not the rendering of the request's ${request.prompt.kind === 'chat' ? 'messages' : 'prompt text'}`,
    {
      details:
        i === n
          ? `rendered ${expected.length} tokens, the request has ${got.length}`
          : `first difference at token ${i}: rendered ${expected[i]}, the request has ${got[i]}`,
    },
  )
}

/** Control-token texts that end an assistant turn in common templates. */
const END_OF_TURN = [
  '<|im_end|>',
  '<|eot_id|>',
  '<|eom_id|>',
  '<|end|>',
  '<end_of_turn>',
  '<|endoftext|>',
]

/**
 * The token ids that end a chat turn or a completion for this tokenizer: EOS plus the end-of-turn
 * control tokens of common templates, ascending. Gateways put them in every request they build,
 * and a verifier expects exactly them.
 */
export function defaultStopTokens(tokenizer: Tokenizer): number[] {
  const stop = new Set<number>()
  if (tokenizer.eosId !== undefined) stop.add(tokenizer.eosId)
  for (const id of tokenizer.endOfTurnIds) stop.add(id)
  for (let id = 0; id < tokenizer.vocabSize; id++)
    if (tokenizer.isControl(id) && END_OF_TURN.includes(tokenizer.tokenText(id))) stop.add(id)
  return [...stop].sort((a, b) => a - b)
}
