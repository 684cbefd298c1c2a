import { describe, expect, it } from 'vitest'
import { Prng } from '../prng.ts'
import {
  initialState,
  isComplete,
  MAX_DEPTH,
  MAX_WHITESPACE_RUN,
  OBJECT_NODE,
  type State,
  stateKey,
  step,
  type ValueNode,
} from './automaton.ts'

const utf8 = (s: string) => new TextEncoder().encode(s)

/** The state after each byte (null from the first refused one on). */
function trace(node: ValueNode, bytes: Uint8Array): (State | null)[] {
  const out: (State | null)[] = []
  let s: State | null = initialState(node)
  for (const b of bytes) {
    s = s === null ? null : step(s, b)
    out.push(s)
  }
  return out
}
const accepts = (text: string | Uint8Array, node: ValueNode = OBJECT_NODE) => {
  const bytes = typeof text === 'string' ? utf8(text) : text
  const states = trace(node, bytes)
  const last = bytes.length === 0 ? initialState(node) : states[states.length - 1]!
  return last !== null && isComplete(last)
}

/** What the automaton must accept: JSON.parse's verdict narrowed by the documented rules. */
function oracle(bytes: Uint8Array): boolean {
  let text: string
  try {
    text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(bytes)
  } catch {
    return false // not UTF-8
  }
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch {
    return false
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false // json_object: an object
  if (/[ \t\n\r]$/.test(text)) return false // nothing after the value
  if (new RegExp(`[ \\t\\n\\r]{${MAX_WHITESPACE_RUN + 1}}`).test(outsideStrings(text))) return false
  return wellFormed(value, 1)
}
/** Lone surrogates (from \u escapes) are refused; so is nesting beyond MAX_DEPTH. */
function wellFormed(v: unknown, depth: number): boolean {
  if (typeof v === 'string') return wellFormedText(v)
  if (typeof v !== 'object' || v === null) return true
  if (depth > MAX_DEPTH) return false
  if (Array.isArray(v)) return v.every((x) => wellFormed(x, depth + 1))
  return Object.entries(v).every(([k, x]) => wellFormedText(k) && wellFormed(x, depth + 1))
}
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/
const wellFormedText = (s: string) => !LONE_SURROGATE.test(s)
/** The text with string contents blanked out (their whitespace is content). */
function outsideStrings(text: string): string {
  return text.replace(/"(?:[^"\\]|\\.)*"/g, '""')
}

/** A seeded random JSON value, with the awkward parts over-represented. */
function randomValue(r: Prng, depth: number): unknown {
  const pick = r.below(depth > 4 ? 5 : 7)
  switch (pick) {
    case 0:
      return [null, true, false][r.below(3)]
    case 1:
      return [0, -0, 1, -1, 1e5, 1.5e-7, 123456789012, -0.25, 2.71, 1e300][r.below(10)]
    case 2:
    case 3:
    case 4:
      return randomString(r)
    case 5:
      return Array.from({ length: r.below(4) }, () => randomValue(r, depth + 1))
    default:
      return Object.fromEntries(
        Array.from({ length: r.below(4) }, () => [randomString(r), randomValue(r, depth + 1)]),
      )
  }
}
const PIECES = [
  'a',
  'Z',
  ' ',
  '"',
  '\\',
  '/',
  '\n',
  '\t',
  '\u0001',
  '\u007f',
  'é',
  '€',
  '😀',
  '\u2028',
  'ß',
  '\uffff',
  '\u0800',
]
function randomString(r: Prng): string {
  return Array.from({ length: r.below(6) }, () => PIECES[r.below(PIECES.length)]!).join('')
}
function randomObjectText(r: Prng): string {
  const value = Object.fromEntries(
    Array.from({ length: 1 + r.below(4) }, () => [randomString(r), randomValue(r, 2)]),
  )
  const text = JSON.stringify(value, null, r.below(3) === 0 ? 1 : undefined)
  // Some \u escapes instead of the characters themselves.
  return r.below(2) === 0
    ? text
    : text.replace(/[é€]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`)
}

describe('JSON automaton (json_object)', () => {
  it('accepts exactly what JSON.parse accepts, for hand-picked texts', () => {
    const cases = [
      '{}',
      '{ }',
      '{"a":1}',
      ' {"a" : [1, 2.5, -0, 1e5, 1E+5, 1e-5, 0.0]}',
      '{"a":-0}',
      '{"a":01}',
      '{"a":1.}',
      '{"a":.5}',
      '{"a":-}',
      '{"a":1e}',
      '{"a":+1}',
      '{"a":0x10}',
      '{"a":true,"b":false,"c":null}',
      '{"a":tru}',
      '{"a":True}',
      '{"a":nul}',
      '{"a":"\\u00e9\\u20AC"}',
      '{"a":"\\ud83d\\ude00"}',
      '{"a":"\\ud83d"}',
      '{"a":"\\ude00"}',
      '{"a":"\\ud83d\\u0041"}',
      '{"a":"\\x41"}',
      '{"a":"\\u12"}',
      '{"a":"tab\there"}',
      '{"a":"\\/\\b\\f\\n\\r\\t\\"\\\\"}',
      '{"a":[]}',
      '{"a":[1,]}',
      '{"a":[,1]}',
      '{"a":1,}',
      '{,"a":1}',
      '{"a" 1}',
      '{a:1}',
      "{'a':1}",
      '{"a":1}}',
      '{"a":1} ',
      '[1]',
      '"x"',
      '1',
      '{"a":{"b":{"c":[[[]]]}}}',
      '{"😀":"日本語"}',
      '{"a":"\u0000"}',
      '{"a":"\u001f"}',
      '{"a":"\u007f"}',
    ]
    for (const text of cases) expect(accepts(text), text).toBe(oracle(utf8(text)))
    // Spot checks of the oracle itself, so neither side can drift silently.
    expect(accepts('{"a":-0}')).toBe(true)
    expect(accepts('{"a":01}')).toBe(false)
    expect(accepts('{"a":"\\ud83d"}')).toBe(false) // JSON.parse takes it; I-JSON does not
    expect(JSON.parse('{"a":"\\ud83d"}').a).toBe('\ud83d')
  })

  it('refuses invalid UTF-8 in strings byte by byte: overlong, surrogate, too large, stray continuation', () => {
    const wrap = (...b: number[]) => Uint8Array.from([...utf8('{"a":"'), ...b, ...utf8('"}')])
    expect(accepts(wrap(0xc3, 0xa9))).toBe(true) // é
    expect(accepts(wrap(0xf0, 0x9f, 0x98, 0x80))).toBe(true) // 😀
    expect(accepts(wrap(0xf4, 0x8f, 0xbf, 0xbf))).toBe(true) // U+10FFFF
    for (const bad of [
      [0xc0, 0xaf],
      [0xc1, 0xbf],
      [0xe0, 0x80, 0xaf],
      [0xed, 0xa0, 0x80],
      [0xf0, 0x80, 0x80, 0x80],
      [0xf4, 0x90, 0x80, 0x80],
      [0xf5, 0x80, 0x80, 0x80],
      [0x80],
      [0xff],
      [0xc3],
    ]) {
      expect(accepts(wrap(...bad)), bad.join(' ')).toBe(false)
      expect(oracle(wrap(...bad))).toBe(false)
    }
  })

  it('bounds nesting at MAX_DEPTH and whitespace runs at MAX_WHITESPACE_RUN', () => {
    const nested = (d: number) => `{"a":${'['.repeat(d - 1)}${']'.repeat(d - 1)}}`
    expect(accepts(nested(MAX_DEPTH))).toBe(true)
    expect(accepts(nested(MAX_DEPTH + 1))).toBe(false)
    // Refused at the byte that opens the extra level, not later.
    const states = trace(OBJECT_NODE, utf8(nested(MAX_DEPTH + 1)))
    expect(states.indexOf(null)).toBe(5 + MAX_DEPTH - 1)
    expect(accepts(`{${' '.repeat(MAX_WHITESPACE_RUN)}}`)).toBe(true)
    expect(accepts(`{${' '.repeat(MAX_WHITESPACE_RUN + 1)}}`)).toBe(false)
    expect(accepts(`{"a":"${' '.repeat(100)}"}`)).toBe(true) // inside a string it is content
  })

  it('agrees with JSON.parse on 3000 seeded random documents and their one-byte mutations, at every prefix', () => {
    const r = new Prng(20261203)
    const noise = utf8('{}[]",:\\ 0-1.eEtrufalsn\t\n\u00e9x')
    let valid = 0
    let invalid = 0
    for (let i = 0; i < 1500; i++) {
      const good = utf8(randomObjectText(r))
      // A valid document: every prefix is accepted, and it is complete exactly at its end.
      const expected = oracle(good)
      const states = trace(OBJECT_NODE, good)
      expect(states.every((s) => s !== null) || !expected).toBe(true)
      expect(accepts(good), new TextDecoder().decode(good)).toBe(expected)
      if (expected) valid++
      const bad = good.slice()
      const at = r.below(bad.length)
      let mutated = bad
      if (r.below(2) === 0)
        mutated = Uint8Array.from([...bad.subarray(0, at), ...bad.subarray(at + 1)])
      else bad[at] = noise[r.below(noise.length)]!
      const want = oracle(mutated)
      expect(accepts(mutated), new TextDecoder().decode(mutated)).toBe(want)
      if (!want) invalid++
    }
    expect(valid).toBeGreaterThan(1000)
    expect(invalid).toBeGreaterThan(500)
  })

  it('never accepts a dead end: every accepted prefix of random byte strings can still be completed', () => {
    const r = new Prng(7)
    const alphabet = utf8('{}[]",:\\u0123456789abcdefABCDEF-+.eEtrunlsf \n')
    const extra = [0xc3, 0xa9, 0xed, 0x9f, 0xbf, 0xf0, 0x90, 0x80]
    let checked = 0
    for (let i = 0; i < 800; i++) {
      let s: State | null = initialState(OBJECT_NODE)
      for (let n = 0; n < 40 && s !== null; n++) {
        const b =
          r.below(8) === 0 ? extra[r.below(extra.length)]! : alphabet[r.below(alphabet.length)]!
        const next: State | null = step(s, b)
        if (next === null) continue
        s = next
        expect(canComplete(s), stateKey(s)).toBe(true)
        checked++
      }
    }
    expect(checked).toBeGreaterThan(2000)
  })
})

/** A bounded search for bytes that complete the value (closing what is open, finishing escapes). */
function canComplete(start: State): boolean {
  const moves = utf8('alstrn{"}]0\\u d8cfe:1,')
  const cont = [0x80, 0x90, 0xa0, 0xbf]
  const all = [...moves, ...cont]
  const seen = new Set<string>()
  const queue: [State, number][] = [[start, 0]]
  while (queue.length > 0) {
    const [s, n] = queue.shift()!
    if (isComplete(s)) return true
    if (n >= 3 * MAX_DEPTH + 20) continue
    for (const b of all) {
      const t = step(s, b)
      if (t === null) continue
      const key = stateKey(t)
      if (seen.has(key)) continue
      seen.add(key)
      queue.push([t, n + 1])
    }
  }
  return false
}
