import { GenerationError } from '../errors/runtime.ts'
import { applyFault, forwardBlock, forwardToken, Sequence } from './forward.ts'
import type { Model } from './model/load.ts'
import { adjustLogits, hasAdjustments } from './sampler/adjust.ts'
import { JsonConstraint, maskHas, type TokenMask } from './sampler/json/constraint.ts'
import { formatNode } from './sampler/json/schema.ts'
import { TokenTrie } from './sampler/json/vocab.ts'
import { type StepLogprobs, stepLogprobs } from './sampler/logprobs.ts'
import { Prng } from './sampler/prng.ts'
import { type SamplingParams, sample } from './sampler/sample.ts'
import { tokenizerFromGguf } from './tokenizer/tokenizer.ts'
import { CheckpointHasher } from './trace/hasher.ts'
import { ALL_KINDS, NO_LAYER, OpKind, type TraceFault, type TraceSink } from './trace/ops.ts'

export type GenerateRequest = {
  promptTokens: readonly number[]
  maxTokens: number
  params: SamplingParams
  seed: number
  /** Token ids that end the generation (the model's end-of-sequence token, usually). */
  stopTokens?: readonly number[]
  /** Log-probabilities with this many top alternatives (0..20) for every token; absent = none. */
  logprobs?: number
  /**
   * OpenAI `response_format` other than text: every sampled token keeps the output a valid prefix
   * of a JSON object (json_object) or of a value the schema allows (json_schema, canonical JSON
   * text), and a stop token is allowed only once it is complete (docs/DETERMINISM.md, "constrained
   * output").
   */
  responseFormat?: { type: 'json_object' } | { type: 'json_schema'; schema: string }
}

export type GenerateResult = {
  /** Every sampled token, including a final stop token. */
  tokens: number[]
  finishReason: 'stop' | 'length'
  /** Present when the trace was committed. */
  traceRoot?: Uint8Array
  /** The number of checkpoints under traceRoot: one per position run. */
  traceLeafCount?: number
}

export type GenerateOptions = {
  /** Commit to the trace (default true). */
  trace?: boolean
  /** Extra sink that sees op outputs (openings, tests). */
  sink?: TraceSink
  /** Called with each token as soon as it is sampled. */
  onToken?: (token: number) => void
  /** Changes one element of one op output as it is computed (a cheater's run; see TraceFault). */
  fault?: TraceFault
  /** With `request.logprobs`: each token's log-probabilities, just before the token is yielded. */
  onLogprobs?: (step: StepLogprobs) => void
}

/** Each model's token trie, built on first use: the vocabulary's bytes as the tokenizer decodes them. */
const tries = new WeakMap<Model, TokenTrie>()
export function modelTokenTrie(model: Model): TokenTrie {
  let trie = tries.get(model)
  if (trie === undefined) {
    const tokenizer = tokenizerFromGguf(model.metadata)
    const empty = new Uint8Array(0)
    const bytes: Uint8Array[] = []
    for (let id = 0; id < model.config.vocabSize; id++)
      bytes.push(id < tokenizer.vocabSize ? tokenizer.tokenBytes(id) : empty)
    trie = new TokenTrie(bytes)
    tries.set(model, trie)
  }
  return trie
}

/** The constraint of a request with a response format, or undefined; refuses one no token can begin. */
function requestConstraint(model: Model, request: GenerateRequest): JsonConstraint | undefined {
  const format = request.responseFormat
  if (format === undefined) return undefined
  const constraint = new JsonConstraint(
    modelTokenTrie(model),
    formatNode(format),
    request.stopTokens ?? [],
  )
  if (constraint.mask().count === 0)
    throw new GenerationError(
      "no token of the model's vocabulary can begin the response format's JSON",
    )
  return constraint
}

/** Checks a request against the model; every problem is a GenerationError naming it. */
export function validateRequest(model: Model, request: GenerateRequest): void {
  const { vocabSize, contextLength } = model.config
  const { promptTokens, maxTokens, seed } = request
  if (promptTokens.length === 0)
    throw new GenerationError('the prompt is empty: at least one token is needed')
  for (const t of promptTokens) {
    if (!Number.isInteger(t) || t < 0 || t >= vocabSize)
      throw new GenerationError(`prompt token ${t} is outside the vocabulary (0..${vocabSize - 1})`)
  }
  if (!Number.isSafeInteger(maxTokens) || maxTokens < 1)
    throw new GenerationError(`max tokens must be a positive integer, got ${maxTokens}`)
  if (promptTokens.length + maxTokens > contextLength)
    throw new GenerationError(
      `the prompt (${promptTokens.length} tokens) plus max tokens (${maxTokens}) exceeds the model's context length of ${contextLength}`,
    )
  if (!Number.isSafeInteger(seed) || seed < 0)
    throw new GenerationError(`seed must be an integer in [0, 2^53), got ${seed}`)
  const k = request.logprobs
  if (k !== undefined && (!Number.isInteger(k) || k < 0 || k > 20))
    throw new GenerationError(`top logprobs must be an integer from 0 to 20, got ${k}`)
  for (const [token] of request.params.logitBias ?? [])
    if (token >= vocabSize)
      throw new GenerationError(
        `logit_bias token ${token} is outside the vocabulary (0..${vocabSize - 1})`,
      )
}

/** Fans one op output out to several sinks, each getting the kinds it wants. */
export function fanOut(sinks: TraceSink[]): TraceSink {
  if (sinks.length === 1) return sinks[0]!
  const masks = sinks.map((s) => s.kinds ?? ALL_KINDS)
  return {
    kinds: masks.reduce((a, b) => a | b, 0),
    anyOrder: sinks.every((s) => s.anyOrder === true),
    record(pos, layer, kind, vec, off, len) {
      for (let i = 0; i < sinks.length; i++)
        if ((masks[i]! >>> kind) & 1) sinks[i]!.record(pos, layer, kind, vec, off, len)
    },
  }
}

/**
 * Runs the prompt, then samples up to maxTokens tokens. The trace covers every prompt position
 * (logits only at the last one), then for each sampled token the SAMPLE op (output: the token and
 * the PRNG state after it) and, unless it is the last, the forward pass of that token. The
 * committed traceRoot is over one checkpoint per position (docs/DETERMINISM.md, "Trace").
 */
export function generate(
  model: Model,
  request: GenerateRequest,
  options: GenerateOptions = {},
): GenerateResult {
  const steps = generateSteps(model, request, options)
  for (;;) {
    const step = steps.next()
    if (step.done) return step.value
    options.onToken?.(step.value)
  }
}

/**
 * The same generation one token at a time: yields each token as soon as it is sampled and
 * returns the result. A caller that stops iterating ends the generation there: the trace then
 * covers exactly the tokens yielded, as a run with maxTokens = that count would. The runtime
 * stays synchronous and pure; callers that must not block (a miner streaming over the network)
 * yield to their event loop between steps.
 */
export function* generateSteps(
  model: Model,
  request: GenerateRequest,
  options: Omit<GenerateOptions, 'onToken'> = {},
): Generator<number, GenerateResult, void> {
  validateRequest(model, request)
  let constraint = requestConstraint(model, request)
  let mask: TokenMask | undefined = constraint?.mask()
  const { promptTokens, maxTokens, params } = request
  const stop = new Set(request.stopTokens ?? [])
  const hasher = options.trace === false ? undefined : new CheckpointHasher(model)
  const sinks = [hasher, options.sink].filter((s): s is TraceSink => s !== undefined)
  const sink = sinks.length === 0 ? undefined : fanOut(sinks)
  const seq = new Sequence(model, promptTokens.length + maxTokens)
  const fault = options.fault
  seq.fault = fault
  const prng = new Prng(request.seed)
  const order = new Int32Array(model.config.vocabSize)
  const weights = new Float64Array(model.config.vocabSize)
  const sampled = new Int32Array(5)
  // Logit bias and penalties: the sampler sees adjusted copies; the trace keeps the model's logits.
  const adjust = hasAdjustments(params)
  const adjusted = adjust ? new Int32Array(model.config.vocabSize) : undefined
  const counts = adjust ? new Uint32Array(model.config.vocabSize) : undefined
  const seen: number[] = []

  // The prompt runs in blocks: each weight row is read once per block (same bits as one by one).
  let logits: Int32Array | undefined
  for (let i = 0; i < promptTokens.length; i += seq.maxBlock) {
    const block = promptTokens.slice(i, i + seq.maxBlock)
    logits = forwardBlock(seq, block, i + block.length === promptTokens.length, sink)
  }
  const tokens: number[] = []
  let finishReason: GenerateResult['finishReason'] = 'length'
  for (;;) {
    const z = adjusted ? adjustLogits(logits!, params, counts!, seen, adjusted) : logits!
    // The mask applies after the logit adjustments and before temperature, top-k and top-p.
    let token = sample(z, params, prng, order, weights, mask?.bits)
    sampled[0] = token
    for (let i = 0; i < 4; i++) sampled[i + 1] = prng.s[i]! | 0
    if (fault?.kind === OpKind.SAMPLE && fault.pos === seq.pos - 1) {
      // The faulted token and PRNG state are what the rest of the run uses.
      applyFault(fault, sampled, 0, 5)
      token = sampled[0]!
      for (let i = 0; i < 4; i++) prng.s[i] = sampled[i + 1]! >>> 0
    }
    // Only a faulted (cheater's) token can be outside the mask: the rest of that run is unconstrained.
    if (mask && !maskHas(mask.bits, token)) {
      constraint = undefined
      mask = undefined
    }
    sink?.record(seq.pos - 1, NO_LAYER, OpKind.SAMPLE, sampled, 0, 5)
    if (request.logprobs !== undefined)
      options.onLogprobs?.(stepLogprobs(z, token, request.logprobs, order, mask?.bits))
    tokens.push(token)
    if (counts && counts[token]!++ === 0) seen.push(token)
    yield token
    if (stop.has(token)) {
      finishReason = 'stop'
      break
    }
    if (tokens.length >= maxTokens) break
    if (constraint) {
      // Decided before the next forward pass, so the trace still ends at the last token sampled.
      constraint.advance(token)
      mask = constraint.mask()
      if (mask.count === 0) {
        finishReason = constraint.complete ? 'stop' : 'length'
        break
      }
    }
    logits = forwardToken(seq, token, true, sink)
  }
  if (!hasher) return { tokens, finishReason }
  return { tokens, finishReason, traceRoot: hasher.root(), traceLeafCount: hasher.count }
}
