import { InvalidRequestError } from '../errors/gateway.ts'
import type { ToolCall } from '../types/inference.ts'
import {
  compactJson,
  FUNCTION_NAME,
  jsonDepth,
  TOOL_CALL_ID,
  TOOL_LIMITS,
} from '../verify/prompt/tools.ts'

/**
 * OpenAI `tools`, `tool_choice`, `parallel_tool_calls` and the tool fields of messages, validated
 * strictly (a 400 naming the field). The tools become compact JSON text, which the request's
 * prompt source commits to; `tool_choice` and `parallel_tool_calls` only decide how the answer is
 * read (the template never sees them), so they are not part of the request.
 */

export type ToolChoice = 'none' | 'auto' | 'required' | { name: string }

export type ToolsInput = {
  /** Compact JSON text of the tools array (what the prompt source commits to). */
  text: string
  names: string[]
  choice: ToolChoice
  /** false: an answer with more than one call is shown as text. */
  parallel: boolean
}

const bad = (param: string, message: string): never => {
  throw new InvalidRequestError(message, { param })
}

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v)

const present = (v: unknown) => v !== undefined && v !== null

const onlyKeys = (o: Record<string, unknown>, keys: string[], param: string) => {
  for (const k of Object.keys(o))
    if (!keys.includes(k))
      bad(
        `${param}.${k.slice(0, 40)}`,
        `'${param}.${k.slice(0, 40)}' is not supported (${keys.join(', ')})`,
      )
}

/** `tools` + `tool_choice` + `parallel_tool_calls`; undefined when no tools were sent. */
export function parseTools(body: Record<string, unknown>): ToolsInput | undefined {
  const raw = body.tools
  const choice = body.tool_choice
  const parallel = body.parallel_tool_calls
  if (present(parallel) && typeof parallel !== 'boolean')
    bad('parallel_tool_calls', "'parallel_tool_calls' must be a boolean")
  if (present(raw) && !Array.isArray(raw)) bad('tools', "'tools' must be an array of tools")
  const list = (raw as unknown[] | undefined | null) ?? []
  if (list.length === 0) {
    if (present(choice) && choice !== 'none' && choice !== 'auto')
      bad('tool_choice', "'tool_choice' other than 'none' or 'auto' needs 'tools'")
    return undefined
  }
  if (list.length > TOOL_LIMITS.tools)
    bad('tools', `'tools' may hold at most ${TOOL_LIMITS.tools} tools, got ${list.length}`)
  const names: string[] = []
  const tools = list.map((t, i) => {
    const param = `tools[${i}]`
    if (!isObject(t)) bad(param, `'${param}' must be an object`)
    const tool = t as Record<string, unknown>
    onlyKeys(tool, ['type', 'function'], param)
    if (tool.type !== 'function') bad(`${param}.type`, `'${param}.type' must be 'function'`)
    const f = tool.function
    if (!isObject(f)) bad(`${param}.function`, `'${param}.function' must be an object`)
    const fn = f as Record<string, unknown>
    onlyKeys(fn, ['name', 'description', 'parameters', 'strict'], `${param}.function`)
    if (typeof fn.name !== 'string' || !FUNCTION_NAME.test(fn.name))
      bad(
        `${param}.function.name`,
        `'${param}.function.name' must be 1 to 64 letters, digits, underscores or dashes`,
      )
    const name = fn.name as string
    if (names.includes(name))
      bad(`${param}.function.name`, `'${param}.function.name' repeats the tool name '${name}'`)
    names.push(name)
    if (present(fn.description) && typeof fn.description !== 'string')
      bad(`${param}.function.description`, `'${param}.function.description' must be a string`)
    if (present(fn.parameters)) {
      if (!isObject(fn.parameters))
        bad(
          `${param}.function.parameters`,
          `'${param}.function.parameters' must be a JSON Schema object`,
        )
      if (jsonDepth(fn.parameters) > TOOL_LIMITS.depth)
        bad(`${param}.function.parameters`, `'${param}.function.parameters' is nested too deeply`)
    }
    if (present(fn.strict) && typeof fn.strict !== 'boolean')
      bad(`${param}.function.strict`, `'${param}.function.strict' must be a boolean`)
    // null fields are dropped: the template sees the same tool either way.
    const out: Record<string, unknown> = { name }
    for (const k of ['description', 'parameters', 'strict']) if (present(fn[k])) out[k] = fn[k]
    return { type: 'function', function: out }
  })
  const text = compactJson(tools)
  if (text.length > TOOL_LIMITS.toolsChars)
    bad('tools', `'tools' must be at most ${TOOL_LIMITS.toolsChars} characters of JSON`)
  return { text, names, choice: parseChoice(choice, names), parallel: parallel !== false }
}

function parseChoice(v: unknown, names: readonly string[]): ToolChoice {
  if (!present(v)) return 'auto'
  if (v === 'none' || v === 'auto' || v === 'required') return v
  if (!isObject(v) || v.type !== 'function' || !isObject(v.function))
    return bad(
      'tool_choice',
      "'tool_choice' must be 'none', 'auto', 'required' or {type: 'function', function: {name}}",
    )
  onlyKeys(v, ['type', 'function'], 'tool_choice')
  const fn = v.function as Record<string, unknown>
  onlyKeys(fn, ['name'], 'tool_choice.function')
  if (typeof fn.name !== 'string' || !names.includes(fn.name))
    bad(
      'tool_choice.function.name',
      `'tool_choice.function.name' ${JSON.stringify(String(fn.name).slice(0, 64))} is not one of the tools`,
    )
  return { name: fn.name as string }
}

/** Which calls a conversation has made so far, to check tool messages against. */
export type CallLedger = { ids: Set<string>; answered: Set<string> }

/** An assistant message's `tool_calls`: ids unique in the conversation, declared names, JSON objects. */
export function parseToolCallsField(
  v: unknown,
  param: string,
  tools: ToolsInput | undefined,
  ledger: CallLedger,
): ToolCall[] {
  if (!tools) return bad('tools', `'${param}' calls tools, but the request has no 'tools'`)
  if (!Array.isArray(v) || v.length === 0 || v.length > TOOL_LIMITS.callsPerMessage)
    bad(param, `'${param}' must be an array of 1 to ${TOOL_LIMITS.callsPerMessage} tool calls`)
  return (v as unknown[]).map((c, j): ToolCall => {
    const at = `${param}[${j}]`
    if (!isObject(c)) bad(at, `'${at}' must be an object`)
    const call = c as Record<string, unknown>
    onlyKeys(call, ['id', 'type', 'function'], at)
    if (typeof call.id !== 'string' || !TOOL_CALL_ID.test(call.id))
      bad(`${at}.id`, `'${at}.id' must be 1 to 128 letters, digits, or _ . : -`)
    const id = call.id as string
    if (ledger.ids.has(id)) bad(`${at}.id`, `'${at}.id' repeats the tool call id '${id}'`)
    ledger.ids.add(id)
    if (call.type !== 'function') bad(`${at}.type`, `'${at}.type' must be 'function'`)
    if (!isObject(call.function)) bad(`${at}.function`, `'${at}.function' must be an object`)
    const fn = call.function as Record<string, unknown>
    onlyKeys(fn, ['name', 'arguments'], `${at}.function`)
    if (typeof fn.name !== 'string' || !tools.names.includes(fn.name))
      bad(
        `${at}.function.name`,
        `'${at}.function.name' ${JSON.stringify(String(fn.name).slice(0, 64))} is not one of the tools`,
      )
    const args = fn.arguments
    if (typeof args !== 'string' || args.length > TOOL_LIMITS.argumentsChars)
      bad(
        `${at}.function.arguments`,
        `'${at}.function.arguments' must be a string of JSON, at most ${TOOL_LIMITS.argumentsChars} characters`,
      )
    let parsed: unknown
    try {
      parsed = JSON.parse(args as string)
    } catch {
      bad(`${at}.function.arguments`, `'${at}.function.arguments' is not valid JSON`)
    }
    if (!isObject(parsed))
      bad(`${at}.function.arguments`, `'${at}.function.arguments' must be a JSON object`)
    if (jsonDepth(parsed) > TOOL_LIMITS.depth)
      bad(`${at}.function.arguments`, `'${at}.function.arguments' is nested too deeply`)
    return { id, name: fn.name as string, arguments: args as string }
  })
}

/** A tool message's `tool_call_id`: a call of an earlier assistant message, answered once. */
export function parseToolCallId(
  v: unknown,
  param: string,
  tools: ToolsInput | undefined,
  ledger: CallLedger,
): string {
  if (!tools) return bad('tools', `'${param}' answers a tool call, but the request has no 'tools'`)
  if (typeof v !== 'string' || v.length === 0)
    bad(param, `'${param}' is required in a 'tool' message`)
  const id = v as string
  if (!ledger.ids.has(id))
    bad(
      param,
      `'${param}' ${JSON.stringify(id.slice(0, 128))} names no tool call of an earlier assistant message`,
    )
  if (ledger.answered.has(id))
    bad(param, `'${param}' ${JSON.stringify(id.slice(0, 128))} was already answered`)
  ledger.answered.add(id)
  return id
}
