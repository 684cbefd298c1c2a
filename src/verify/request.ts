import { sha256 } from '@noble/hashes/sha2.js'
import { bytesToHex, encodeAbiParameters, type Hex, hexToBytes } from 'viem'
import { RequestAuthError } from '../errors/node.ts'
import type { InferenceRequest, PromptSource } from '../types/inference.ts'
import { MAX_TOKEN_PRICE } from './price.ts'
import { compactJson, FUNCTION_NAME, jsonDepth, TOOL_CALL_ID, TOOL_LIMITS } from './prompt/tools.ts'

const BASE_COMPONENTS = [
  { name: 'modelRoot', type: 'bytes32' },
  { name: 'promptHash', type: 'bytes32' },
  { name: 'promptTokens', type: 'uint32[]' },
  { name: 'maxTokens', type: 'uint32' },
  { name: 'temperatureMilli', type: 'uint32' },
  { name: 'topK', type: 'uint32' },
  { name: 'topPMilli', type: 'uint32' },
  { name: 'seed', type: 'uint64' },
  { name: 'stopTokens', type: 'uint32[]' },
  { name: 'stop', type: 'string[]' },
] as const

/** The ABI tuple a request is encoded as: a contract can rebuild it and re-hash with sha256. */
const REQUEST_ABI = [{ type: 'tuple', components: BASE_COMPONENTS }] as const

const ADJUSTMENT_COMPONENTS = [
  { name: 'biasTokens', type: 'uint32[]' },
  { name: 'biasMilli', type: 'int32[]' },
  { name: 'presencePenaltyMilli', type: 'int32' },
  { name: 'frequencyPenaltyMilli', type: 'int32' },
  { name: 'logprobs', type: 'uint32' },
] as const

/**
 * The tuple of a request that uses logit_bias, a penalty or logprobs: the base fields, then
 * those. A request without them keeps the base tuple, so its hash is what it always was.
 */
const EXTENDED_REQUEST_ABI = [
  { type: 'tuple', components: [...BASE_COMPONENTS, ...ADJUSTMENT_COMPONENTS] },
] as const

/**
 * The tuple of a request with a response format or a price: the extended fields, then
 * `uint8 responseFormat` (0 none, 1 json_object, 2 json_schema), `string responseSchema`,
 * `uint256 promptPriceWei`, `uint256 completionPriceWei`. The three tuples cannot collide: the
 * first dynamic field's offset (head slot 2) is 10, 15 and 19 words, and a canonical encoding
 * fixes it.
 */
const FORMATTED_REQUEST_ABI = [
  {
    type: 'tuple',
    components: [
      ...BASE_COMPONENTS,
      ...ADJUSTMENT_COMPONENTS,
      { name: 'responseFormat', type: 'uint8' },
      { name: 'responseSchema', type: 'string' },
      { name: 'promptPriceWei', type: 'uint256' },
      { name: 'completionPriceWei', type: 'uint256' },
    ],
  },
] as const

/** The head offset of the first dynamic field, by tuple: what tells the encodings apart. */
export const REQUEST_HEADS = { base: 10 * 32, extended: 15 * 32, formatted: 19 * 32 } as const

/** True when a request needs the formatted tuple (a response format or a price). */
export function isFormattedRequest(request: InferenceRequest): boolean {
  return request.responseFormat !== undefined || request.price !== undefined
}

/** True when a request needs the extended tuple (logit bias, a penalty, or logprobs). */
export function isExtendedRequest(request: InferenceRequest): boolean {
  const { params } = request
  return (
    (params.logitBias?.length ?? 0) > 0 ||
    (params.presencePenaltyMilli ?? 0) !== 0 ||
    (params.frequencyPenaltyMilli ?? 0) !== 0 ||
    request.logprobs !== undefined
  )
}

/** A chat message's fields in every prompt encoding. */
const MESSAGE_COMPONENTS = [
  { name: 'role', type: 'string' },
  { name: 'content', type: 'string' },
  { name: 'hasName', type: 'bool' },
  { name: 'name', type: 'string' },
] as const

/** The ABI of a prompt source: kind (1 chat, 2 text), time, messages, text. */
const PROMPT_ABI = [
  { name: 'kind', type: 'uint8' },
  { name: 'time', type: 'uint64' },
  { name: 'messages', type: 'tuple[]', components: MESSAGE_COMPONENTS },
  { name: 'text', type: 'string' },
] as const

/**
 * The ABI of a chat with tools (kind 3): kind, time, messages with their tool fields (`toolCallId`
 * '' = none; `toolCalls` (id, name, arguments JSON text)), the tools' compact JSON text, text ''.
 * Kind is the first word of both encodings, so a chat with tools never hashes as one without.
 */
const TOOLS_PROMPT_ABI = [
  { name: 'kind', type: 'uint8' },
  { name: 'time', type: 'uint64' },
  {
    name: 'messages',
    type: 'tuple[]',
    components: [
      ...MESSAGE_COMPONENTS,
      { name: 'toolCallId', type: 'string' },
      {
        name: 'toolCalls',
        type: 'tuple[]',
        components: [
          { name: 'id', type: 'string' },
          { name: 'name', type: 'string' },
          { name: 'arguments', type: 'string' },
        ],
      },
    ],
  },
  { name: 'tools', type: 'string' },
  { name: 'text', type: 'string' },
] as const

const NO_PROMPT: Hex = `0x${'00'.repeat(32)}`

/**
 * sha256 of `abi.encode(uint8 kind, uint64 time, (string role, string content, bool hasName,
 * string name)[] messages, string text)`: chat is kind 1 (text ''), text is kind 2 (time 0, no
 * messages). A chat with tools is kind 3: `abi.encode(uint8 3, uint64 time, (string role,
 * string content, bool hasName, string name, string toolCallId, (string id, string name,
 * string arguments)[] toolCalls)[] messages, string tools, string text '')`. A request made from
 * token ids has no prompt source and commits 32 zero bytes.
 */
export function promptHash(prompt: PromptSource | undefined): Hex {
  if (prompt === undefined) return NO_PROMPT
  const encoded =
    prompt.kind === 'text'
      ? encodeAbiParameters(PROMPT_ABI, [2, 0n, [], prompt.text])
      : prompt.tools !== undefined
        ? encodeAbiParameters(TOOLS_PROMPT_ABI, [
            3,
            BigInt(prompt.time),
            prompt.messages.map((m) => ({
              role: m.role,
              content: m.content,
              hasName: m.name !== undefined,
              name: m.name ?? '',
              toolCallId: m.toolCallId ?? '',
              toolCalls: m.toolCalls ?? [],
            })),
            prompt.tools,
            '',
          ])
        : encodeAbiParameters(PROMPT_ABI, [
            1,
            BigInt(prompt.time),
            prompt.messages.map((m) => ({
              role: m.role,
              content: m.content,
              hasName: m.name !== undefined,
              name: m.name ?? '',
            })),
            '',
          ])
  return bytesToHex(sha256(hexToBytes(encoded)))
}

/**
 * The canonical encoding of a request: `abi.encode((bytes32 modelRoot, bytes32 promptHash,
 * uint32[] promptTokens, uint32 maxTokens, uint32 temperatureMilli, uint32 topK, uint32 topPMilli,
 * uint64 seed, uint32[] stopTokens, string[] stop))`; a request with logit bias, penalties or
 * logprobs appends `uint32[] biasTokens, int32[] biasMilli, int32 presencePenaltyMilli,
 * int32 frequencyPenaltyMilli, uint32 logprobs` (logprobs: 0 = none, k + 1 = with k top
 * alternatives); one with a response format or a price appends `uint8 responseFormat,
 * string responseSchema, uint256 promptPriceWei, uint256 completionPriceWei` to those. Field
 * order is fixed; JSON key order never matters.
 */
export function encodeRequest(request: InferenceRequest): Uint8Array {
  assertRequest(request)
  const { params } = request
  const base = {
    modelRoot: request.modelRoot,
    promptHash: promptHash(request.prompt),
    promptTokens: request.promptTokens,
    maxTokens: request.maxTokens,
    temperatureMilli: params.temperatureMilli,
    topK: params.topK,
    topPMilli: params.topPMilli,
    seed: BigInt(request.seed),
    stopTokens: request.stopTokens,
    stop: request.stop,
  }
  const formatted = isFormattedRequest(request)
  if (!formatted && !isExtendedRequest(request))
    return hexToBytes(encodeAbiParameters(REQUEST_ABI, [base]))
  const bias = params.logitBias ?? []
  const extended = {
    ...base,
    biasTokens: bias.map(([t]) => t),
    biasMilli: bias.map(([, b]) => b),
    presencePenaltyMilli: params.presencePenaltyMilli ?? 0,
    frequencyPenaltyMilli: params.frequencyPenaltyMilli ?? 0,
    logprobs: request.logprobs === undefined ? 0 : request.logprobs + 1,
  }
  if (!formatted) return hexToBytes(encodeAbiParameters(EXTENDED_REQUEST_ABI, [extended]))
  const format = request.responseFormat
  return hexToBytes(
    encodeAbiParameters(FORMATTED_REQUEST_ABI, [
      {
        ...extended,
        responseFormat: format === undefined ? 0 : format.type === 'json_object' ? 1 : 2,
        responseSchema: format?.type === 'json_schema' ? format.schema : '',
        promptPriceWei: BigInt(request.price?.promptWei ?? 0),
        completionPriceWei: BigInt(request.price?.completionWei ?? 0),
      },
    ]),
  )
}

/** sha256 of the canonical encoding: the receipt's `requestHash`. */
export function requestHash(request: InferenceRequest): Hex {
  return bytesToHex(sha256(encodeRequest(request)))
}

/** sha256 over the output token ids, each a big-endian uint32 (abi.encodePacked(uint32[])). */
export function outputHash(tokens: readonly number[]): Hex {
  const bytes = new Uint8Array(tokens.length * 4)
  const view = new DataView(bytes.buffer)
  tokens.forEach((t, i) => {
    view.setUint32(i * 4, t)
  })
  return bytesToHex(sha256(bytes))
}

const U32 = 0xffff_ffff
const isU32 = (v: unknown): v is number =>
  typeof v === 'number' && Number.isInteger(v) && v >= 0 && v <= U32
const isHex32 = (v: unknown): v is Hex => typeof v === 'string' && /^0x[0-9a-fA-F]{64}$/.test(v)

/** Limits on what a request may carry, so a hostile one cannot make a node allocate without bound. */
export const REQUEST_LIMITS = {
  promptTokens: 65_536,
  stopTokens: 64,
  stop: 16,
  stopLength: 256,
  /** OpenAI's limits: logit_bias entries, top_logprobs alternatives. */
  logitBias: 300,
  topLogprobs: 20,
  /** Chat messages per request, and characters of prompt text (all messages, or the text). */
  messages: 1024,
  promptChars: 1 << 20,
  /** Characters of a json_schema's canonical text. */
  responseSchemaChars: 65_536,
}

/**
 * Checks that an untrusted value has the shape of an InferenceRequest (types, integer ranges,
 * sizes); a RequestAuthError names the first bad field. Model-specific limits (vocabulary,
 * context length) are checked by the runtime.
 */
export function assertRequest(value: unknown): asserts value is InferenceRequest {
  const bad = (field: string, why: string): never => {
    throw new RequestAuthError(`invalid request: ${field} ${why}`)
  }
  if (typeof value !== 'object' || value === null) bad('request', 'is not an object')
  const r = value as Record<string, unknown>
  if (!isHex32(r.modelRoot)) bad('modelRoot', 'must be 32 bytes of hex')
  if (!Array.isArray(r.promptTokens) || !r.promptTokens.every(isU32))
    bad('promptTokens', 'must be an array of uint32')
  if ((r.promptTokens as unknown[]).length > REQUEST_LIMITS.promptTokens)
    bad('promptTokens', `has more than ${REQUEST_LIMITS.promptTokens} tokens`)
  if (!isU32(r.maxTokens)) bad('maxTokens', 'must be a uint32')
  const p = r.params as Record<string, unknown> | undefined
  if (typeof p !== 'object' || p === null) bad('params', 'is missing')
  for (const k of ['temperatureMilli', 'topK', 'topPMilli'] as const)
    if (!isU32(p![k])) bad(`params.${k}`, 'must be a uint32')
  assertAdjustments(p!, bad)
  if (
    r.logprobs !== undefined &&
    (typeof r.logprobs !== 'number' ||
      !Number.isInteger(r.logprobs) ||
      r.logprobs < 0 ||
      r.logprobs > REQUEST_LIMITS.topLogprobs)
  )
    bad('logprobs', `must be absent or an integer from 0 to ${REQUEST_LIMITS.topLogprobs}`)
  if (typeof r.seed !== 'number' || !Number.isSafeInteger(r.seed) || r.seed < 0)
    bad('seed', 'must be an integer in [0, 2^53)')
  if (!Array.isArray(r.stopTokens) || !r.stopTokens.every(isU32))
    bad('stopTokens', 'must be an array of uint32')
  if ((r.stopTokens as unknown[]).length > REQUEST_LIMITS.stopTokens)
    bad('stopTokens', `has more than ${REQUEST_LIMITS.stopTokens} entries`)
  if (
    !Array.isArray(r.stop) ||
    r.stop.length > REQUEST_LIMITS.stop ||
    !r.stop.every(
      (s) => typeof s === 'string' && s.length > 0 && s.length <= REQUEST_LIMITS.stopLength,
    )
  )
    bad('stop', `must be at most ${REQUEST_LIMITS.stop} non-empty strings`)
  if (r.prompt !== undefined) assertPrompt(r.prompt, bad)
  if (r.responseFormat !== undefined) assertResponseFormat(r.responseFormat, bad)
  if (r.price !== undefined) assertPrice(r.price, bad)
}

function assertResponseFormat(value: unknown, bad: (field: string, why: string) => never): void {
  const f = value as Record<string, unknown> | null
  if (typeof f !== 'object' || f === null) bad('responseFormat', 'is not an object')
  if (f!.type === 'json_object') {
    if (Object.keys(f!).length !== 1) bad('responseFormat', 'json_object carries no other field')
    return
  }
  if (f!.type !== 'json_schema')
    bad('responseFormat.type', "must be 'json_object' or 'json_schema'")
  const { schema } = f as { schema: unknown }
  if (
    typeof schema !== 'string' ||
    schema.length === 0 ||
    schema.length > REQUEST_LIMITS.responseSchemaChars
  )
    bad(
      'responseFormat.schema',
      `must be 1 to ${REQUEST_LIMITS.responseSchemaChars} characters of JSON text`,
    )
}

/** Canonical: decimal integers without leading zeros, at most MAX_TOKEN_PRICE, not both zero. */
function assertPrice(value: unknown, bad: (field: string, why: string) => never): void {
  const p = value as Record<string, unknown> | null
  if (typeof p !== 'object' || p === null) bad('price', 'is not an object')
  let sum = 0n
  for (const k of ['promptWei', 'completionWei'] as const) {
    const v = p![k]
    if (typeof v !== 'string' || !/^(0|[1-9][0-9]{0,24})$/.test(v) || BigInt(v) > MAX_TOKEN_PRICE)
      bad(`price.${k}`, `must be a decimal integer from 0 to ${MAX_TOKEN_PRICE} wei`)
    sum += BigInt(v as string)
  }
  if (sum === 0n) bad('price', 'must be absent for a free answer (both prices are 0)')
}

/**
 * One canonical form per request: bias entries [token, milli] with tokens strictly increasing,
 * milli a non-zero integer in [-100000, 100000]; penalties absent or non-zero integers in
 * [-2000, 2000] (zero is written by leaving them out).
 */
function assertAdjustments(
  p: Record<string, unknown>,
  bad: (field: string, why: string) => never,
): void {
  for (const k of ['presencePenaltyMilli', 'frequencyPenaltyMilli'] as const) {
    const v = p[k]
    if (
      v !== undefined &&
      (typeof v !== 'number' || !Number.isInteger(v) || v === 0 || v < -2000 || v > 2000)
    )
      bad(`params.${k}`, 'must be absent or a non-zero integer from -2000 to 2000')
  }
  const bias = p.logitBias
  if (bias === undefined) return
  if (!Array.isArray(bias) || bias.length === 0 || bias.length > REQUEST_LIMITS.logitBias)
    bad('params.logitBias', `must be absent or 1 to ${REQUEST_LIMITS.logitBias} entries`)
  let last = -1
  ;(bias as unknown[]).forEach((e, i) => {
    const ok =
      Array.isArray(e) &&
      e.length === 2 &&
      isU32(e[0]) &&
      e[0] > last &&
      typeof e[1] === 'number' &&
      Number.isInteger(e[1]) &&
      e[1] !== 0 &&
      e[1] >= -100_000 &&
      e[1] <= 100_000
    if (!ok)
      bad(
        `params.logitBias[${i}]`,
        'must be [token, biasMilli] with tokens increasing and biasMilli a non-zero integer in [-100000, 100000]',
      )
    last = (e as number[])[0]!
  })
}

function assertPrompt(value: unknown, bad: (field: string, why: string) => never): void {
  if (typeof value !== 'object' || value === null) bad('prompt', 'is not an object')
  const p = value as Record<string, unknown>
  if (p.kind === 'text') {
    if (typeof p.text !== 'string') bad('prompt.text', 'must be a string')
    if ((p.text as string).length > REQUEST_LIMITS.promptChars)
      bad('prompt.text', `is longer than ${REQUEST_LIMITS.promptChars} characters`)
    return
  }
  if (p.kind !== 'chat') bad('prompt.kind', "must be 'chat' or 'text'")
  if (typeof p.time !== 'number' || !Number.isSafeInteger(p.time) || p.time < 0)
    bad('prompt.time', 'must be a non-negative integer (unix seconds)')
  if (!Array.isArray(p.messages) || p.messages.length === 0)
    bad('prompt.messages', 'must be a non-empty array')
  const messages = p.messages as unknown[]
  if (messages.length > REQUEST_LIMITS.messages)
    bad('prompt.messages', `has more than ${REQUEST_LIMITS.messages} messages`)
  const tools = p.tools
  let toolNames: Set<string> | undefined
  if (tools !== undefined) toolNames = assertTools(tools, bad)
  let chars = 0
  const callIds = new Set<string>()
  messages.forEach((m, i) => {
    const msg = m as Record<string, unknown> | null
    if (typeof msg !== 'object' || msg === null) bad(`prompt.messages[${i}]`, 'is not an object')
    const { role, content, name, toolCalls, toolCallId } = msg as Record<string, unknown>
    if (typeof role !== 'string' || role.length === 0 || role.length > 64)
      bad(`prompt.messages[${i}].role`, 'must be a string of 1 to 64 characters')
    if (typeof content !== 'string') bad(`prompt.messages[${i}].content`, 'must be a string')
    if (name !== undefined && typeof name !== 'string')
      bad(`prompt.messages[${i}].name`, 'must be a string when present')
    chars += (content as string).length + (role as string).length
    if (toolCalls === undefined && toolCallId === undefined) return
    // Tool fields are hashed only in a chat with tools: anywhere else they would be unbound.
    if (toolNames === undefined)
      bad(`prompt.messages[${i}]`, 'has tool fields, but the prompt has no tools')
    if (toolCalls !== undefined) {
      if (role !== 'assistant')
        bad(`prompt.messages[${i}].toolCalls`, 'only assistant messages call tools')
      chars += assertToolCalls(
        toolCalls,
        toolNames!,
        callIds,
        `prompt.messages[${i}].toolCalls`,
        bad,
      )
    }
    if (toolCallId !== undefined) {
      if (role !== 'tool')
        bad(`prompt.messages[${i}].toolCallId`, "only 'tool' messages answer calls")
      if (typeof toolCallId !== 'string' || !callIds.has(toolCallId))
        bad(`prompt.messages[${i}].toolCallId`, 'must name a call of an earlier assistant message')
    }
  })
  if (chars > REQUEST_LIMITS.promptChars)
    bad('prompt.messages', `hold more than ${REQUEST_LIMITS.promptChars} characters`)
}

/** The tools' text: compact JSON of 1..64 `{type: 'function', function: {name, ...}}`, names unique. */
function assertTools(value: unknown, bad: (field: string, why: string) => never): Set<string> {
  if (typeof value !== 'string' || value.length > TOOL_LIMITS.toolsChars)
    bad('prompt.tools', `must be JSON text of at most ${TOOL_LIMITS.toolsChars} characters`)
  let parsed: unknown
  try {
    parsed = JSON.parse(value as string)
  } catch {
    bad('prompt.tools', 'is not JSON')
  }
  if (compactJson(parsed) !== value)
    bad('prompt.tools', 'is not compact JSON (JSON.stringify of its value)')
  if (!Array.isArray(parsed) || parsed.length === 0 || parsed.length > TOOL_LIMITS.tools)
    bad('prompt.tools', `must be an array of 1 to ${TOOL_LIMITS.tools} tools`)
  if (jsonDepth(parsed) > TOOL_LIMITS.depth + 2) bad('prompt.tools', 'is nested too deeply')
  const names = new Set<string>()
  ;(parsed as unknown[]).forEach((t, i) => {
    const tool = t as { type?: unknown; function?: { name?: unknown } } | null
    const name = tool?.function?.name
    if (tool?.type !== 'function' || typeof name !== 'string' || !FUNCTION_NAME.test(name))
      bad(`prompt.tools[${i}]`, 'must be a function with a valid name')
    if (names.has(name as string)) bad(`prompt.tools[${i}]`, 'repeats a function name')
    names.add(name as string)
  })
  return names
}

/** An assistant's calls: ids unique in the chat, names of declared tools, arguments a JSON object. */
function assertToolCalls(
  value: unknown,
  names: ReadonlySet<string>,
  ids: Set<string>,
  field: string,
  bad: (field: string, why: string) => never,
): number {
  if (!Array.isArray(value) || value.length === 0 || value.length > TOOL_LIMITS.callsPerMessage)
    bad(field, `must be 1 to ${TOOL_LIMITS.callsPerMessage} calls`)
  let chars = 0
  ;(value as unknown[]).forEach((c, j) => {
    const call = c as Record<string, unknown> | null
    const at = `${field}[${j}]`
    if (typeof call !== 'object' || call === null || Object.keys(call).length !== 3)
      bad(at, 'must be {id, name, arguments}')
    const { id, name, arguments: args } = call as Record<string, unknown>
    if (typeof id !== 'string' || !TOOL_CALL_ID.test(id) || ids.has(id))
      bad(`${at}.id`, 'must be a unique id of 1 to 128 letters, digits, _ . : -')
    ids.add(id as string)
    if (typeof name !== 'string' || !names.has(name))
      bad(`${at}.name`, 'must name one of the tools')
    if (typeof args !== 'string' || args.length > TOOL_LIMITS.argumentsChars)
      bad(
        `${at}.arguments`,
        `must be JSON text of at most ${TOOL_LIMITS.argumentsChars} characters`,
      )
    let parsed: unknown
    try {
      parsed = JSON.parse(args as string)
    } catch {
      bad(`${at}.arguments`, 'is not JSON')
    }
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed))
      bad(`${at}.arguments`, 'must be a JSON object')
    if (jsonDepth(parsed) > TOOL_LIMITS.depth) bad(`${at}.arguments`, 'is nested too deeply')
    chars += (args as string).length + (id as string).length + (name as string).length
  })
  return chars
}
