import { ContextLengthError, InvalidRequestError } from '../errors/gateway.ts'
import { samplingParams } from '../runtime/sampler/sample.ts'
import type { InferenceRequest, PromptSource, ResponseFormat } from '../types/inference.ts'
import { renderPromptTokens } from '../verify/prompt/render.ts'
import { templateSupportsTools, toolCallFormat } from '../verify/prompt/tools.ts'
import type { ServedModel } from './model.ts'
import type { ChatInput, CompletionInput, SamplingInput } from './params.ts'
import { forcesCall } from './tool-choice.ts'

/** What a gateway decides for itself when a request leaves it open. */
export type RequestDefaults = {
  /** Completion length when the request sets none (capped by the context). */
  maxTokens: number
  /** The seed when the request gives none. */
  chooseSeed: () => number
  /** Unix milliseconds: the render time a chat request commits to. */
  now: number
}

/** The InferenceRequest for a prompt: context checks, default length, a seed when none was given. */
export function buildRequest(
  model: ServedModel,
  input: SamplingInput & { responseFormat?: ResponseFormat },
  source: { prompt?: PromptSource; promptTokens: number[] },
  defaults: Pick<RequestDefaults, 'maxTokens' | 'chooseSeed'>,
  promptParam: string,
): InferenceRequest {
  const { promptTokens } = source
  const context = model.contextLength
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
  const vocab = model.tokenizer.vocabSize
  for (const key of Object.keys(input.logitBias ?? {}))
    if (Number(key) >= vocab)
      throw new InvalidRequestError(
        `'logit_bias' names token ${key}, outside the vocabulary (0..${vocab - 1})`,
        { param: 'logit_bias' },
      )
  return {
    modelRoot: model.modelRoot,
    ...(source.prompt === undefined ? {} : { prompt: source.prompt }),
    promptTokens,
    maxTokens: input.maxTokens ?? Math.min(defaults.maxTokens, room),
    params: samplingParams({
      temperature: input.temperature,
      topP: input.topP,
      topK: input.topK,
      logitBias: input.logitBias,
      presencePenalty: input.presencePenalty,
      frequencyPenalty: input.frequencyPenalty,
    }),
    seed: input.seed ?? defaults.chooseSeed(),
    stopTokens: model.stopTokens,
    stop: input.stop,
    ...(input.logprobs === undefined ? {} : { logprobs: input.logprobs }),
    ...(input.responseFormat === undefined ? {} : { responseFormat: input.responseFormat }),
  }
}

/**
 * The InferenceRequest of a chat completion: the messages rendered with the model's chat template
 * at `now`, which the request commits to with the messages, so anyone can re-render them. Tools
 * are rendered whatever `tool_choice` says (as OpenAI and vLLM do: 'none' only means the answer is
 * not read as calls), and only with a template that renders tools.
 */
export function chatRequest(
  model: ServedModel,
  input: ChatInput,
  defaults: RequestDefaults,
): InferenceRequest {
  const prompt: PromptSource = {
    kind: 'chat',
    messages: input.messages,
    time: Math.floor(defaults.now / 1000),
  }
  if (input.tools) {
    // A template that never mentions tools would drop them silently: the model would not know them.
    const { template } = model.renderer
    if (!(template instanceof Error) && !templateSupportsTools(template.source))
      throw new InvalidRequestError(
        `model ${model.id}'s chat template has no tools: it cannot be sent 'tools'`,
        { param: 'tools', code: 'tools_unsupported' },
      )
    prompt.tools = input.tools.text
    // A forced call is constrained JSON: only a template whose calls are bare JSON can take it.
    if (forcesCall(input.tools) && !(template instanceof Error)) {
      const format = toolCallFormat(template.source)
      if (format !== 'llama3')
        throw new InvalidRequestError(
          `model ${model.id}'s tool calls are in the ${format ?? 'unknown'} format, which this gateway cannot force: 'tool_choice' may be 'auto' or 'none'`,
          { param: 'tool_choice', code: 'tool_choice_unsupported' },
        )
    }
  }
  const promptTokens = renderPromptTokens(model.renderer, prompt)
  if (promptTokens.length === 0)
    throw new InvalidRequestError('the rendered prompt is empty', { param: 'messages' })
  return buildRequest(model, input, { prompt, promptTokens }, defaults, 'messages')
}

/** OpenAI's default `max_tokens` for the legacy completions endpoint. */
export const COMPLETIONS_DEFAULT_MAX_TOKENS = 16

/** The InferenceRequest of a (legacy) completion: a text prompt tokenized as is, or token ids. */
export function completionRequest(
  model: ServedModel,
  input: CompletionInput,
  defaults: Omit<RequestDefaults, 'maxTokens' | 'now'>,
): InferenceRequest {
  const { tokenizer } = model
  let promptTokens: number[]
  let prompt: PromptSource | undefined
  if (typeof input.prompt === 'string') {
    prompt = { kind: 'text', text: input.prompt }
    promptTokens = renderPromptTokens(model.renderer, prompt)
  } else {
    const bad = input.prompt.find((t) => t >= tokenizer.vocabSize)
    if (bad !== undefined)
      throw new InvalidRequestError(
        `prompt token ${bad} is outside the vocabulary (0..${tokenizer.vocabSize - 1})`,
        { param: 'prompt' },
      )
    promptTokens = input.prompt
  }
  if (promptTokens.length === 0)
    throw new InvalidRequestError('the prompt is empty', { param: 'prompt' })
  return buildRequest(
    model,
    input,
    prompt === undefined ? { promptTokens } : { prompt, promptTokens },
    { ...defaults, maxTokens: COMPLETIONS_DEFAULT_MAX_TOKENS },
    'prompt',
  )
}
