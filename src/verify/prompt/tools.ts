import type { ChatMessage } from '../../types/inference.ts'

/**
 * Chat with tools (OpenAI `tools`, assistant `tool_calls`, `tool` messages): the limits, the
 * compact text the prompt source commits to, and the shapes Hugging Face chat templates expect.
 */

/** Bounds on what a chat with tools may carry (checked by the gateway and by assertRequest). */
export const TOOL_LIMITS = {
  tools: 64,
  /** Characters of the tools' compact JSON text. */
  toolsChars: 65_536,
  /** Tool calls in one assistant message. */
  callsPerMessage: 64,
  /** Characters of one call's arguments JSON text. */
  argumentsChars: 65_536,
  /** OpenAI: a function name is a-z, A-Z, 0-9, underscores and dashes, at most 64. */
  nameChars: 64,
  idChars: 128,
  /** Nesting depth of a tool definition or arguments object. */
  depth: 32,
} as const

/** OpenAI's function-name rule: no spaces, quotes or tags a template could be confused by. */
export const FUNCTION_NAME = /^[A-Za-z0-9_-]{1,64}$/
/** Tool-call ids: printable ASCII without quotes or backslashes, so they stay one JSON token. */
export const TOOL_CALL_ID = /^[A-Za-z0-9_.:-]{1,128}$/

/**
 * The one text of a tools array the prompt source commits to: compact JSON (JSON.stringify of the
 * parsed value: no whitespace, the client's key order). Not key-sorted on purpose: templates
 * `tojson` the tools, and a JSON Schema's property order is what tells the model the order of
 * the arguments, so the model sees the tools as the client wrote them (as with OpenAI and vLLM).
 */
export function compactJson(value: unknown): string {
  return JSON.stringify(value)
}

/**
 * Depth of nested arrays/objects (a scalar is 0), counted without recursion and only up to
 * `cap + 1`: a hostile value millions of levels deep must not overflow the stack.
 */
export function jsonDepth(value: unknown, cap: number = TOOL_LIMITS.depth + 8): number {
  let max = 0
  const stack: [unknown, number][] = [[value, 0]]
  while (stack.length > 0) {
    const [v, d] = stack.pop()!
    if (v === null || typeof v !== 'object') continue
    if (d + 1 > max) max = d + 1
    if (max > cap) return max
    for (const child of Object.values(v as Record<string, unknown>)) stack.push([child, d + 1])
  }
  return max
}

/** True when a chat template can render tools: its source mentions `tools` at all. */
export function templateSupportsTools(source: string): boolean {
  return /\btools\b/.test(source)
}

/**
 * How a model writes a tool call, from its template: Hermes/Qwen2.5 `<tool_call>{json}</tool_call>`,
 * or Llama 3.1/3.2 bare `{"name": ..., "parameters": ...}` JSON (after `<|python_tag|>`, a control
 * token decoding skips). Undefined: the template renders tools, but its call format is unknown,
 * so answers stay text.
 */
export type ToolCallFormat = 'hermes' | 'llama3'

export function toolCallFormat(source: string): ToolCallFormat | undefined {
  if (source.includes('<tool_call>')) return 'hermes'
  if (source.includes('<|python_tag|>') || source.includes('"parameters"')) return 'llama3'
  return undefined
}

/**
 * The messages in the shape Hugging Face templates (and vLLM) pass them: assistant
 * `tool_calls: [{id, type: 'function', function: {name, arguments}}]` with the arguments parsed
 * into an object (Llama 3.x and Qwen2.5 templates `tojson` them), tool messages with
 * `tool_call_id`. Keys that are absent are left out (templates test `'tool_calls' in message`).
 */
export function templateMessages(messages: readonly ChatMessage[]): Record<string, unknown>[] {
  return messages.map((m) => {
    const out: Record<string, unknown> = { role: m.role, content: m.content }
    if (m.name !== undefined) out.name = m.name
    if (m.toolCallId !== undefined) out.tool_call_id = m.toolCallId
    if (m.toolCalls !== undefined)
      out.tool_calls = m.toolCalls.map((c) => ({
        id: c.id,
        type: 'function',
        function: { name: c.name, arguments: JSON.parse(c.arguments) as unknown },
      }))
    return out
  })
}

/** Every string (keys and values) inside a JSON value, for the control-text scan. */
export function jsonStrings(value: unknown, out: string[] = []): string[] {
  if (typeof value === 'string') out.push(value)
  else if (Array.isArray(value)) for (const v of value) jsonStrings(v, out)
  else if (value !== null && typeof value === 'object')
    for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
      out.push(k)
      jsonStrings(v, out)
    }
  return out
}

/** A JSON value with `f` applied to every string in it (keys and values). */
export function mapJsonStrings(value: unknown, f: (s: string) => string): unknown {
  if (typeof value === 'string') return f(value)
  if (Array.isArray(value)) return value.map((v) => mapJsonStrings(v, f))
  if (value !== null && typeof value === 'object')
    return Object.fromEntries(
      Object.entries(value as Record<string, unknown>).map(([k, v]) => [
        f(k),
        mapJsonStrings(v, f),
      ]),
    )
  return value
}
