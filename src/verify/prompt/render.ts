import { ChatTemplateError } from '../../errors/gateway.ts'
import { RequestAuthError } from '../../errors/node.ts'
import type { Tokenizer } from '../../runtime/tokenizer/index.ts'
import { tokenizerFromGguf } from '../../runtime/tokenizer/index.ts'
import type { InferenceRequest, PromptSource } from '../../types/inference.ts'
import { type ChatTemplate, chatTemplate, renderChat } from './chat.ts'

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
 * time, then tokenized with control tokens parsed (no second BOS when the template wrote one);
 * a text prompt tokenized as is (BOS as the model says, no EOS).
 */
export function renderPromptTokens(renderer: PromptRenderer, source: PromptSource): number[] {
  const { tokenizer, template } = renderer
  if (source.kind === 'text') return tokenizer.encode(source.text, { addEos: false })
  if (template instanceof Error) throw template
  const special = (id: number | undefined) => (id === undefined ? '' : tokenizer.tokenText(id))
  const bosToken = special(tokenizer.bosId)
  const prompt = renderChat(template, source.messages, {
    bosToken,
    eosToken: special(tokenizer.eosId),
    time: source.time,
  })
  return tokenizer.encode(prompt, {
    parseSpecial: true,
    addBos: tokenizer.addBos && !(bosToken && prompt.startsWith(bosToken)),
    addEos: false,
  })
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
const END_OF_TURN = ['<|im_end|>', '<|eot_id|>', '<|end|>', '<end_of_turn>', '<|endoftext|>']

/**
 * The token ids that end a chat turn or a completion for this tokenizer: EOS plus the end-of-turn
 * control tokens of common templates, ascending. Gateways put them in every request they build,
 * and a verifier expects exactly them.
 */
export function defaultStopTokens(tokenizer: Tokenizer): number[] {
  const stop = new Set<number>()
  if (tokenizer.eosId !== undefined) stop.add(tokenizer.eosId)
  for (let id = 0; id < tokenizer.vocabSize; id++)
    if (tokenizer.isControl(id) && END_OF_TURN.includes(tokenizer.tokenText(id))) stop.add(id)
  return [...stop].sort((a, b) => a - b)
}
