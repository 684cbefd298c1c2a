import type { Hex } from '../types/inference.ts'
import { type ToolCallFormat, toolCallFormat } from '../verify/prompt/tools.ts'
import { parseToolCalls, type ShownToolCall, shownToolCalls } from '../verify/tool-calls.ts'
import type { ServedModel } from './model.ts'
import type { ToolsInput } from './tools.ts'

/**
 * How the gateway reads an answer to a request with tools: the model's call format (from its
 * template), the declared names, and what `tool_choice` / `parallel_tool_calls` allow. The calls
 * are a pure function of the signed text (src/verify/tool-calls.ts), so `verity verify` re-derives
 * them; the choice only decides whether the gateway shows them as calls or leaves the text as
 * content. `required` and a named choice are forced by constrained sampling (tool-choice.ts); an
 * answer cut by max_tokens is still not a call, and is shown as text.
 */
export type ToolReading = {
  format: ToolCallFormat
  names: ReadonlySet<string>
  /** Only calls to this function are shown as calls (a named tool_choice). */
  only?: string
  /** false: answers with more than one call are shown as text. */
  parallel: boolean
}

/** The reading of a request's answers, or undefined when they are plain text. */
export function toolReading(
  model: ServedModel,
  tools: ToolsInput | undefined,
): ToolReading | undefined {
  if (!tools || tools.choice === 'none') return undefined
  const { template } = model.renderer
  if (template instanceof Error) return undefined
  const format = toolCallFormat(template.source)
  if (!format) return undefined
  return {
    format,
    names: new Set(tools.names),
    ...(typeof tools.choice === 'object' ? { only: tools.choice.name } : {}),
    parallel: tools.parallel,
  }
}

export type ReadAnswer = { content: string; toolCalls?: ShownToolCall[] }

/** The answer text as content, or as content ('' = none) plus the calls it makes. */
export function readAnswer(
  reading: ToolReading | undefined,
  text: string,
  requestHash: Hex,
): ReadAnswer {
  if (!reading) return { content: text }
  const parsed = parseToolCalls(text, reading.format, reading.names)
  if (
    !parsed ||
    (!reading.parallel && parsed.calls.length > 1) ||
    (reading.only !== undefined && parsed.calls.some((c) => c.name !== reading.only))
  )
    return { content: text }
  return { content: parsed.content, toolCalls: shownToolCalls(requestHash, parsed.calls) }
}

const HERMES_OPEN = '<tool_call>'

/**
 * Streaming with tools: content is passed on only while it cannot be part of a call. Leading
 * whitespace is held (a call's answer shows no content); for Llama 3.x an answer whose first
 * character is `{` or `<` is held to the end; for Hermes, text from `<tool_call>` on (or a tail
 * that could begin it) is held. What is held is read at the end with readAnswer, and what was
 * passed on is always a prefix of the content it finds, so the stream adds up to the same answer.
 */
export class ToolStreamHold {
  private text = ''
  private emitted = 0
  private locked = false

  constructor(private readonly format: ToolCallFormat) {}

  /** Adds decoded text; returns what may be shown now. */
  push(piece: string): string {
    this.text += piece
    if (this.locked) return ''
    let end = this.text.length
    if (this.format === 'llama3') {
      const head = this.text.trimStart()
      if (head === '') return ''
      if (this.emitted === 0 && (head[0] === '{' || head[0] === '<')) {
        this.locked = true
        return ''
      }
    } else {
      const at = this.text.indexOf(HERMES_OPEN)
      if (at >= 0) {
        end = at
        this.locked = true
      } else end -= partialTail(this.text, HERMES_OPEN)
      if (this.text.slice(0, end).trim() === '') return ''
    }
    const out = this.text.slice(this.emitted, end)
    this.emitted = end
    return out
  }

  /** Characters already shown as content. */
  get shown(): number {
    return this.emitted
  }
}

/** Length of the longest tail of `text` that is a proper prefix of `tag`. */
function partialTail(text: string, tag: string): number {
  for (let n = Math.min(tag.length - 1, text.length); n > 0; n--)
    if (text.endsWith(tag.slice(0, n))) return n
  return 0
}
