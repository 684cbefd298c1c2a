import { GenerationError } from '../errors/runtime.ts'
import { generateSteps } from '../runtime/generate.ts'
import type { Model } from '../runtime/model/load.ts'
import type { Tokenizer } from '../runtime/tokenizer/index.ts'
import { CheckpointHasher } from '../runtime/trace/hasher.ts'
import { toHex } from '../runtime/trace/merkle.ts'
import type { TraceFault } from '../runtime/trace/ops.ts'
import type { FinishReason, Hex, InferenceRequest, StepLogprobs } from '../types/inference.ts'
import { outputHash } from './request.ts'

export type ExecuteResult = {
  /** Every sampled token, including the one that completed a stop token or stop sequence. */
  tokens: number[]
  finishReason: FinishReason
  outputHash: Hex
  traceRoot: Hex
  /** Checkpoints under traceRoot: one per position run (prompt tokens + tokens - 1). */
  traceLeaves: number
  /** One per token when the request asks for logprobs. */
  logprobs?: StepLogprobs[]
}

export type ExecuteOptions = {
  signal?: AbortSignal
  /** A cheater's run: one op output element changed as it is computed (tests, simulations). */
  fault?: TraceFault
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
  options: ExecuteOptions = {},
): Generator<number, ExecuteResult, void> {
  const { signal } = options
  signal?.throwIfAborted()
  if (request.modelRoot.toLowerCase() !== toHex(model.modelRoot))
    throw new GenerationError('the request is for another model', {
      details: `request modelRoot ${request.modelRoot}, served ${toHex(model.modelRoot)}`,
    })
  const hasher = new CheckpointHasher(model)
  const tokens: number[] = []
  const logprobs: StepLogprobs[] = []
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
      ...(request.logprobs === undefined ? {} : { logprobs: request.logprobs }),
      ...(request.responseFormat === undefined ? {} : { responseFormat: request.responseFormat }),
    },
    {
      trace: false,
      sink: hasher,
      onLogprobs: (s) => logprobs.push(s),
      ...(options.fault ? { fault: options.fault } : {}),
    },
  )
  // The runtime's own finish reason, when it ran to its end (a constrained output may end there).
  let ended: FinishReason | undefined
  for (let step = steps.next(); ; step = steps.next()) {
    if (step.done) {
      ended = step.value.finishReason
      break
    }
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
    stopped || ended === 'stop' || (last !== undefined && request.stopTokens.includes(last))
      ? 'stop'
      : 'length'
  return {
    tokens,
    finishReason,
    outputHash: outputHash(tokens),
    traceRoot: toHex(hasher.root()),
    traceLeaves: hasher.count,
    ...(request.logprobs === undefined ? {} : { logprobs }),
  }
}

/** executeSteps run to the end in one go (verifiers, tests). */
export function executeRequest(
  model: Model,
  tokenizer: Tokenizer,
  request: InferenceRequest,
  options: ExecuteOptions & { onToken?: (token: number, index: number) => void } = {},
): ExecuteResult {
  const { onToken, ...rest } = options
  const steps = executeSteps(model, tokenizer, request, rest)
  for (let index = 0; ; index++) {
    const step = steps.next()
    if (step.done) return step.value
    onToken?.(step.value, index)
  }
}

/**
 * executeSteps with a pause on the event loop after every token, so that a serving process
 * streams each token as it is produced and keeps answering other connections meanwhile.
 */
/** Node's setImmediate; a browser has none, so a timer (clamped to a few ms: fine between tokens). */
function yieldToEventLoop(): Promise<void> {
  if (typeof setImmediate === 'function') return new Promise((resolve) => setImmediate(resolve))
  return new Promise((resolve) => setTimeout(resolve, 0))
}

export async function executeRequestAsync(
  model: Model,
  tokenizer: Tokenizer,
  request: InferenceRequest,
  options: ExecuteOptions & {
    onToken?: (token: number, index: number) => void | Promise<void>
  } = {},
): Promise<ExecuteResult> {
  const { onToken, ...rest } = options
  const steps = executeSteps(model, tokenizer, request, rest)
  for (let index = 0; ; index++) {
    const step = steps.next()
    if (step.done) return step.value
    await onToken?.(step.value, index)
    await yieldToEventLoop()
  }
}
