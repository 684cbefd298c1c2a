import type { ChatTemplateError } from '../errors/gateway.ts'
import type { Model } from '../runtime/model/load.ts'
import type { Tokenizer } from '../runtime/tokenizer/index.ts'
import { toHex } from '../runtime/trace/merkle.ts'
import type { Hex } from '../types/inference.ts'
import type { ChatTemplate } from '../verify/prompt/chat.ts'
import { defaultStopTokens, type PromptRenderer, promptRenderer } from '../verify/prompt/render.ts'

/** What the gateway needs to know about a model it serves (miners need the weights; it does not). */
export type ServedModel = {
  /** The OpenAI `model` id clients send. */
  id: string
  modelRoot: Hex
  contextLength: number
  tokenizer: Tokenizer
  /** The compiled chat template, or the error that kept it from compiling (chat requests get it). */
  chatTemplate: ChatTemplate | ChatTemplateError
  /** Tokenizer and template together: what renders a prompt source into the request's tokens. */
  renderer: PromptRenderer
  /** Token ids that end a chat turn or a completion: EOS plus end-of-turn control tokens. */
  stopTokens: number[]
  /** Unix seconds, for `/v1/models`. */
  created: number
  ownedBy: string
}

export type DescribeModelParameters = {
  /** The OpenAI model id; defaults to the GGUF `general.name`. */
  id?: string
  metadata: ReadonlyMap<string, unknown>
  contextLength: number
  modelRoot: Hex
  created?: number
  ownedBy?: string
}

/**
 * Describes a model from its GGUF metadata, context length and modelRoot. The chat template is
 * always the file's (or the default when it has none): modelRoot names it, and a client checks
 * its answer by rendering the messages with exactly that template.
 */
export function describeModel(parameters: DescribeModelParameters): ServedModel {
  const renderer = promptRenderer(parameters.metadata)
  const { tokenizer, template } = renderer
  const name = parameters.metadata.get('general.name')
  return {
    id: parameters.id ?? (typeof name === 'string' && name ? name : parameters.modelRoot),
    modelRoot: parameters.modelRoot,
    contextLength: parameters.contextLength,
    tokenizer,
    chatTemplate: template,
    renderer,
    stopTokens: defaultStopTokens(tokenizer),
    created: parameters.created ?? 0,
    ownedBy: parameters.ownedBy ?? 'verity',
  }
}

/** Describes a loaded runtime model. */
export function describeLoadedModel(
  model: Model,
  options: Omit<DescribeModelParameters, 'metadata' | 'contextLength' | 'modelRoot'> = {},
): ServedModel {
  return describeModel({
    ...options,
    metadata: model.metadata,
    contextLength: model.config.contextLength,
    modelRoot: toHex(model.modelRoot),
  })
}
