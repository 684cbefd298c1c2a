import { ChatTemplateError } from '../errors/gateway.ts'
import type { Model } from '../runtime/model/load.ts'
import { type Tokenizer, tokenizerFromGguf } from '../runtime/tokenizer/index.ts'
import { toHex } from '../runtime/trace/merkle.ts'
import type { Hex } from '../types/inference.ts'
import { type ChatTemplate, chatTemplate } from './template/chat.ts'

/** What the gateway needs to know about a model it serves (miners need the weights; it does not). */
export type ServedModel = {
  /** The OpenAI `model` id clients send. */
  id: string
  modelRoot: Hex
  contextLength: number
  tokenizer: Tokenizer
  /** The compiled chat template, or the error that kept it from compiling (chat requests get it). */
  chatTemplate: ChatTemplate | ChatTemplateError
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
  /** A template to use instead of the GGUF one. */
  chatTemplate?: string
  created?: number
  ownedBy?: string
}

/** Control-token texts that end an assistant turn in common templates. */
const END_OF_TURN = ['<|im_end|>', '<|eot_id|>', '<|end|>', '<end_of_turn>', '<|endoftext|>']

/** Describes a model from its GGUF metadata, context length and modelRoot. */
export function describeModel(parameters: DescribeModelParameters): ServedModel {
  const tokenizer = tokenizerFromGguf(parameters.metadata)
  let template: ChatTemplate | ChatTemplateError
  try {
    template = chatTemplate(parameters.chatTemplate ?? tokenizer.chatTemplate)
  } catch (error) {
    if (!(error instanceof ChatTemplateError)) throw error
    template = error
  }
  const stopTokens = new Set<number>()
  if (tokenizer.eosId !== undefined) stopTokens.add(tokenizer.eosId)
  for (let id = 0; id < tokenizer.vocabSize; id++) {
    if (tokenizer.isControl(id) && END_OF_TURN.includes(tokenizer.tokenText(id))) stopTokens.add(id)
  }
  const name = parameters.metadata.get('general.name')
  return {
    id: parameters.id ?? (typeof name === 'string' && name ? name : parameters.modelRoot),
    modelRoot: parameters.modelRoot,
    contextLength: parameters.contextLength,
    tokenizer,
    chatTemplate: template,
    stopTokens: [...stopTokens],
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
