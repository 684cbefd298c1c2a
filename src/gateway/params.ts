import { InvalidRequestError } from '../errors/gateway.ts'
import { GenerationError } from '../errors/runtime.ts'
import { canonicalJson, compileSchema } from '../runtime/sampler/json/schema.ts'
import type { ChatMessage, ResponseFormat } from '../types/inference.ts'
import { MAX_CHOICES } from '../verify/choice.ts'
import { pricePerMillionToWei } from '../verify/price.ts'
import { REQUEST_LIMITS } from '../verify/request.ts'
import { toolCallResponseFormat } from './tool-choice.ts'
import {
  type CallLedger,
  parseToolCallId,
  parseToolCallsField,
  parseTools,
  type ToolsInput,
} from './tools.ts'

/**
 * Validation of the OpenAI request bodies (market-and-api.md B.1, B.5). Unlike vLLM, unknown
 * fields are refused: a parameter silently dropped would be an answer the client did not ask for,
 * and a receipt that does not commit to it. Known fields with bad values, and features the network
 * cannot serve (tools), are InvalidRequestErrors naming the field.
 */
export type SamplingInput = {
  model: string
  stream: boolean
  includeUsage: boolean
  temperature: number
  topP: number
  /** Extension (vLLM `top_k`): 0 = off. */
  topK: number
  seed: number | undefined
  maxTokens: number | undefined
  stop: string[]
  /** OpenAI `logit_bias`: token id -> bias in [-100, 100] (checked against the vocabulary later). */
  logitBias: Record<number, number> | undefined
  presencePenalty: number
  frequencyPenalty: number
  /** Logprobs with this many top alternatives; undefined = none. */
  logprobs: number | undefined
  /** Choices (OpenAI `n`), 1..MAX_CHOICES. */
  n: number
  /** OpenRouter-style routing: only these miners (hotkeys, lower-case), or never these. */
  provider: {
    only?: string[]
    ignore?: string[]
    sort?: 'price' | 'latency' | 'throughput' | 'score'
    /** Wei per token (given in VTY per million tokens). */
    maxPrice?: { prompt?: bigint; completion?: bigint }
    /** false: one miner only, no failover (default true). */
    allowFallbacks?: boolean
  }
}

export type ChatInput = SamplingInput & {
  messages: ChatMessage[]
  /** OpenAI `tools` with `tool_choice`; absent when none were sent. */
  tools?: ToolsInput
  /** OpenAI `response_format` json_object / json_schema (schema canonicalized); absent = text. */
  responseFormat?: ResponseFormat
}
export type CompletionInput = SamplingInput & { prompt: string | number[] }

/** Fields OpenAI documents as informational only: accepted, checked for type, not forwarded. */
const INFORMATIONAL = ['user', 'metadata', 'store'] as const

const SAMPLING_FIELDS = [
  'model',
  'stream',
  'stream_options',
  'temperature',
  'top_p',
  'top_k',
  'seed',
  'max_tokens',
  'stop',
  'n',
  'provider',
  'logprobs',
  'frequency_penalty',
  'presence_penalty',
  'logit_bias',
  ...INFORMATIONAL,
]

/** Every field each endpoint reads; any other is a 400 naming it. */
const CHAT_FIELDS = new Set([
  ...SAMPLING_FIELDS,
  'messages',
  'max_completion_tokens',
  'top_logprobs',
  'tools',
  'functions',
  'tool_choice',
  'parallel_tool_calls',
  'response_format',
])
const COMPLETION_FIELDS = new Set([...SAMPLING_FIELDS, 'prompt', 'echo', 'suffix', 'best_of'])

function rejectUnknown(
  body: Record<string, unknown>,
  known: ReadonlySet<string>,
  endpoint: string,
) {
  for (const key of Object.keys(body))
    if (!known.has(key))
      bad(
        key,
        `Unrecognized request argument supplied: '${key.slice(0, 64)}' (not supported by ${endpoint} on this gateway)`,
      )
  const { user, metadata, store } = body
  if (present(user) && (typeof user !== 'string' || user.length > 512))
    bad('user', "'user' must be a string of at most 512 characters")
  if (present(store) && typeof store !== 'boolean') bad('store', "'store' must be a boolean")
  if (present(metadata)) {
    const entries = isObject(metadata) ? Object.entries(metadata) : undefined
    if (
      entries === undefined ||
      entries.length > 16 ||
      !entries.every(([k, v]) => k.length <= 64 && typeof v === 'string' && v.length <= 512)
    )
      bad(
        'metadata',
        "'metadata' must be an object of at most 16 string values (keys up to 64, values up to 512 characters)",
      )
  }
}

const ROLES = new Set(['system', 'developer', 'user', 'assistant', 'tool', 'function'])
const MAX_STOP = 4

const bad = (param: string, message: string): never => {
  throw new InvalidRequestError(message, { param })
}

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v)

const present = (v: unknown) => v !== undefined && v !== null

function number(body: Record<string, unknown>, key: string, lo: number, hi: number, dflt: number) {
  const v = body[key]
  if (!present(v)) return dflt
  if (typeof v !== 'number' || !Number.isFinite(v) || v < lo || v > hi)
    bad(key, `'${key}' must be a number between ${lo} and ${hi}, got ${JSON.stringify(v)}`)
  return v as number
}

function integer(body: Record<string, unknown>, key: string, lo: number, hi: number) {
  const v = body[key]
  if (!present(v)) return undefined
  if (typeof v !== 'number' || !Number.isInteger(v) || v < lo || v > hi)
    bad(key, `'${key}' must be an integer between ${lo} and ${hi}, got ${JSON.stringify(v)}`)
  return v as number
}

function unsupported(body: Record<string, unknown>, key: string, ok: (v: unknown) => boolean) {
  const v = body[key]
  if (present(v) && !ok(v))
    bad(key, `'${key}' = ${JSON.stringify(v)} is not supported by this gateway`)
}

function sampling(body: Record<string, unknown>, chat: boolean): SamplingInput {
  const model = body.model
  if (typeof model !== 'string' || model.length === 0)
    bad('model', "'model' is required and must be a non-empty string")
  const stream = body.stream
  if (present(stream) && typeof stream !== 'boolean') bad('stream', "'stream' must be a boolean")
  const so = body.stream_options
  let includeUsage = false
  if (present(so)) {
    if (stream !== true) bad('stream_options', "'stream_options' is only allowed with stream: true")
    if (!isObject(so)) bad('stream_options', "'stream_options' must be an object")
    const iu = (so as Record<string, unknown>).include_usage
    if (present(iu) && typeof iu !== 'boolean')
      bad('stream_options.include_usage', "'include_usage' must be a boolean")
    includeUsage = iu === true
  }
  const temperature = number(body, 'temperature', 0, 2, 1)
  // top_p 0 means "only the most likely token": the runtime's smallest nucleus.
  const topP = Math.max(0.001, number(body, 'top_p', 0, 1, 1))
  const topKRaw = integer(body, 'top_k', -1, 1 << 20)
  const seed = integer(body, 'seed', 0, Number.MAX_SAFE_INTEGER)
  const maxKey =
    chat && present(body.max_completion_tokens) ? 'max_completion_tokens' : 'max_tokens'
  const maxTokens = integer(body, maxKey, 1, 0xffff_ffff)
  const stop = parseStop(body.stop)
  const provider = parseProvider(body.provider)
  const presencePenalty = number(body, 'presence_penalty', -2, 2, 0)
  const frequencyPenalty = number(body, 'frequency_penalty', -2, 2, 0)
  const logitBias = parseLogitBias(body.logit_bias)
  const n = integer(body, 'n', 1, MAX_CHOICES) ?? 1
  const logprobs = chat ? chatLogprobs(body) : integer(body, 'logprobs', 0, 5)
  return {
    model: model as string,
    stream: stream === true,
    includeUsage,
    temperature,
    topP,
    topK: topKRaw === undefined || topKRaw < 0 ? 0 : topKRaw,
    seed,
    maxTokens,
    stop,
    logitBias,
    presencePenalty,
    frequencyPenalty,
    n,
    logprobs,
    provider,
  }
}

/** Chat: `logprobs` (boolean) and `top_logprobs` (0..20, only with logprobs: true). */
function chatLogprobs(body: Record<string, unknown>): number | undefined {
  const on = body.logprobs
  if (present(on) && typeof on !== 'boolean') bad('logprobs', "'logprobs' must be a boolean")
  const top = integer(body, 'top_logprobs', 0, REQUEST_LIMITS.topLogprobs)
  if (top !== undefined && on !== true)
    bad('top_logprobs', "'top_logprobs' is only allowed with 'logprobs': true")
  return on === true ? (top ?? 0) : undefined
}

const TOKEN_KEY = /^(0|[1-9][0-9]{0,9})$/

/**
 * `logit_bias`: an object of at most 300 entries, keys token ids written as decimal integers
 * (no sign, no leading zero, so no two keys name one token), values numbers in [-100, 100].
 * A JSON object with a repeated key keeps its last value (JSON.parse); the request then commits
 * to that value, so what ran is what is verified.
 */
function parseLogitBias(v: unknown): Record<number, number> | undefined {
  if (!present(v)) return undefined
  if (!isObject(v)) bad('logit_bias', "'logit_bias' must be an object mapping token ids to numbers")
  const entries = Object.entries(v as Record<string, unknown>)
  if (entries.length > REQUEST_LIMITS.logitBias)
    bad(
      'logit_bias',
      `'logit_bias' may hold at most ${REQUEST_LIMITS.logitBias} entries, got ${entries.length}`,
    )
  const out: Record<number, number> = {}
  for (const [key, value] of entries) {
    if (!TOKEN_KEY.test(key) || Number(key) > 0xffff_ffff)
      bad('logit_bias', `'logit_bias' key ${JSON.stringify(key.slice(0, 32))} is not a token id`)
    if (typeof value !== 'number' || !Number.isFinite(value) || value < -100 || value > 100)
      bad(
        'logit_bias',
        `'logit_bias[${key}]' must be a number between -100 and 100, got ${JSON.stringify(value)}`,
      )
    out[Number(key)] = value as number
  }
  return out
}

const ADDRESS = /^0x[0-9a-fA-F]{40}$/

/**
 * OpenRouter's `provider` object: `only` / `ignore` (miner hotkeys), `sort` (price, latency,
 * throughput or score), `max_price` ({prompt, completion} in VTY per million tokens) and
 * `allow_fallbacks` (false: the first miner chosen or an error, no failover).
 */
function parseProvider(v: unknown): SamplingInput['provider'] {
  if (!present(v)) return {}
  if (!isObject(v)) bad('provider', "'provider' must be an object")
  const o = v as Record<string, unknown>
  for (const key of Object.keys(o))
    if (!['only', 'ignore', 'sort', 'max_price', 'allow_fallbacks'].includes(key))
      bad(
        `provider.${key.slice(0, 40)}`,
        `'provider.${key.slice(0, 40)}' is not supported (only, ignore, sort, max_price, allow_fallbacks)`,
      )
  const out: SamplingInput['provider'] = {}
  for (const key of ['only', 'ignore'] as const) {
    const list = o[key]
    if (!present(list)) continue
    if (
      !Array.isArray(list) ||
      list.length > 256 ||
      !list.every((h) => typeof h === 'string' && ADDRESS.test(h))
    )
      bad(`provider.${key}`, `'provider.${key}' must be a list of miner hotkeys (0x addresses)`)
    out[key] = (list as string[]).map((h) => h.toLowerCase())
  }
  if (present(o.sort)) {
    if (!['price', 'latency', 'throughput', 'score'].includes(o.sort as string))
      bad('provider.sort', "'provider.sort' must be 'price', 'latency', 'throughput' or 'score'")
    out.sort = o.sort as NonNullable<SamplingInput['provider']['sort']>
  }
  if (present(o.max_price)) {
    if (!isObject(o.max_price))
      bad('provider.max_price', "'provider.max_price' must be an object {prompt, completion}")
    const m = o.max_price as Record<string, unknown>
    const maxPrice: NonNullable<SamplingInput['provider']['maxPrice']> = {}
    for (const key of Object.keys(m)) {
      if (key !== 'prompt' && key !== 'completion')
        bad(
          `provider.max_price.${key.slice(0, 40)}`,
          "'provider.max_price' takes only 'prompt' and 'completion' (VTY per million tokens)",
        )
      const raw = m[key]
      const text =
        typeof raw === 'number' && Number.isFinite(raw) && raw >= 0 && !/e/i.test(String(raw))
          ? String(raw)
          : typeof raw === 'string'
            ? raw
            : undefined
      let wei: bigint | undefined
      try {
        if (text !== undefined) wei = pricePerMillionToWei(text, 'x')
      } catch {}
      if (wei === undefined)
        bad(
          `provider.max_price.${key}`,
          `'provider.max_price.${key}' must be a non-negative number of VTY per million tokens`,
        )
      maxPrice[key as 'prompt' | 'completion'] = wei as bigint
    }
    out.maxPrice = maxPrice
  }
  if (present(o.allow_fallbacks)) {
    if (typeof o.allow_fallbacks !== 'boolean')
      bad('provider.allow_fallbacks', "'provider.allow_fallbacks' must be a boolean")
    out.allowFallbacks = o.allow_fallbacks as boolean
  }
  return out
}

function parseStop(v: unknown): string[] {
  if (!present(v)) return []
  const list = typeof v === 'string' ? [v] : v
  if (!Array.isArray(list)) bad('stop', "'stop' must be a string or an array of strings")
  // The bound first: a huge list is refused before it is walked.
  if ((list as unknown[]).length > MAX_STOP)
    bad('stop', `'stop' may hold at most ${MAX_STOP} sequences, got ${(list as unknown[]).length}`)
  if (!(list as unknown[]).every((s) => typeof s === 'string'))
    bad('stop', "'stop' must be a string or an array of strings")
  const stops = (list as string[]).filter((s) => s.length > 0)
  if (stops.some((s) => s.length > REQUEST_LIMITS.stopLength))
    bad('stop', `each stop sequence must be at most ${REQUEST_LIMITS.stopLength} characters`)
  return [...new Set(stops)]
}

function contentText(content: unknown, param: string): string {
  if (content === null || content === undefined) return ''
  if (typeof content === 'string') return content
  if (!Array.isArray(content))
    bad(param, `'${param}' must be a string or an array of content parts`)
  return (content as unknown[])
    .map((part, i) => {
      if (!isObject(part)) bad(`${param}[${i}]`, 'a content part must be an object')
      const p = part as Record<string, unknown>
      if (p.type !== 'text' || typeof p.text !== 'string')
        bad(
          `${param}[${i}]`,
          `only text content parts are supported, got type ${JSON.stringify(p.type)}`,
        )
      return p.text as string
    })
    .join('')
}

export function parseJsonBody(text: string): Record<string, unknown> {
  let body: unknown
  try {
    body = JSON.parse(text)
  } catch {
    throw new InvalidRequestError(
      'We could not parse the JSON body of your request. The body must be valid JSON.',
      { code: 'invalid_json' },
    )
  }
  if (!isObject(body)) throw new InvalidRequestError('the request body must be a JSON object')
  return body
}

export function parseChatRequest(body: Record<string, unknown>): ChatInput {
  rejectUnknown(body, CHAT_FIELDS, '/v1/chat/completions')
  const base = sampling(body, true)
  const tools = parseTools(body)
  unsupported(body, 'functions', (v) => Array.isArray(v) && v.length === 0)
  const responseFormat = parseResponseFormat(body.response_format)
  // A constrained answer could not be a tool call in the model's format (Qwen's <tool_call>).
  if (responseFormat !== undefined && tools !== undefined)
    bad(
      'response_format',
      "'response_format' other than text cannot be combined with 'tools' on this gateway",
    )
  // 'required' or a named function: the answer is constrained to one call (tool-choice.ts).
  const callFormat = tools ? toolCallResponseFormat(tools) : undefined
  const raw = body.messages
  if (!Array.isArray(raw) || raw.length === 0)
    bad('messages', "'messages' is required and must be a non-empty array")
  const ledger: CallLedger = { ids: new Set(), answered: new Set() }
  const messages = (raw as unknown[]).map((m, i): ChatMessage => {
    const param = `messages[${i}]`
    if (!isObject(m)) bad(param, `'${param}' must be an object`)
    const msg = m as Record<string, unknown>
    if (typeof msg.role !== 'string' || !ROLES.has(msg.role))
      bad(`${param}.role`, `'${param}.role' must be one of ${[...ROLES].join(', ')}`)
    if (msg.role !== 'assistant' && !present(msg.content))
      bad(`${param}.content`, `'${param}.content' is required`)
    const out: ChatMessage = {
      role: msg.role as string,
      content: contentText(msg.content, `${param}.content`),
    }
    if (typeof msg.name === 'string') out.name = msg.name
    if (msg.role === 'assistant' && present(msg.tool_calls))
      out.toolCalls = parseToolCallsField(msg.tool_calls, `${param}.tool_calls`, tools, ledger)
    else if (present(msg.tool_calls))
      bad(`${param}.tool_calls`, `'${param}.tool_calls' is only allowed in assistant messages`)
    if (msg.role === 'tool')
      out.toolCallId = parseToolCallId(msg.tool_call_id, `${param}.tool_call_id`, tools, ledger)
    else if (present(msg.tool_call_id))
      bad(`${param}.tool_call_id`, `'${param}.tool_call_id' is only allowed in tool messages`)
    return out
  })
  // OpenAI's rule: a model asked for a JSON object must be told so, or it may write whitespace
  // until max_tokens (here the constraint keeps it JSON, but the answer would still be worse).
  if (responseFormat?.type === 'json_object' && !messages.some((m) => /json/i.test(m.content)))
    bad(
      'messages',
      "'messages' must contain the word 'json' in some form, to use 'response_format' of type 'json_object'.",
    )
  return {
    ...base,
    messages,
    ...(tools ? { tools } : {}),
    ...(responseFormat === undefined ? {} : { responseFormat }),
    ...(callFormat === undefined ? {} : { responseFormat: callFormat }),
  }
}

const JSON_SCHEMA_FIELDS = new Set(['name', 'schema', 'strict', 'description'])

/**
 * OpenAI `response_format`: text (the default), json_object, or json_schema with
 * {name, schema, strict?, description?}. The schema is canonicalized (sorted keys, no whitespace):
 * that text is what the request, and so the receipt, commits to. A schema outside the supported
 * subset is a 400 naming the keyword (src/runtime/sampler/json/schema.ts).
 */
function parseResponseFormat(v: unknown): ResponseFormat | undefined {
  if (!present(v)) return undefined
  if (!isObject(v)) return bad('response_format', "'response_format' must be an object")
  const type = v.type
  const extra = (allowed: string[]) => {
    const key = Object.keys(v).find((k) => !allowed.includes(k))
    if (key !== undefined)
      bad(
        `response_format.${key.slice(0, 64)}`,
        `Unrecognized field 'response_format.${key.slice(0, 64)}' for type ${JSON.stringify(type)}`,
      )
  }
  if (type === 'text') {
    extra(['type'])
    return undefined
  }
  if (type === 'json_object') {
    extra(['type'])
    return { type: 'json_object' }
  }
  if (type !== 'json_schema')
    return bad(
      'response_format.type',
      `Invalid value for 'response_format.type': ${JSON.stringify(type)?.slice(0, 64)}. Supported values are: 'text', 'json_object' and 'json_schema'.`,
    )
  extra(['type', 'json_schema'])
  const spec = v.json_schema
  const param = 'response_format.json_schema'
  if (!isObject(spec)) return bad(param, `'${param}' is required and must be an object`)
  for (const key of Object.keys(spec))
    if (!JSON_SCHEMA_FIELDS.has(key))
      bad(`${param}.${key.slice(0, 64)}`, `Unrecognized field '${param}.${key.slice(0, 64)}'`)
  if (typeof spec.name !== 'string' || !/^[a-zA-Z0-9_-]{1,64}$/.test(spec.name))
    bad(`${param}.name`, `'${param}.name' must be 1 to 64 characters of a-z, A-Z, 0-9, _ and -`)
  if (present(spec.strict) && typeof spec.strict !== 'boolean')
    bad(`${param}.strict`, `'${param}.strict' must be a boolean`)
  if (present(spec.description) && typeof spec.description !== 'string')
    bad(`${param}.description`, `'${param}.description' must be a string`)
  if (!isObject(spec.schema))
    return bad(`${param}.schema`, `'${param}.schema' is required and must be a JSON Schema object`)
  let schema = ''
  try {
    schema = canonicalJson(spec.schema)
    if (schema.length > REQUEST_LIMITS.responseSchemaChars)
      bad(
        `${param}.schema`,
        `'${param}.schema' is too large: ${schema.length} characters of canonical JSON, at most ${REQUEST_LIMITS.responseSchemaChars}`,
      )
    compileSchema(schema)
  } catch (error) {
    if (error instanceof GenerationError)
      bad(`${param}.schema`, `Invalid '${param}.schema': ${error.shortMessage}`)
    throw error
  }
  return { type: 'json_schema', schema }
}

export function parseCompletionRequest(body: Record<string, unknown>): CompletionInput {
  rejectUnknown(body, COMPLETION_FIELDS, '/v1/completions')
  const base = sampling(body, false)
  unsupported(body, 'echo', (v) => v === false)
  unsupported(body, 'suffix', (v) => v === '')
  unsupported(body, 'best_of', (v) => v === 1)
  let prompt = body.prompt
  if (
    Array.isArray(prompt) &&
    prompt.length === 1 &&
    (typeof prompt[0] === 'string' || Array.isArray(prompt[0]))
  )
    prompt = prompt[0]
  if (typeof prompt === 'string') return { ...base, prompt }
  if (
    Array.isArray(prompt) &&
    prompt.length > 0 &&
    prompt.every((t) => typeof t === 'number' && Number.isInteger(t) && t >= 0)
  )
    return { ...base, prompt: prompt as number[] }
  if (Array.isArray(prompt) && prompt.length > 1)
    bad('prompt', 'only one prompt per request is supported')
  return bad('prompt', "'prompt' must be a string, or an array of token ids")
}
