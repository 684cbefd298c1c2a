/**
 * A byte-level pushdown automaton for JSON (RFC 8259) text, optionally directed by a compiled
 * schema (schema.ts). States are immutable, so a walk over the token trie (vocab.ts) keeps one
 * state per depth and never undoes anything. Every state it accepts can still be completed to a
 * value the node allows (no dead ends), which is what makes "allowed = keeps a valid prefix"
 * enough for the constrained sampler. docs/DETERMINISM.md ("constrained output") is the spec.
 */

/** Most nested objects and arrays (the root object is depth 1). */
export const MAX_DEPTH = 32
/** Most whitespace bytes in a row between tokens of the grammar (a model cannot spin on blanks). */
export const MAX_WHITESPACE_RUN = 16

/** Bits of ValueNode.types. */
export const T = {
  object: 1,
  array: 2,
  string: 4,
  number: 8,
  integer: 16,
  boolean: 32,
  null: 64,
} as const
export const T_ANY = 127

/** What one JSON value may be: the compiled form of a (sub)schema. */
export type ValueNode = {
  /** Per-node number, for the mask cache's state keys. */
  id: number
  /** Bits of T: the kinds of value allowed (number also allows integers). */
  types: number
  /** enum/const: the allowed values' canonical texts, sorted bytewise; when present, nothing else. */
  literals?: readonly Uint8Array[]
  /** 'false', 'null', 'true' as `types` allows them, sorted bytewise. */
  words: readonly Uint8Array[]
  /** Listed properties: key contents as JSON.stringify writes them (UTF-8), sorted bytewise. Absent = any keys. */
  keys?: readonly Uint8Array[]
  /** The schema of each listed property, aligned with keys. */
  props?: readonly ValueNode[]
  /** Whether each listed property is required, aligned with keys. */
  required?: readonly boolean[]
  requiredCount: number
  /** Array items; absent = any JSON value. */
  items?: ValueNode
  minItems: number
  maxItems: number
}

const bytes = (s: string) => new TextEncoder().encode(s)
const FALSE = bytes('false')
const NULL = bytes('null')
const TRUE = bytes('true')

/** The bytewise-sorted words (false/null/true) that `types` allows. */
export function wordsFor(types: number): Uint8Array[] {
  const out: Uint8Array[] = []
  if (types & T.boolean) out.push(FALSE)
  if (types & T.null) out.push(NULL)
  if (types & T.boolean) out.push(TRUE)
  return out
}

/** Any JSON value (json_object's property values and free array items). */
export const ANY_NODE: ValueNode = {
  id: 0,
  types: T_ANY,
  words: wordsFor(T_ANY),
  requiredCount: 0,
  minItems: 0,
  maxItems: Number.MAX_SAFE_INTEGER,
}

/** Any JSON object: response_format json_object. */
export const OBJECT_NODE: ValueNode = { ...ANY_NODE, id: 1, types: T.object, words: [] }

/** An open object or array. Immutable: a change makes a new frame. */
export class Frame {
  constructor(
    readonly up: Frame | null,
    readonly node: ValueNode,
    readonly isArray: boolean,
    readonly depth: number,
    /** Array: items begun. Object: properties written. */
    readonly count: number,
    /** Listed-property objects: which properties were written. */
    readonly seen: Uint8Array | null,
    /** Listed-property objects: required properties not written yet. */
    readonly missing: number,
  ) {}
}

export const M = {
  value: 0,
  objFirst: 1,
  objKey: 2,
  key: 3,
  objColon: 4,
  objNext: 5,
  arrFirst: 6,
  arrNext: 7,
  str: 8,
  strUtf: 9,
  strEsc: 10,
  strHex: 11,
  lowBackslash: 12,
  lowU: 13,
  num: 14,
  lit: 15,
  done: 16,
} as const

/** String states' `a`: bit 0 = the string is a free object key; bit 1 = a low surrogate escape must follow. */
const KEY_BIT = 1
const LOW_BIT = 2

/** Number sub-states (State.a in M.num). */
const N = { minus: 0, zero: 1, int: 2, dot: 3, frac: 4, e: 5, eSign: 6, exp: 7 } as const

/**
 * One automaton state. `node` is the value being read (value, string, number, literal modes) or
 * the next value's node (objColon). `a`, `b`, `c` are per-mode:
 * key/lit: candidate range [a, b) and bytes matched c; strUtf: b continuation bytes left,
 * c = (lo << 8) | hi of the next byte; strHex: b hex digits read, c their value; num: a sub-state,
 * b = 1 for integers. `ws` counts the whitespace bytes just read.
 */
export class State {
  constructor(
    readonly mode: number,
    readonly frame: Frame | null,
    readonly node: ValueNode,
    readonly a: number,
    readonly b: number,
    readonly c: number,
    readonly ws: number,
  ) {}
}

/** The state before any output: a value of `root` (an object node) is expected. */
export function initialState(root: ValueNode): State {
  return new State(M.value, null, root, 0, 0, 0, 0)
}

/** Whether the output so far is a complete value (only a stop token may follow). */
export function isComplete(s: State): boolean {
  return s.mode === M.done
}

const isWs = (b: number) => b === 0x20 || b === 0x0a || b === 0x0d || b === 0x09
const isDigit = (b: number) => b >= 0x30 && b <= 0x39
function hexValue(b: number): number {
  if (b >= 0x30 && b <= 0x39) return b - 0x30
  if (b >= 0x61 && b <= 0x66) return b - 0x57
  if (b >= 0x41 && b <= 0x46) return b - 0x37
  return -1
}

function blank(s: State): State | null {
  if (s.ws >= MAX_WHITESPACE_RUN) return null
  return new State(s.mode, s.frame, s.node, s.a, s.b, s.c, s.ws + 1)
}

/** The state after `byte`, or null when no valid output starts with the bytes so far and `byte`. */
export function step(s: State, byte: number): State | null {
  switch (s.mode) {
    case M.value:
      return isWs(byte) ? blank(s) : startValue(s.frame, s.node, byte)
    case M.objFirst:
      if (isWs(byte)) return blank(s)
      if (byte === 0x7d) return closeObject(s.frame!)
      return byte === 0x22 ? startKey(s.frame!) : null
    case M.objKey:
      if (isWs(byte)) return blank(s)
      return byte === 0x22 ? startKey(s.frame!) : null
    case M.key:
      return keyByte(s, byte)
    case M.objColon:
      if (isWs(byte)) return blank(s)
      return byte === 0x3a ? new State(M.value, s.frame, s.node, 0, 0, 0, 0) : null
    case M.objNext: {
      if (isWs(byte)) return blank(s)
      const f = s.frame!
      if (byte === 0x7d) return closeObject(f)
      if (byte !== 0x2c) return null
      // A comma needs a property still to write.
      if (f.node.keys !== undefined && f.count >= f.node.keys.length) return null
      return new State(M.objKey, f, s.node, 0, 0, 0, 0)
    }
    case M.arrFirst: {
      if (isWs(byte)) return blank(s)
      const f = s.frame!
      if (byte === 0x5d) return closeArray(f)
      if (f.node.maxItems < 1) return null
      const g = new Frame(f.up, f.node, true, f.depth, 1, null, 0)
      return startValue(g, f.node.items ?? ANY_NODE, byte)
    }
    case M.arrNext: {
      if (isWs(byte)) return blank(s)
      const f = s.frame!
      if (byte === 0x5d) return closeArray(f)
      if (byte !== 0x2c || f.count >= f.node.maxItems) return null
      const g = new Frame(f.up, f.node, true, f.depth, f.count + 1, null, 0)
      return new State(M.value, g, f.node.items ?? ANY_NODE, 0, 0, 0, 0)
    }
    case M.str:
      return stringByte(s, byte)
    case M.strUtf: {
      if (byte < s.c >>> 8 || byte > (s.c & 0xff)) return null
      if (s.b === 1) return new State(M.str, s.frame, s.node, s.a, 0, 0, 0)
      return new State(M.strUtf, s.frame, s.node, s.a, s.b - 1, 0x80bf, 0)
    }
    case M.strEsc:
      if (byte === 0x75) return new State(M.strHex, s.frame, s.node, s.a, 0, 0, 0)
      return SIMPLE_ESCAPES.has(byte) ? new State(M.str, s.frame, s.node, s.a, 0, 0, 0) : null
    case M.strHex:
      return hexByte(s, byte)
    case M.lowBackslash:
      return byte === 0x5c ? new State(M.lowU, s.frame, s.node, s.a, 0, 0, 0) : null
    case M.lowU:
      return byte === 0x75 ? new State(M.strHex, s.frame, s.node, s.a, 0, 0, 0) : null
    case M.num:
      return numberByte(s, byte)
    case M.lit:
      return literalByte(s, byte)
    default:
      return null
  }
}

/** `"` `\` `/` b f n r t */
const SIMPLE_ESCAPES = new Set([0x22, 0x5c, 0x2f, 0x62, 0x66, 0x6e, 0x72, 0x74])

/** The state after the first byte of a value of `node` inside `frame`. */
function startValue(frame: Frame | null, node: ValueNode, byte: number): State | null {
  if (node.literals !== undefined)
    return literalFrom(frame, node, node.literals, 0, node.literals.length, 0, byte)
  const t = node.types
  const depth = (frame?.depth ?? 0) + 1
  if (byte === 0x7b) {
    if (!(t & T.object) || depth > MAX_DEPTH) return null
    const keys = node.keys
    const f = new Frame(
      frame,
      node,
      false,
      depth,
      0,
      keys ? new Uint8Array(keys.length) : null,
      keys ? node.requiredCount : 0,
    )
    return new State(M.objFirst, f, node, 0, 0, 0, 0)
  }
  if (byte === 0x5b) {
    if (!(t & T.array) || depth > MAX_DEPTH) return null
    return new State(M.arrFirst, new Frame(frame, node, true, depth, 0, null, 0), node, 0, 0, 0, 0)
  }
  if (byte === 0x22) return t & T.string ? new State(M.str, frame, node, 0, 0, 0, 0) : null
  if (byte === 0x2d || isDigit(byte)) {
    if (!(t & (T.number | T.integer))) return null
    const integer = t & T.number ? 0 : 1
    const sub = byte === 0x2d ? N.minus : byte === 0x30 ? N.zero : N.int
    return new State(M.num, frame, node, sub, integer, 0, 0)
  }
  return literalFrom(frame, node, node.words, 0, node.words.length, 0, byte)
}

/** Narrows the candidate texts [lo, hi) (sharing their first `len` bytes) to those with `byte` next. */
function narrow(
  texts: readonly Uint8Array[],
  lo: number,
  hi: number,
  len: number,
  byte: number,
): number {
  let i = lo
  while (i < hi && (texts[i]!.length <= len || texts[i]![len]! < byte)) i++
  let j = i
  while (j < hi && texts[j]![len] === byte) j++
  return i < j ? i * 0x10000 + j : -1
}

function literalFrom(
  frame: Frame | null,
  node: ValueNode,
  texts: readonly Uint8Array[],
  lo: number,
  hi: number,
  len: number,
  byte: number,
): State | null {
  const r = narrow(texts, lo, hi, len, byte)
  if (r >= 0) return new State(M.lit, frame, node, Math.floor(r / 0x10000), r % 0x10000, len + 1, 0)
  // A text that ends here completes the value; the byte then belongs to what follows it.
  if (len > 0 && texts[lo]!.length === len) return after(frame, byte)
  return null
}

function literalByte(s: State, byte: number): State | null {
  const texts = s.node.literals ?? s.node.words
  return literalFrom(s.frame, s.node, texts, s.a, s.b, s.c, byte)
}

/** The state after a complete value inside `frame`. */
function completed(frame: Frame | null): State {
  if (frame === null) return DONE
  return new State(frame.isArray ? M.arrNext : M.objNext, frame, frame.node, 0, 0, 0, 0)
}

const DONE = new State(M.done, null, ANY_NODE, 0, 0, 0, 0)

/** A value that ended just before `byte` (a number or literal): `byte` goes to the container. */
function after(frame: Frame | null, byte: number): State | null {
  return step(completed(frame), byte)
}

function closeObject(f: Frame): State | null {
  return f.missing > 0 ? null : completed(f.up)
}

function closeArray(f: Frame): State | null {
  return f.count < f.node.minItems ? null : completed(f.up)
}

function startKey(f: Frame): State | null {
  const keys = f.node.keys
  if (keys === undefined) return new State(M.str, f, ANY_NODE, KEY_BIT, 0, 0, 0)
  if (f.count >= keys.length) return null
  return new State(M.key, f, f.node, 0, keys.length, 0, 0)
}

/** A byte of a listed property's name: its exact JSON.stringify content, each property once. */
function keyByte(s: State, byte: number): State | null {
  const f = s.frame!
  const keys = f.node.keys!
  const seen = f.seen!
  // A '"' inside a key's content only ever follows a backslash, so trying it as content first is exact.
  const r = narrow(keys, s.a, s.b, s.c, byte)
  if (r >= 0) {
    const lo = Math.floor(r / 0x10000)
    const hi = r % 0x10000
    for (let i = lo; i < hi; i++)
      if (seen[i] === 0) return new State(M.key, f, f.node, lo, hi, s.c + 1, 0)
    return null
  }
  if (byte !== 0x22) return null
  const i = s.a
  if (keys[i]!.length !== s.c || seen[i] !== 0) return null
  const written = seen.slice()
  written[i] = 1
  const g = new Frame(
    f.up,
    f.node,
    false,
    f.depth,
    f.count + 1,
    written,
    f.missing - (f.node.required![i] ? 1 : 0),
  )
  return new State(M.objColon, g, f.node.props![i]!, 0, 0, 0, 0)
}

function stringByte(s: State, byte: number): State | null {
  if (byte === 0x22) {
    if (!(s.a & KEY_BIT)) return completed(s.frame)
    const f = s.frame!
    const g = new Frame(f.up, f.node, false, f.depth, f.count + 1, null, 0)
    return new State(M.objColon, g, ANY_NODE, 0, 0, 0, 0)
  }
  if (byte === 0x5c) return new State(M.strEsc, s.frame, s.node, s.a, 0, 0, 0)
  if (byte < 0x20) return null
  if (byte < 0x80) return s
  // UTF-8 (RFC 3629): no overlong forms, no surrogates, nothing above U+10FFFF.
  let rest: number
  let range: number
  if (byte >= 0xc2 && byte <= 0xdf) [rest, range] = [1, 0x80bf]
  else if (byte === 0xe0) [rest, range] = [2, 0xa0bf]
  else if (byte === 0xed) [rest, range] = [2, 0x809f]
  else if (byte >= 0xe1 && byte <= 0xef) [rest, range] = [2, 0x80bf]
  else if (byte === 0xf0) [rest, range] = [3, 0x90bf]
  else if (byte >= 0xf1 && byte <= 0xf3) [rest, range] = [3, 0x80bf]
  else if (byte === 0xf4) [rest, range] = [3, 0x808f]
  else return null
  return new State(M.strUtf, s.frame, s.node, s.a, rest, range, 0)
}

/**
 * A hex digit of \uXXXX. Surrogates must pair (RFC 7493, I-JSON): a high one (D800-DBFF) must be
 * followed by \u and a low one (DC00-DFFF), and a low one is refused alone. Checked on the second
 * digit, so no accepted prefix is a dead end.
 */
function hexByte(s: State, byte: number): State | null {
  const h = hexValue(byte)
  if (h < 0) return null
  const v = s.c * 16 + h
  const digits = s.b + 1
  const low = (s.a & LOW_BIT) !== 0
  if (digits === 1 && low && v !== 0xd) return null
  if (digits === 2 && (v >= 0xdc && v <= 0xdf) !== low) return null
  if (digits < 4) return new State(M.strHex, s.frame, s.node, s.a, digits, v, 0)
  if (!low && v >= 0xd800 && v <= 0xdbff)
    return new State(M.lowBackslash, s.frame, s.node, s.a | LOW_BIT, 0, 0, 0)
  return new State(M.str, s.frame, s.node, s.a & ~LOW_BIT, 0, 0, 0)
}

/** -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?; integers stop before '.', 'e', 'E'. */
function numberByte(s: State, byte: number): State | null {
  const digit = isDigit(byte)
  const dotOrE = s.b === 0 && (byte === 0x2e || byte === 0x65 || byte === 0x45)
  const to = (sub: number) => (sub === s.a ? s : new State(M.num, s.frame, s.node, sub, s.b, 0, 0))
  switch (s.a) {
    case N.minus:
      return digit ? to(byte === 0x30 ? N.zero : N.int) : null
    case N.zero:
    case N.int:
      if (digit) return s.a === N.int ? s : null
      if (dotOrE) return to(byte === 0x2e ? N.dot : N.e)
      return after(s.frame, byte)
    case N.dot:
      return digit ? to(N.frac) : null
    case N.frac:
      if (digit) return s
      if (byte === 0x65 || byte === 0x45) return to(N.e)
      return after(s.frame, byte)
    case N.e:
      if (byte === 0x2b || byte === 0x2d) return to(N.eSign)
      return digit ? to(N.exp) : null
    case N.eSign:
      return digit ? to(N.exp) : null
    default:
      return digit ? s : after(s.frame, byte)
  }
}

/** Inside a string at a character boundary, not in an escape: the trie walk's whole-subtree case. */
export function isPlainString(s: State): boolean {
  return s.mode === M.str
}

/** Inside a string's content (anywhere: in an escape or a UTF-8 sequence too), not past its end. */
export function isInString(s: State): boolean {
  return s.mode >= M.str && s.mode <= M.lowU
}

/** A state inside a value string at a character boundary (what the trie precomputes from). */
export function stringState(): State {
  return new State(M.str, null, ANY_NODE, 0, 0, 0, 0)
}

/** Runs `bytes` from `s`; null as soon as one is refused. */
export function run(s: State | null, bytes: Uint8Array): State | null {
  for (let i = 0; i < bytes.length && s !== null; i++) s = step(s, bytes[i]!)
  return s
}

/**
 * A string naming the state exactly (mode, fields, and every open frame), for caching the token
 * mask of a state: two states with the same key accept the same continuations.
 */
export function stateKey(s: State): string {
  let key = `${s.mode},${s.node.id},${s.a},${s.b},${s.c},${s.ws}`
  for (let f = s.frame; f !== null; f = f.up) {
    key += `|${f.node.id}${f.isArray ? 'a' : 'o'}`
    if (f.isArray) {
      // Only the bounds read the count.
      if (f.node.minItems > 0 || f.node.maxItems < Number.MAX_SAFE_INTEGER) key += f.count
    } else if (f.seen !== null) key += f.seen.join('')
  }
  return key
}
