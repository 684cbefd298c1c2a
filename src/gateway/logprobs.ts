import type { InferenceRequest } from '../types/inference.ts'
import type { RoutedEvent } from './execute.ts'
import type { ServedModel } from './model.ts'

/** A choice's OpenAI `logprobs` (null when the request did not ask for them). */
export function choiceLogprobs(
  _model: ServedModel,
  _kind: 'chat' | 'text',
  request: InferenceRequest,
  _done: RoutedEvent & { type: 'done' },
  _text: string,
): unknown {
  if (request.logprobs === undefined) return null
  return null
}
