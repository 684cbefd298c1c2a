import { MinerFailedError } from '../errors/gateway.ts'
import type { InferenceRequest } from '../types/inference.ts'
import { chatLogprobs, textLogprobs } from '../verify/logprobs.ts'
import type { RoutedEvent } from './execute.ts'
import type { ServedModel } from './model.ts'

/**
 * A choice's OpenAI `logprobs`: null unless the request asked for them; else the miner's Q16
 * values in the endpoint's shape, one entry per signed token (the token that completed a stop
 * string included). `verity verify --reexecute` recomputes and compares them.
 */
export function choiceLogprobs(
  model: ServedModel,
  kind: 'chat' | 'text',
  request: InferenceRequest,
  done: RoutedEvent & { type: 'done' },
): unknown {
  if (request.logprobs === undefined) return null
  const steps = done.logprobs
  if (!steps || steps.length !== done.tokens.length)
    throw new MinerFailedError('the miner answered without the logprobs the request asks for')
  return kind === 'chat'
    ? chatLogprobs(model.tokenizer, done.tokens, steps)
    : textLogprobs(model.tokenizer, done.tokens, steps)
}
