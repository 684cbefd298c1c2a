import { GenerationError } from '../errors/runtime.ts'
import { generate } from '../runtime/generate.ts'
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

/** Thrown from onToken to end generation early; never escapes executeRequest. */
class StopSignal {}

/**
 * Runs an InferenceRequest exactly as a miner must and a verifier will: the runtime's
 * generation, ended by a stop token, by `maxTokens`, or by the first token after which the
 * decoded output contains one of the text stop sequences. The trace covers exactly the tokens
 * returned, so it equals the trace of a generation with maxTokens = tokens.length.
 * Synchronous work; `signal` is checked between tokens.
 */
export function executeRequest(
  model: Model,
  tokenizer: Tokenizer,
  request: InferenceRequest,
  options: { onToken?: (token: number, index: number) => void; signal?: AbortSignal } = {},
): ExecuteResult {
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
  try {
    generate(
      model,
      {
        promptTokens: request.promptTokens,
        maxTokens: request.maxTokens,
        params: request.params,
        seed: request.seed,
        stopTokens: request.stopTokens,
      },
      {
        trace: false,
        sink: hasher,
        onToken: (token) => {
          tokens.push(token)
          options.onToken?.(token, tokens.length - 1)
          signal?.throwIfAborted()
          if (stops.length > 0 && !request.stopTokens.includes(token)) {
            const text = tokenizer.decode(tokens)
            if (stops.some((s) => text.includes(s))) {
              stopped = true
              throw new StopSignal()
            }
          }
        },
      },
    )
  } catch (error) {
    if (!(error instanceof StopSignal)) throw error
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
