import { GenerationError } from '../errors/runtime.ts'
import { canonicalJson, compileSchema } from '../runtime/sampler/json/schema.ts'
import type { ResponseFormat } from '../types/inference.ts'
import { REQUEST_LIMITS } from '../verify/request.ts'
import type { ToolsInput } from './tools.ts'

/**
 * `tool_choice: 'required'` or a named function forces the answer to be a call, by the same
 * constrained sampling as `response_format` (docs/DETERMINISM.md, "constrained output"): the
 * request carries a json_schema format for one call in the Llama 3 shape,
 * `{"name": <a declared name>, "parameters": {...}}`, so the receipt commits to the constraint and
 * re-execution reproduces it. The schema is a pure function of the tools and the choice: a
 * verifier derives the same text from the body it sent (src/gateway/sent.ts).
 *
 * With a named choice the parameters follow that function's own `parameters` schema when it is
 * inside the sampler's subset (and not too long); otherwise, and for 'required', any JSON object.
 * Only templates whose calls are bare JSON (Llama 3's) can be forced this way: a Hermes call is
 * wrapped in `<tool_call>` tags the JSON constraint cannot write (request.ts refuses those).
 */
export function toolCallResponseFormat(tools: ToolsInput): ResponseFormat | undefined {
  const { choice } = tools
  if (choice !== 'required' && typeof choice !== 'object') return undefined
  const anyObject = { type: 'object' }
  const name = typeof choice === 'object' ? { const: choice.name } : { enum: tools.names }
  const parameters =
    typeof choice === 'object' ? (ownParameters(tools, choice.name) ?? anyObject) : anyObject
  const schema = canonicalJson({
    type: 'object',
    properties: { name, parameters },
    required: ['name', 'parameters'],
    additionalProperties: false,
  })
  return { type: 'json_schema', schema }
}

/** Whether `tool_choice` forces a call (the request then carries toolCallResponseFormat). */
export function forcesCall(tools: ToolsInput | undefined): boolean {
  return tools !== undefined && (tools.choice === 'required' || typeof tools.choice === 'object')
}

/** The named function's `parameters` schema, if the constrained sampler can apply it. */
function ownParameters(tools: ToolsInput, name: string): unknown {
  const list = JSON.parse(tools.text) as { function: { name: string; parameters?: unknown } }[]
  const params = list.find((t) => t.function.name === name)?.function.parameters
  if (params === undefined) return undefined
  try {
    const text = canonicalJson(params)
    // the whole call schema must stay under the request's limit, with room for the wrapper
    if (text.length > REQUEST_LIMITS.responseSchemaChars - 1024) return undefined
    compileSchema(text)
    return params
  } catch (error) {
    if (error instanceof GenerationError) return undefined
    throw error
  }
}
