import { GenerationError } from '../../../errors/runtime.ts'
import {
  ANY_NODE,
  MAX_DEPTH,
  OBJECT_NODE,
  T,
  T_ANY,
  type ValueNode,
  wordsFor,
} from './automaton.ts'

/**
 * The JSON Schema subset the constrained sampler applies (docs/DETERMINISM.md, "constrained
 * output"): type (a name or a list of names), properties, required, additionalProperties (false
 * only), items, minItems, maxItems, enum, const, nested to MAX_DEPTH; title, description,
 * $schema, $id, $comment, default and examples are annotations and ignored. Any other keyword is
 * refused by name. Generation is narrower than validation in two documented ways: an object with
 * `properties` gets only those properties (each at most once, names written exactly as
 * JSON.stringify writes them), and enum/const values are written in canonical form (sorted keys,
 * no whitespace).
 */
export const SCHEMA_LIMITS = {
  /** Subschemas in one schema. */
  nodes: 512,
  /** Properties of one object. */
  properties: 128,
  /** enum entries of one subschema. */
  enumValues: 256,
  /** Characters of one enum value's canonical text. */
  enumChars: 1024,
} as const

const ANNOTATIONS = new Set([
  'title',
  'description',
  '$schema',
  '$id',
  '$comment',
  'default',
  'examples',
])
const KEYWORDS = new Set([
  ...ANNOTATIONS,
  'type',
  'properties',
  'required',
  'additionalProperties',
  'items',
  'minItems',
  'maxItems',
  'enum',
  'const',
])
const TYPE_BITS: Record<string, number> = { ...T }

const encoder = new TextEncoder()

/** Deepest nesting canonicalJson follows (a schema nests at most MAX_DEPTH objects anyway). */
const MAX_CANONICAL_DEPTH = 64

/**
 * JSON text with object keys sorted (UTF-16 order) and no whitespace: the form a request commits
 * to. Refuses nesting deeper than 64 levels (a GenerationError, not a stack overflow).
 */
export function canonicalJson(value: unknown, depth = 0): string {
  if (depth > MAX_CANONICAL_DEPTH)
    throw new GenerationError(`JSON nested deeper than ${MAX_CANONICAL_DEPTH} levels`)
  if (Array.isArray(value)) return `[${value.map((v) => canonicalJson(v, depth + 1)).join(',')}]`
  if (typeof value === 'object' && value !== null) {
    const keys = Object.keys(value).sort()
    const o = value as Record<string, unknown>
    return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson(o[k], depth + 1)}`).join(',')}}`
  }
  if (typeof value === 'number' && !Number.isFinite(value))
    throw new GenerationError('a JSON number must be finite')
  return JSON.stringify(value)
}

function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length)
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return a[i]! - b[i]!
  return a.length - b.length
}

/** Compiles response_format json_schema text into the automaton's nodes; every refusal names the keyword and where it is. */
export function compileSchema(text: string): ValueNode {
  let schema: unknown
  try {
    schema = JSON.parse(text)
  } catch {
    throw new GenerationError('response_format schema is not valid JSON')
  }
  let nextId = 2 // 0 and 1 are ANY_NODE and OBJECT_NODE
  const fail = (path: string, why: string): never => {
    throw new GenerationError(`response_format schema ${path}: ${why}`)
  }
  const compile = (s: unknown, path: string, depth: number): ValueNode => {
    if (nextId - 2 >= SCHEMA_LIMITS.nodes)
      fail(path, `the schema has more than ${SCHEMA_LIMITS.nodes} subschemas`)
    if (typeof s !== 'object' || s === null || Array.isArray(s))
      fail(path, 'a schema must be a JSON object')
    const o = s as Record<string, unknown>
    for (const k of Object.keys(o)) {
      if (k === '$ref' || k === '$defs' || k === 'definitions')
        fail(
          path,
          `"${k}" is not supported (references, recursive ones included, cannot be constrained)`,
        )
      if (!KEYWORDS.has(k)) fail(path, `keyword "${k.slice(0, 64)}" is not supported`)
    }
    const id = nextId++
    let types = T_ANY
    if (o.type !== undefined) {
      const names = Array.isArray(o.type) ? o.type : [o.type]
      if (names.length === 0) fail(`${path}/type`, 'must name at least one type')
      types = 0
      for (const name of names) {
        const bit =
          typeof name === 'string' && Object.hasOwn(TYPE_BITS, name) ? TYPE_BITS[name]! : 0
        if (bit === 0) fail(`${path}/type`, `unknown type ${JSON.stringify(name)}`)
        if (types & bit) fail(`${path}/type`, `type ${name} is listed twice`)
        types |= bit
      }
    }
    if ((types & (T.object | T.array)) !== 0 && depth > MAX_DEPTH)
      fail(path, `objects and arrays nest at most ${MAX_DEPTH} deep`)
    const node: ValueNode = {
      id,
      types,
      words: wordsFor(types),
      requiredCount: 0,
      minItems: 0,
      maxItems: ANY_NODE.maxItems,
    }

    if (o.additionalProperties !== undefined && o.additionalProperties !== false)
      fail(`${path}/additionalProperties`, 'only additionalProperties: false is supported')
    if (o.properties !== undefined) {
      const props = o.properties
      if (typeof props !== 'object' || props === null || Array.isArray(props))
        fail(`${path}/properties`, 'must be an object')
      const names = Object.keys(props as object)
      if (names.length > SCHEMA_LIMITS.properties)
        fail(`${path}/properties`, `at most ${SCHEMA_LIMITS.properties} properties per object`)
      const required = o.required ?? []
      if (
        !Array.isArray(required) ||
        !required.every((r) => typeof r === 'string') ||
        new Set(required).size !== required.length
      )
        fail(`${path}/required`, 'must be an array of distinct strings')
      for (const r of required as string[])
        if (!names.includes(r))
          fail(
            `${path}/required`,
            `names ${JSON.stringify(r.slice(0, 64))}, which is not in properties`,
          )
      const entries = names
        .map((name) => ({
          key: encoder.encode(JSON.stringify(name).slice(1, -1)),
          node: compile(
            (props as Record<string, unknown>)[name],
            `${path}/properties/${name.slice(0, 64)}`,
            depth + 1,
          ),
          required: (required as string[]).includes(name),
        }))
        .sort((a, b) => compareBytes(a.key, b.key))
      node.keys = entries.map((e) => e.key)
      node.props = entries.map((e) => e.node)
      node.required = entries.map((e) => e.required)
      node.requiredCount = entries.filter((e) => e.required).length
    } else if (o.required !== undefined) {
      fail(`${path}/required`, 'needs properties listing the required names')
    }
    if (o.items !== undefined) node.items = compile(o.items, `${path}/items`, depth + 1)
    for (const k of ['minItems', 'maxItems'] as const) {
      const v = o[k]
      if (v === undefined) continue
      if (!Number.isSafeInteger(v) || (v as number) < 0)
        fail(`${path}/${k}`, 'must be a non-negative integer')
      node[k] = v as number
    }
    if (node.minItems > node.maxItems) fail(path, 'minItems is above maxItems')
    if (node.minItems > 0 && node.items !== undefined && node.items.literals?.length === 0)
      fail(path, 'no item can be written')

    if (o.enum !== undefined || o.const !== undefined) {
      if (o.enum !== undefined && o.const !== undefined) fail(path, 'use enum or const, not both')
      const values = o.const !== undefined ? [o.const] : o.enum
      if (!Array.isArray(values) || values.length === 0)
        fail(`${path}/enum`, 'must be a non-empty array')
      if ((values as unknown[]).length > SCHEMA_LIMITS.enumValues)
        fail(`${path}/enum`, `at most ${SCHEMA_LIMITS.enumValues} values`)
      const texts = new Map<string, Uint8Array>()
      for (const v of values as unknown[]) {
        if (!nodeAllows(node, v)) continue // a value the rest of the schema refuses is never valid
        const t = canonicalJson(v)
        if (t.length > SCHEMA_LIMITS.enumChars)
          fail(`${path}/enum`, `a value is longer than ${SCHEMA_LIMITS.enumChars} characters`)
        texts.set(t, encoder.encode(t))
      }
      if (texts.size === 0) fail(path, 'no enum/const value satisfies the rest of the schema')
      node.literals = [...texts.values()].sort(compareBytes)
    }
    return node
  }
  const root = compile(schema, '#', 1)
  if (root.types !== T.object || root.literals !== undefined)
    fail('#', 'the root must be an object schema ({"type": "object", ...}), as OpenAI requires')
  return root
}

/** The automaton's root node for a response format: any object, or the compiled schema. */
export function formatNode(
  format: { type: 'json_object' } | { type: 'json_schema'; schema: string },
): ValueNode {
  return format.type === 'json_object' ? OBJECT_NODE : compileSchema(format.schema)
}

/**
 * Whether `value` (as JSON.parse returns it) is one the node generates: the schema's meaning with
 * the two narrowings above (listed properties only, enum values by canonical text).
 */
export function nodeAllows(node: ValueNode, value: unknown): boolean {
  if (node.literals !== undefined) {
    let text: string
    try {
      text = canonicalJson(value)
    } catch {
      return false
    }
    const bytes = encoder.encode(text)
    return node.literals.some((l) => compareBytes(l, bytes) === 0)
  }
  const t = node.types
  if (value === null) return (t & T.null) !== 0
  if (typeof value === 'boolean') return (t & T.boolean) !== 0
  if (typeof value === 'string') return (t & T.string) !== 0
  if (typeof value === 'number')
    return (
      Number.isFinite(value) &&
      ((t & T.number) !== 0 || ((t & T.integer) !== 0 && Number.isInteger(value)))
    )
  if (Array.isArray(value)) {
    if (!(t & T.array) || value.length < node.minItems || value.length > node.maxItems) return false
    return value.every((v) => nodeAllows(node.items ?? ANY_NODE, v))
  }
  if (typeof value !== 'object' || !(t & T.object)) return false
  if (node.keys === undefined) return true
  const o = value as Record<string, unknown>
  const names = Object.keys(o)
  const index = new Map(node.keys.map((k, i) => [new TextDecoder().decode(k), i]))
  for (const name of names) {
    const i = index.get(JSON.stringify(name).slice(1, -1))
    if (i === undefined || !nodeAllows(node.props![i]!, o[name])) return false
  }
  return node.required!.every(
    (r, i) => !r || names.includes(JSON.parse(`"${new TextDecoder().decode(node.keys![i]!)}"`)),
  )
}
