import type { Hex } from '../types/inference.ts'
import { TOOL_LIMITS, type ToolCallFormat } from './prompt/tools.ts'

/**
 * Tool calls read out of a model's answer text: a pure function of the text, the model's call
 * format and the declared tool names, so a gateway and `verity verify` get the same calls from
 * the same signed tokens. Text that is not exactly a tool call (bad JSON, an undeclared name,
 * trailing prose) is no call at all: the whole answer stays content.
 */

/** One parsed call; `arguments` is the compact JSON text of the arguments object. */
export type ParsedToolCall = { name: string; arguments: string }

/** What an answer says: content (possibly '') and the calls after it (at least one). */
export type ParsedToolCalls = { content: string; calls: ParsedToolCall[] }

/** OpenAI's `tool_calls` entry as the gateway shows it. */
export type ShownToolCall = {
  id: string
  type: 'function'
  function: { name: string; arguments: string }
}

const HERMES_OPEN = '<tool_call>'
const HERMES_CLOSE = '</tool_call>'
const PYTHON_TAG = '<|python_tag|>'

/**
 * The calls in `text`, or undefined when the text is not a tool-call answer.
 * - hermes (Qwen2.5): optional content, then one or more `<tool_call>{"name", "arguments"}</tool_call>`
 *   blocks separated by whitespace only; content that is only whitespace is ''.
 * - llama3: the whole text (after an optional `<|python_tag|>`) is `{"name", "parameters"}` JSON
 *   objects separated by `;` (vLLM's llama3_json convention); `arguments` is accepted for `parameters`.
 */
export function parseToolCalls(
  text: string,
  format: ToolCallFormat,
  names: ReadonlySet<string>,
): ParsedToolCalls | undefined {
  return format === 'hermes' ? parseHermes(text, names) : parseLlama3(text, names)
}

function parseHermes(text: string, names: ReadonlySet<string>): ParsedToolCalls | undefined {
  const start = text.indexOf(HERMES_OPEN)
  if (start < 0) return undefined
  const prefix = text.slice(0, start)
  const calls: ParsedToolCall[] = []
  let at = start
  while (at < text.length) {
    if (!text.startsWith(HERMES_OPEN, at)) return undefined
    const end = text.indexOf(HERMES_CLOSE, at)
    if (end < 0) return undefined
    const call = callOf(text.slice(at + HERMES_OPEN.length, end), 'arguments', names)
    if (!call) return undefined
    calls.push(call)
    at = skipSpace(text, end + HERMES_CLOSE.length)
  }
  return tooMany(calls) ? undefined : { content: prefix.trim() === '' ? '' : prefix, calls }
}

function parseLlama3(text: string, names: ReadonlySet<string>): ParsedToolCalls | undefined {
  let body = text.trim()
  if (body.startsWith(PYTHON_TAG)) body = body.slice(PYTHON_TAG.length).trim()
  if (!body.startsWith('{')) return undefined
  const calls: ParsedToolCall[] = []
  for (const part of splitTopLevel(body)) {
    const call = callOf(part, 'parameters', names)
    if (!call) return undefined
    calls.push(call)
  }
  return calls.length === 0 || tooMany(calls) ? undefined : { content: '', calls }
}

const tooMany = (calls: readonly ParsedToolCall[]) =>
  calls.length === 0 || calls.length > TOOL_LIMITS.callsPerMessage

/** `a; b; c` split at `;` outside JSON strings and brackets. */
function splitTopLevel(body: string): string[] {
  const parts: string[] = []
  let depth = 0
  let inString = false
  let from = 0
  for (let i = 0; i < body.length; i++) {
    const ch = body[i]
    if (inString) {
      if (ch === '\\') i++
      else if (ch === '"') inString = false
    } else if (ch === '"') inString = true
    else if (ch === '{' || ch === '[') depth++
    else if (ch === '}' || ch === ']') depth--
    else if (ch === ';' && depth === 0) {
      parts.push(body.slice(from, i))
      from = i + 1
    }
  }
  parts.push(body.slice(from))
  return parts
}

/** `{"name": declared, <argsKey>|"arguments": {...}}` and nothing else, or undefined. */
function callOf(
  json: string,
  argsKey: 'arguments' | 'parameters',
  names: ReadonlySet<string>,
): ParsedToolCall | undefined {
  let value: unknown
  try {
    value = JSON.parse(json)
  } catch {
    return undefined
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined
  const o = value as Record<string, unknown>
  const keys = Object.keys(o)
  const key = argsKey in o ? argsKey : 'arguments'
  if (keys.length !== 2 || !keys.includes('name') || !keys.includes(key)) return undefined
  const args = o[key]
  if (typeof o.name !== 'string' || !names.has(o.name)) return undefined
  if (typeof args !== 'object' || args === null || Array.isArray(args)) return undefined
  const text = JSON.stringify(args)
  if (text.length > TOOL_LIMITS.argumentsChars) return undefined
  return { name: o.name, arguments: text }
}

function skipSpace(text: string, at: number): number {
  while (at < text.length && /\s/.test(text[at]!)) at++
  return at
}

/**
 * The id of call `index` of an answer: `call_` + 24 hex digits of the receipt's requestHash +
 * `_` + index. Deterministic (a verifier recomputes it), unique per request (each choice of an
 * n-choice answer has its own seed, so its own hash), and useless to forge: a tool message's
 * tool_call_id only has to match a call earlier in the same conversation.
 */
export function toolCallId(requestHash: Hex, index: number): string {
  return `call_${requestHash.slice(2, 26)}_${index}`
}

/** The calls in OpenAI's `message.tool_calls` shape. */
export function shownToolCalls(
  requestHash: Hex,
  calls: readonly ParsedToolCall[],
): ShownToolCall[] {
  return calls.map((c, i) => ({
    id: toolCallId(requestHash, i),
    type: 'function',
    function: { name: c.name, arguments: c.arguments },
  }))
}
