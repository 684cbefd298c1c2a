/**
 * The interfaces the network's pieces share: what a caller asks a miner, what the miner streams
 * back, and the receipt it signs (DESIGN "Receipts and traces"). The gateway talks to miners only
 * through `MinerClient`, so it can be tested against in-process miners and run over libp2p.
 */
export type Hex = `0x${string}`
export type Address = `0x${string}`

/** Sampling parameters in the integer form the runtime uses and the receipt commits to. */
export type SamplingParams = {
  /** Temperature in thousandths; 0 = greedy. */
  temperatureMilli: number
  /** Keep the k most likely tokens; 0 = all. */
  topK: number
  /** Nucleus mass in thousandths; 1000 = off. */
  topPMilli: number
  /** OpenAI `logit_bias` in thousandths: [token, biasMilli], tokens increasing, none zero. */
  logitBias?: [number, number][]
  /** OpenAI `presence_penalty` in thousandths; absent = 0. */
  presencePenaltyMilli?: number
  /** OpenAI `frequency_penalty` in thousandths; absent = 0. */
  frequencyPenaltyMilli?: number
}

/**
 * One chat message as the model's template sees it (content already flattened to text; an
 * assistant message that only calls tools has content ''). `toolCalls` (assistant) and
 * `toolCallId` (role 'tool') appear only in a chat with tools.
 */
export type ChatMessage = {
  role: string
  content: string
  name?: string
  toolCalls?: ToolCall[]
  toolCallId?: string
}

/** One function call an assistant message made: OpenAI's `tool_calls[i]` (arguments: JSON text). */
export type ToolCall = { id: string; name: string; arguments: string }

/**
 * What the prompt tokens were made from, when they were made from text: the chat messages
 * (rendered with the model's template, which modelRoot names, at `time`) or a completion prompt.
 * The request commits to it, so anyone can re-render, re-tokenize and compare with promptTokens.
 */
export type PromptSource =
  | {
      kind: 'chat'
      messages: ChatMessage[]
      /** Unix seconds: the clock a template's `strftime_now` reads. */
      time: number
      /**
       * OpenAI `tools` as compact JSON text (no whitespace, the client's key order): the template gets
       * them parsed. Present = a chat with tools (its own prompt hash kind).
       */
      tools?: string
    }
  | { kind: 'text'; text: string }

/** One inference, fully determined: the same request gives the same tokens and traceRoot. */
export type InferenceRequest = {
  /** The model's identity (modelRoot). */
  modelRoot: Hex
  /** Absent when the caller sent token ids itself. */
  prompt?: PromptSource
  promptTokens: number[]
  maxTokens: number
  params: SamplingParams
  seed: number
  /** Token ids that end the generation (the model's end-of-sequence token). */
  stopTokens: number[]
  /** Text stop sequences (OpenAI `stop`): generation ends after the token that completes one. */
  stop: string[]
  /**
   * OpenAI `logprobs: true` with this many `top_logprobs` (0..20); absent = no logprobs. The
   * miner returns them with its answer; they are a function of the request, checked by re-running.
   */
  logprobs?: number
  /** OpenAI `response_format` other than text; absent = unconstrained. */
  responseFormat?: ResponseFormat
  /** The price the caller accepted; absent = free (miner paid by emissions only). */
  price?: RequestPrice
}

/**
 * OpenAI `response_format`, as the sampler constrains it: `json_object` (any JSON object) or
 * `json_schema` with the schema as canonical JSON text (the request commits to that text).
 */
export type ResponseFormat = { type: 'json_object' } | { type: 'json_schema'; schema: string }

/**
 * The rate an answer is served at, from the miner's signed price sheet: VTY wei per prompt token
 * and per completion token, as decimal strings (requests travel as JSON). The request commits to
 * it, so the receipt does too, and a voucher can be checked against tokens x price.
 */
export type RequestPrice = { promptWei: string; completionWei: string }

export type FinishReason = 'stop' | 'length'

/** One output token's log-probabilities in Q16 (src/runtime/sampler/logprobs.ts). */
export type StepLogprobs = {
  /** ln p of the token, Q16. */
  logprob: number
  /** The top alternatives [token, ln p in Q16], most likely first. */
  top: [number, number][]
}

/** The claim a miner signs with its hotkey for one answer. */
export type Receipt = {
  chainId: number
  netuid: number
  modelRoot: Hex
  /** sha256 of the canonical encoding of the InferenceRequest. */
  requestHash: Hex
  /** sha256 of the output token ids. */
  outputHash: Hex
  traceRoot: Hex
  /** Number of trace leaves (n in the dispute spec). */
  traceLeaves: number
  minerHotkey: Address
  /** The chain block the miner last saw when it signed (registration is checked at it). */
  issuedBlock: number
  /** Last block the receipt can be disputed in (after issuedBlock). */
  validUntilBlock: number
  /** The caller's request nonce (its signed InferenceCall): one receipt per call. */
  nonce: Hex
  /** The Verity contract of the chain: the EIP-712 domain's verifyingContract. */
  verifyingContract: Address
}

export type SignedReceipt = Receipt & { signature: Hex }

/**
 * The caller's signature over one call to one miner (src/verify `signRequest`): who asked this
 * miner for this request, when, with which nonce. The receipt's nonce is this nonce.
 */
export type CallProof = {
  caller: Address
  miner: Address
  nonce: Hex
  /** Milliseconds since the epoch at signing. */
  timestamp: number
  signature: Hex
}

/** What a miner streams back for one request. */
export type InferenceEvent =
  | { type: 'token'; index: number; token: number }
  | {
      type: 'done'
      tokens: number[]
      finishReason: FinishReason
      receipt: SignedReceipt
      /** The signed call the receipt answers. */
      call: CallProof
      /** When the request asks for logprobs: one per token (not signed; re-execution checks them). */
      logprobs?: StepLogprobs[]
    }

/** A miner as the gateway and validators see it, whatever the transport. */
export interface MinerClient {
  readonly hotkey: Address
  /** libp2p peer id, when reached over libp2p. */
  readonly peerId?: string
  /** Streams the answer; rejects with a NodeError subclass on failure or abort. */
  infer(
    request: InferenceRequest,
    options?: { signal?: AbortSignal },
  ): AsyncIterable<InferenceEvent>
}
