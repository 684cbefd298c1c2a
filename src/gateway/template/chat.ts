import { InvalidRequestError } from '../../errors/gateway.ts'
import { type CompiledTemplate, compileTemplate } from './jinja.ts'

/** One chat message after validation: content already flattened to text. */
export type ChatMessage = { role: string; content: string; name?: string }

/**
 * The template used when a model's GGUF has no `tokenizer.chat_template`: ChatML, as Qwen and many
 * fine-tunes use it. Each message becomes `<|im_start|>{role}\n{content}<|im_end|>\n`, and the
 * generation prompt is `<|im_start|>assistant\n`. When the vocab has `<|im_start|>`/`<|im_end|>`
 * as control tokens they are encoded as those ids; otherwise as plain text.
 */
export const DEFAULT_CHAT_TEMPLATE =
  "{% for message in messages %}{{ '<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n' }}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}"

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
  addGenerationPrompt?: boolean
}

/** Renders messages into the prompt text, as `apply_chat_template(add_generation_prompt=True)`. */
export function renderChat(
  template: ChatTemplate,
  messages: readonly ChatMessage[],
  options: RenderChatOptions,
): string {
  if (messages.length === 0)
    throw new InvalidRequestError('messages must contain at least one message', {
      param: 'messages',
    })
  return template.render({
    messages,
    add_generation_prompt: options.addGenerationPrompt ?? true,
    bos_token: options.bosToken,
    eos_token: options.eosToken,
    tools: undefined,
  })
}
