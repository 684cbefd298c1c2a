import { GenerationError } from '../errors/runtime.ts'
import { generateSteps } from '../runtime/generate.ts'
import type { Model } from '../runtime/model/load.ts'
import type { Tokenizer } from '../runtime/tokenizer/index.ts'
import { TraceHasher } from '../runtime/trace/hasher.ts'
import { toHex } from '../runtime/trace/merkle.ts'
import type { FinishReason, Hex, InferenceRequest } from '../types/inference.ts'
import { outputHash } from './request.ts'

export type ExecuteResult = {
  /** Every sampled token, including the one that completed a stop token or stop sequence. */
  tokens: number[]
  finishReason: FinishReason
  outputHash: Hex
  traceRoot: Hex
  traceLeaves: number
}

/**
 * Runs an InferenceRequest exactly as a miner must and a verifier will: the runtime's
 * generation, ended by a stop token, by `maxTokens`, or by the first token after which the
 * decoded output contains one of the text stop sequences. The trace covers exactly the tokens
 * returned, so it equals the trace of a generation with maxTokens = tokens.length.
 * Yields each token as it is produced; `signal` is checked between tokens.
 */
export function* executeSteps(
  model: Model,
  tokenizer: Tokenizer,
  request: InferenceRequest,
  options: { signal?: AbortSignal } = {},
): Generator<number, ExecuteResult, void> {
  const { signal } = options
  signal?.throwIfAborted()
  if (request.modelRoot.toLowerCase() !== toHex(model.modelRoot))
    throw new GenerationError('the request is for another model', {
      details: `request modelRoot ${request.modelRoot}, served ${toHex(model.modelRoot)}`,
    })
  const hasher = new TraceHasher(model)
  const tokens: number[] = []
  let stopped = false
  const stops = request.stop
  const steps = generateSteps(
    model,
    {
      promptTokens: request.promptTokens,
      maxTokens: request.maxTokens,
      params: request.params,
      seed: request.seed,
      stopTokens: request.stopTokens,
    },
    { trace: false, sink: hasher },
  )
  for (let step = steps.next(); !step.done; step = steps.next()) {
    const token = step.value
    tokens.push(token)
    yield token
    signal?.throwIfAborted()
    if (stops.length > 0 && !request.stopTokens.includes(token)) {
      const text = tokenizer.decode(tokens)
      if (stops.some((s) => text.includes(s))) {
        // Not resuming the runtime's steps ends the generation after this token.
        stopped = true
        break
      }
    }
  }
  const last = tokens[tokens.length - 1]
  const finishReason: FinishReason =
    stopped || (last !== undefined && request.stopTokens.includes(last)) ? 'stop' : 'length'
  return {
    tokens,
    finishReason,
    outputHash: outputHash(tokens),
    traceRoot: toHex(hasher.root()),
    traceLeaves: hasher.count,
  }
}

/** executeSteps run to the end in one go (verifiers, tests). */
export function executeRequest(
  model: Model,
  tokenizer: Tokenizer,
  request: InferenceRequest,
  options: { onToken?: (token: number, index: number) => void; signal?: AbortSignal } = {},
): ExecuteResult {
  const steps = executeSteps(
    model,
    tokenizer,
    request,
    options.signal ? { signal: options.signal } : {},
  )
  for (let index = 0; ; index++) {
    const step = steps.next()
    if (step.done) return step.value
    options.onToken?.(step.value, index)
  }
}

/**
 * executeSteps with a pause on the event loop after every token, so that a serving process
 * streams each token as it is produced and keeps answering other connections meanwhile.
 */
export async function executeRequestAsync(
  model: Model,
  tokenizer: Tokenizer,
  request: InferenceRequest,
  options: {
    onToken?: (token: number, index: number) => void | Promise<void>
    signal?: AbortSignal
  } = {},
): Promise<ExecuteResult> {
  const steps = executeSteps(
    model,
    tokenizer,
    request,
    options.signal ? { signal: options.signal } : {},
  )
  for (let index = 0; ; index++) {
    const step = steps.next()
    if (step.done) return step.value
    await options.onToken?.(step.value, index)
    await new Promise<void>((resolve) => setImmediate(resolve))
  }
}
