import { sha256 } from '@noble/hashes/sha2.js'
import { bytesToHex, encodeAbiParameters, type Hex, hexToBytes } from 'viem'
import { RequestAuthError } from '../errors/node.ts'
import type { InferenceRequest, PromptSource } from '../types/inference.ts'

/** The ABI tuple a request is encoded as: a contract can rebuild it and re-hash with sha256. */
const REQUEST_ABI = [
  {
    type: 'tuple',
    components: [
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
    ],
  },
] as const

/** The ABI of a prompt source: kind (1 chat, 2 text), time, messages, text. */
const PROMPT_ABI = [
  { name: 'kind', type: 'uint8' },
  { name: 'time', type: 'uint64' },
  {
    name: 'messages',
    type: 'tuple[]',
    components: [
      { name: 'role', type: 'string' },
      { name: 'content', type: 'string' },
      { name: 'hasName', type: 'bool' },
      { name: 'name', type: 'string' },
    ],
  },
  { name: 'text', type: 'string' },
] as const

const NO_PROMPT: Hex = `0x${'00'.repeat(32)}`

/**
 * sha256 of `abi.encode(uint8 kind, uint64 time, (string role, string content, bool hasName,
 * string name)[] messages, string text)`: chat is kind 1 (text ''), text is kind 2 (time 0, no
 * messages). A request made from token ids has no prompt source and commits 32 zero bytes.
 */
export function promptHash(prompt: PromptSource | undefined): Hex {
  if (prompt === undefined) return NO_PROMPT
  const encoded =
    prompt.kind === 'chat'
      ? encodeAbiParameters(PROMPT_ABI, [
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
      : encodeAbiParameters(PROMPT_ABI, [2, 0n, [], prompt.text])
  return bytesToHex(sha256(hexToBytes(encoded)))
}

/**
 * The canonical encoding of a request: `abi.encode((bytes32 modelRoot, bytes32 promptHash,
 * uint32[] promptTokens, uint32 maxTokens, uint32 temperatureMilli, uint32 topK, uint32 topPMilli,
 * uint64 seed, uint32[] stopTokens, string[] stop))`. Field order is fixed; JSON key order never
 * matters.
 */
export function encodeRequest(request: InferenceRequest): Uint8Array {
  assertRequest(request)
  const { params } = request
  return hexToBytes(
    encodeAbiParameters(REQUEST_ABI, [
      {
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
  /** Chat messages per request, and characters of prompt text (all messages, or the text). */
  messages: 1024,
  promptChars: 1 << 20,
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
  let chars = 0
  messages.forEach((m, i) => {
    const msg = m as Record<string, unknown> | null
    if (typeof msg !== 'object' || msg === null) bad(`prompt.messages[${i}]`, 'is not an object')
    const { role, content, name } = msg as Record<string, unknown>
    if (typeof role !== 'string' || role.length === 0 || role.length > 64)
      bad(`prompt.messages[${i}].role`, 'must be a string of 1 to 64 characters')
    if (typeof content !== 'string') bad(`prompt.messages[${i}].content`, 'must be a string')
    if (name !== undefined && typeof name !== 'string')
      bad(`prompt.messages[${i}].name`, 'must be a string when present')
    chars += (content as string).length + (role as string).length
  })
  if (chars > REQUEST_LIMITS.promptChars)
    bad('prompt.messages', `hold more than ${REQUEST_LIMITS.promptChars} characters`)
}
