import { Ajv } from 'ajv'
import { describe, expect, it } from 'vitest'
import { Prng } from '../prng.ts'
import { initialState, isComplete, MAX_DEPTH, run, type ValueNode } from './automaton.ts'
import { canonicalJson, compileSchema, nodeAllows, SCHEMA_LIMITS } from './schema.ts'

const accepts = (node: ValueNode, text: string) => {
  const s = run(initialState(node), new TextEncoder().encode(text))
  return s !== null && isComplete(s)
}

describe('compileSchema', () => {
  const refuses = (schema: unknown, message: RegExp) =>
    expect(() =>
      compileSchema(typeof schema === 'string' ? schema : JSON.stringify(schema)),
    ).toThrow(message)

  it('refuses what it cannot apply, naming the keyword and where it is', () => {
    refuses(
      { type: 'object', properties: { a: { type: 'string', pattern: '^a' } } },
      /#\/properties\/a: keyword "pattern" is not supported/,
    )
    refuses({ type: 'object', properties: { a: { anyOf: [] } } }, /keyword "anyOf"/)
    refuses({ type: 'object', minimum: 1 }, /keyword "minimum"/)
    refuses({ type: 'object', properties: { next: { $ref: '#' } } }, /"\$ref" is not supported/)
    refuses({ type: 'object', $defs: { a: { type: 'string' } } }, /"\$defs" is not supported/)
    refuses({ type: 'object', additionalProperties: true }, /only additionalProperties: false/)
    refuses(
      { type: 'object', additionalProperties: { type: 'string' } },
      /only additionalProperties: false/,
    )
    refuses(
      { type: 'object', properties: {}, required: ['a'] },
      /required: names "a", which is not in properties/,
    )
    refuses({ type: 'object', properties: { a: { type: 'str' } } }, /unknown type "str"/)
    refuses({ type: 'object', properties: { a: { type: [] } } }, /at least one type/)
    refuses(
      { type: 'object', properties: { a: { type: 'string', enum: [1, 2] } } },
      /no enum\/const value/,
    )
    refuses(
      { type: 'object', properties: { a: { type: 'array', minItems: 3, maxItems: 2 } } },
      /minItems is above maxItems/,
    )
    refuses({ type: 'object', properties: { a: true } }, /a schema must be a JSON object/)
  })

  it('refuses a root that is not an object schema, and text that is not JSON', () => {
    refuses({ type: 'array' }, /root must be an object schema/)
    refuses({ type: ['object', 'null'] }, /root must be an object schema/)
    refuses({ properties: {} }, /root must be an object schema/)
    refuses({ type: 'object', enum: [{}] }, /root must be an object schema/)
    refuses('[]', /a schema must be a JSON object/)
    refuses('{"type":', /not valid JSON/)
  })

  it('refuses schemas over the limits: too many subschemas, properties, nesting', () => {
    const wide = Object.fromEntries(
      Array.from({ length: SCHEMA_LIMITS.properties + 1 }, (_, i) => [`p${i}`, { type: 'null' }]),
    )
    refuses({ type: 'object', properties: wide }, /at most 128 properties/)
    let many: Record<string, unknown> = { type: 'object', properties: {} }
    const root = many
    for (let i = 0; i < 6; i++) {
      const props: Record<string, unknown> = {}
      for (let j = 0; j < 100; j++) props[`q${j}`] = { type: 'string' }
      ;(many.properties as Record<string, unknown>).x = { type: 'object', properties: props }
      many = (many.properties as Record<string, unknown>).x as Record<string, unknown>
    }
    refuses(root, /more than 512 subschemas/)
    let deep: Record<string, unknown> = { type: 'object' }
    for (let i = 0; i < MAX_DEPTH; i++) deep = { type: 'object', properties: { a: deep } }
    refuses(deep, /nest at most 32 deep/)
  })

  it('canonicalJson sorts keys and drops whitespace', () => {
    expect(canonicalJson({ b: [1, { d: null, c: 'x' }], a: true })).toBe(
      '{"a":true,"b":[1,{"c":"x","d":null}]}',
    )
  })

  it('generates listed properties in any order, each once, and closes only when the required are there', () => {
    const node = compileSchema(
      canonicalJson({
        type: 'object',
        properties: {
          name: { type: 'string' },
          age: { type: 'integer' },
          tags: { type: 'array', items: { enum: ['a', 'b'] }, maxItems: 2 },
        },
        required: ['name', 'age'],
        additionalProperties: false,
      }),
    )
    expect(accepts(node, '{"name":"x","age":3}')).toBe(true)
    expect(accepts(node, '{ "age" : -3 ,\n "name":"x", "tags":["b","a"]}')).toBe(true)
    expect(accepts(node, '{"name":"x"}')).toBe(false)
    expect(accepts(node, '{"name":"x","age":3,"name":"y"}')).toBe(false)
    expect(accepts(node, '{"name":"x","age":3.5}')).toBe(false)
    expect(accepts(node, '{"name":"x","age":1e3}')).toBe(false)
    expect(accepts(node, '{"name":"x","age":3,"extra":1}')).toBe(false)
    expect(accepts(node, '{"name":"x","age":3,"tags":["a","b","a"]}')).toBe(false)
    expect(accepts(node, '{"name":"x","age":3,"tags":["c"]}')).toBe(false)
    expect(accepts(node, '{"nam\\u0065":"x","age":3}')).toBe(false) // names are written as JSON.stringify writes them
    // The prefix dies at the first byte that cannot lead anywhere.
    expect(run(initialState(node), new TextEncoder().encode('{"nax'))).toBeNull()
    expect(
      run(initialState(node), new TextEncoder().encode('{"name":"x","age":3,"tags":["a","b"],')),
    ).toBeNull()
  })

  it('handles enum texts that are prefixes of each other and names that need escapes', () => {
    const node = compileSchema(
      canonicalJson({
        type: 'object',
        properties: { 'q"\\': { enum: [1, 12, 'x', { a: [1] }, null] }, é: { const: false } },
        additionalProperties: false,
      }),
    )
    for (const v of [1, 12, 'x', { a: [1] }, null])
      expect(accepts(node, `{"q\\"\\\\":${JSON.stringify(v)}}`)).toBe(true)
    expect(accepts(node, '{"q\\"\\\\":123}')).toBe(false)
    expect(accepts(node, '{"q\\"\\\\":{"a":[1]} , "é":false}')).toBe(true)
    expect(accepts(node, '{"é":true}')).toBe(false)
  })
})

/** A seeded random schema of the subset (objects list their properties, as OpenAI's strict mode). */
function randomSchema(r: Prng, depth: number): Record<string, unknown> {
  const k = r.below(depth > 3 ? 7 : 10)
  const scalars = ['string', 'number', 'integer', 'boolean', 'null']
  if (k < 5) return { type: scalars[k] }
  if (k === 5)
    return { type: [scalars[r.below(5)], 'null'].filter((t, i, a) => a.indexOf(t) === i) }
  if (k === 6)
    return r.below(2)
      ? {
          enum: [1, 'a', 12, null, [1, 2], { b: true }]
            .filter(() => r.below(2) === 0)
            .concat(['z']),
        }
      : { const: 'c' }
  if (k === 7) {
    const s: Record<string, unknown> = { type: 'array', items: randomSchema(r, depth + 1) }
    if (r.below(2)) s.minItems = r.below(2)
    if (r.below(2)) s.maxItems = 1 + r.below(3)
    return s
  }
  return objectSchema(r, depth)
}
function objectSchema(r: Prng, depth: number): Record<string, unknown> {
  const names = ['a', 'b', 'ab', 'é', 'x y', 'q"']
  const properties: Record<string, unknown> = {}
  for (const n of names) if (r.below(2)) properties[n] = randomSchema(r, depth + 1)
  const required = Object.keys(properties).filter(() => r.below(2) === 0)
  return { type: 'object', properties, required, additionalProperties: false }
}
/** A value that often fits the schema and sometimes misses by one detail. */
function randomValueFor(r: Prng, s: Record<string, unknown>): unknown {
  if (r.below(12) === 0) return [7, 'w', null, true, [], {}, 2.5][r.below(7)]
  if (s.const !== undefined) return s.const
  if (s.enum) return (s.enum as unknown[])[r.below((s.enum as unknown[]).length)]
  const type = Array.isArray(s.type) ? s.type[r.below(s.type.length)] : s.type
  switch (type) {
    case 'string':
      return ['', 'hi', 'é"\\\n😀'][r.below(3)]
    case 'number':
      return [0, -1.5, 3e-7, 42][r.below(4)]
    case 'integer':
      return [0, -7, 123456][r.below(3)]
    case 'boolean':
      return r.below(2) === 0
    case 'null':
      return null
    case 'array':
      return Array.from({ length: r.below(4) }, () =>
        randomValueFor(r, s.items as Record<string, unknown>),
      )
    default: {
      const props = s.properties as Record<string, Record<string, unknown>>
      const out: Record<string, unknown> = {}
      for (const [n, p] of Object.entries(props))
        if ((s.required as string[]).includes(n) ? r.below(10) > 0 : r.below(2))
          out[n] = randomValueFor(r, p)
      if (r.below(10) === 0) out.extra = 1
      return out
    }
  }
}

describe('schema mode, property-based (seeded)', () => {
  it('accepts a value exactly when ajv says the schema allows it (200 schemas x 12 values)', () => {
    const ajv = new Ajv({ strict: false })
    const r = new Prng(42)
    let yes = 0
    let no = 0
    for (let i = 0; i < 200; i++) {
      const schema = objectSchema(r, 1)
      const node = compileSchema(canonicalJson(schema))
      const validate = ajv.compile(schema)
      for (let j = 0; j < 12; j++) {
        const value = randomValueFor(r, schema)
        const want = validate(value) === true
        const text = canonicalJson(value)
        expect(accepts(node, text), `${canonicalJson(schema)}\n${text}`).toBe(want)
        expect(nodeAllows(node, value)).toBe(want)
        if (want) yes++
        else no++
      }
    }
    expect(yes).toBeGreaterThan(600)
    expect(no).toBeGreaterThan(600)
  })
})
