import { InvalidRequestError } from '../../errors/gateway.ts'
import { DEFAULT_CHAT_TEMPLATE } from '../../runtime/tokenizer/identity.ts'
import type { ChatMessage } from '../../types/inference.ts'
import { type CompiledTemplate, compileTemplate, strftime } from './jinja.ts'
import { templateMessages } from './tools.ts'

export type { ChatMessage }
export { DEFAULT_CHAT_TEMPLATE }

export type ChatTemplate = {
  source: string
  /** True when the model had no template and the default is used. */
  isDefault: boolean
  render: CompiledTemplate
}

/** Compiles the model's template (or the default); a ChatTemplateError if it cannot be handled. */
export function chatTemplate(source: string | undefined): ChatTemplate {
  const text = source ?? DEFAULT_CHAT_TEMPLATE
  return { source: text, isDefault: source === undefined, render: compileTemplate(text) }
}

export type RenderChatOptions = {
  bosToken: string
  eosToken: string
  /** Unix seconds a template's `strftime_now` reads: the request commits to it. */
  time: number
  addGenerationPrompt?: boolean
  /** OpenAI `tools`, parsed (a chat with tools); absent = the template sees `tools` undefined. */
  tools?: unknown[]
}

/**
 * Renders messages into the prompt text, as `apply_chat_template(add_generation_prompt=True)`;
 * tool calls and tool results in the shape Hugging Face templates expect (templateMessages).
 */
export function renderChat(
  template: ChatTemplate,
  messages: readonly ChatMessage[],
  options: RenderChatOptions,
): string {
  if (messages.length === 0)
    throw new InvalidRequestError('messages must contain at least one message', {
      param: 'messages',
    })
  const clock = new Date(options.time * 1000)
  return template.render({
    messages: templateMessages(messages),
    add_generation_prompt: options.addGenerationPrompt ?? true,
    bos_token: options.bosToken,
    eos_token: options.eosToken,
    tools: options.tools,
    strftime_now: (format: unknown) => strftime(String(format), clock),
  })
}
