import { BaseError } from '../errors/base.ts'
import { samplingParams } from '../runtime/sampler/sample.ts'
import type { InferenceRequest } from '../types/inference.ts'
import { choiceSeed } from '../verify/choice.ts'
import type { Mismatch } from '../verify/response.ts'
import { parseChatRequest, parseCompletionRequest, parseJsonBody } from './params.ts'

/**
 * Compares the body a client sent with the request the miner was asked to run: the messages (or
 * prompt), the sampling parameters, the length and the seed when the client set them, the stop
 * strings, the response format. A gateway that injected a system prompt, changed the temperature,
 * dropped a stop string or a response format is caught here; `kind` says which endpoint the body was for.
 */
export function checkSentBody(
  text: string,
  kind: 'chat' | 'text',
  request: InferenceRequest,
  choice: { index: number; choices: number } = { index: 0, choices: 1 },
): Mismatch[] {
  let input: ReturnType<typeof parseChatRequest> | ReturnType<typeof parseCompletionRequest>
  try {
    const body = parseJsonBody(text)
    input = kind === 'chat' ? parseChatRequest(body) : parseCompletionRequest(body)
  } catch (error) {
    return [
      {
        field: 'sent request',
        problem: `cannot be read: ${error instanceof BaseError ? error.shortMessage : String(error)}`,
      },
    ]
  }
  const out: Mismatch[] = []
  const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b)
  if ('messages' in input) {
    const committed = request.prompt?.kind === 'chat' ? request.prompt.messages : undefined
    const equal =
      committed !== undefined &&
      committed.length === input.messages.length &&
      input.messages.every(
        (m, i) =>
          m.role === committed[i]!.role &&
          m.content === committed[i]!.content &&
          m.name === committed[i]!.name &&
          m.toolCallId === committed[i]!.toolCallId &&
          same(m.toolCalls, committed[i]!.toolCalls),
      )
    if (!equal)
      out.push({
        field: 'request.prompt.messages',
        problem: 'the messages the miner ran are not the messages sent',
      })
    const tools = request.prompt?.kind === 'chat' ? request.prompt.tools : undefined
    if (tools !== input.tools?.text)
      out.push({
        field: 'request.prompt.tools',
        problem: 'the tools the miner ran with are not the tools sent',
      })
  } else if (typeof input.prompt === 'string') {
    if (request.prompt?.kind !== 'text' || request.prompt.text !== input.prompt)
      out.push({
        field: 'request.prompt.text',
        problem: 'the prompt the miner ran is not the prompt sent',
      })
  } else if (request.prompt !== undefined || !same(input.prompt, request.promptTokens))
    out.push({
      field: 'request.promptTokens',
      problem: 'the token ids the miner ran are not the ones sent',
    })
  const params = samplingParams({
    temperature: input.temperature,
    topP: input.topP,
    topK: input.topK,
    logitBias: input.logitBias,
    presencePenalty: input.presencePenalty,
    frequencyPenalty: input.frequencyPenalty,
  })
  const committed = request.params
  if (
    params.temperatureMilli !== committed.temperatureMilli ||
    params.topK !== committed.topK ||
    params.topPMilli !== committed.topPMilli ||
    !same(params.logitBias ?? [], committed.logitBias ?? []) ||
    (params.presencePenaltyMilli ?? 0) !== (committed.presencePenaltyMilli ?? 0) ||
    (params.frequencyPenaltyMilli ?? 0) !== (committed.frequencyPenaltyMilli ?? 0)
  )
    out.push({
      field: 'request.params',
      problem: `${JSON.stringify(request.params)}, the parameters sent give ${JSON.stringify(params)}`,
    })
  if (input.maxTokens !== undefined && input.maxTokens !== request.maxTokens)
    out.push({
      field: 'request.maxTokens',
      problem: `${request.maxTokens}, sent ${input.maxTokens}`,
    })
  if (input.seed !== undefined && choiceSeed(input.seed, choice.index) !== request.seed)
    out.push({
      field: 'request.seed',
      problem: `${request.seed}, sent ${input.seed}${choice.index > 0 ? ` (choice ${choice.index} runs with ${choiceSeed(input.seed, choice.index)})` : ''}`,
    })
  if (input.n !== choice.choices)
    out.push({ field: 'n', problem: `${choice.choices} choices answered, ${input.n} asked for` })
  if (input.logprobs !== request.logprobs)
    out.push({
      field: 'request.logprobs',
      problem: `${JSON.stringify(request.logprobs ?? null)}, sent ${JSON.stringify(input.logprobs ?? null)}`,
    })
  // A gateway that dropped or changed the format would get an unconstrained (or other) answer
  // whose receipt verifies for what it ran: the sent body says what was asked.
  const format = 'messages' in input ? input.responseFormat : undefined
  if (!same(format ?? null, request.responseFormat ?? null))
    out.push({
      field: 'request.responseFormat',
      problem: `${JSON.stringify(request.responseFormat ?? null)}, sent ${JSON.stringify(format ?? null)}`,
    })
  if (!same(input.stop, request.stop))
    out.push({
      field: 'request.stop',
      problem: `${JSON.stringify(request.stop)}, sent ${JSON.stringify(input.stop)}`,
    })
  return out
}
