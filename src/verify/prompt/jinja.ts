import { ChatTemplateError, ChatTemplateRejectedError } from '../../errors/gateway.ts'

/**
 * The small Jinja subset that GGUF chat templates (ChatML, Llama 2/3, Mistral, Gemma, Qwen, Phi)
 * use, rendered as Hugging Face's `apply_chat_template` does (trim_blocks and lstrip_blocks on).
 *
 * Supported: `{{ expr }}`, `{% if/elif/else/endif %}`, `{% for x in xs [if cond] %}…{% else %}…
 * {% endfor %}` with `loop.*`, `{% set x = expr %}` (also `ns.attr` on a `namespace()`), comments,
 * `-` whitespace control. Expressions: literals, lists, dicts, attribute and item access, slices,
 * `~ + - * / // %`, comparisons, `in`, `not in`, `and or not`, `a if c else b`, tests (`is defined`,
 * `is none`, `is string`, ...), filters (trim, length, upper, lower, tojson, join, default, ...),
 * string and dict methods (strip, startswith, split, items, get, ...), and the globals
 * `raise_exception`, `range`, `namespace`, and any function the context passes (`strftime_now`). Anything else (macros, call blocks,
 * includes) is a ChatTemplateError naming the construct, raised when the template is compiled.
 */

// --- lexing the template into text and tags

type Piece =
  | { kind: 'text'; text: string }
  | { kind: 'output'; source: string; at: number }
  | { kind: 'stmt'; source: string; at: number }

function splitTemplate(source: string): Piece[] {
  const pieces: Piece[] = []
  let i = 0
  let stripNext = false
  let trimNewline = false
  while (i < source.length) {
    const open = nextTagOpen(source, i)
    let text = source.slice(i, open === -1 ? source.length : open)
    if (trimNewline) {
      if (text.startsWith('\r\n')) text = text.slice(2)
      else if (text.startsWith('\n')) text = text.slice(1)
    }
    if (stripNext) text = text.replace(/^\s+/, '')
    stripNext = false
    trimNewline = false
    if (open === -1) {
      if (text) pieces.push({ kind: 'text', text })
      break
    }
    const kind = source[open + 1]!
    const close = kind === '{' ? '}}' : kind === '%' ? '%}' : '#}'
    const end = source.indexOf(close, open + 2)
    if (end === -1) throw new ChatTemplateError(`unclosed tag at offset ${open}`)
    let inner = source.slice(open + 2, end)
    const leftMinus = inner.startsWith('-')
    const leftPlus = inner.startsWith('+')
    if (leftMinus || leftPlus) inner = inner.slice(1)
    const rightMinus = inner.endsWith('-')
    if (rightMinus || inner.endsWith('+')) inner = inner.slice(0, -1)
    if (leftMinus) text = text.replace(/\s+$/, '')
    else if (kind !== '{' && !leftPlus) {
      // lstrip_blocks: whitespace between the line start and a block tag goes.
      const m = /(^|\n)[ \t]+$/.exec(text)
      if (m) text = text.slice(0, text.length - m[0].length + m[1]!.length)
    }
    if (text) pieces.push({ kind: 'text', text })
    if (kind === '{') pieces.push({ kind: 'output', source: inner, at: open })
    else if (kind === '%') pieces.push({ kind: 'stmt', source: inner.trim(), at: open })
    stripNext = rightMinus
    trimNewline = kind !== '{' && !rightMinus
    i = end + 2
  }
  return pieces
}

function nextTagOpen(source: string, from: number): number {
  for (let i = source.indexOf('{', from); i !== -1; i = source.indexOf('{', i + 1)) {
    const c = source[i + 1]
    if (c === '{' || c === '%' || c === '#') return i
  }
  return -1
}

// --- expression tokens

type Tok =
  | { t: 'name'; v: string }
  | { t: 'str'; v: string }
  | { t: 'num'; v: number }
  | { t: 'op'; v: string }
  | { t: 'end' }

const OPS = ['//', '==', '!=', '<=', '>=', '**', '<', '>', '+', '-', '*', '/', '%', '~']
const PUNCT = '()[]{},:.|='

function lex(src: string, at: number): Tok[] {
  const toks: Tok[] = []
  let i = 0
  const fail = (what: string): never => {
    throw new ChatTemplateError(`${what} in tag at offset ${at}: '${src.trim()}'`)
  }
  while (i < src.length) {
    const c = src[i]!
    if (/\s/.test(c)) {
      i++
      continue
    }
    if (/[A-Za-z_]/.test(c)) {
      const m = /^[A-Za-z_][A-Za-z0-9_]*/.exec(src.slice(i))!
      toks.push({ t: 'name', v: m[0] })
      i += m[0].length
      continue
    }
    if (/[0-9]/.test(c)) {
      const m = /^[0-9]+(\.[0-9]+)?/.exec(src.slice(i))!
      toks.push({ t: 'num', v: Number(m[0]) })
      i += m[0].length
      continue
    }
    if (c === "'" || c === '"') {
      let out = ''
      let j = i + 1
      for (; j < src.length && src[j] !== c; j++) {
        if (src[j] === '\\' && j + 1 < src.length) {
          const e = src[++j]!
          out += e === 'n' ? '\n' : e === 't' ? '\t' : e === 'r' ? '\r' : e
        } else out += src[j]
      }
      if (j >= src.length) fail('unterminated string')
      toks.push({ t: 'str', v: out })
      i = j + 1
      continue
    }
    const op = OPS.find((o) => src.startsWith(o, i))
    if (op) {
      toks.push({ t: 'op', v: op })
      i += op.length
      continue
    }
    if (PUNCT.includes(c)) {
      toks.push({ t: 'op', v: c })
      i++
      continue
    }
    fail(`unexpected character '${c}'`)
  }
  toks.push({ t: 'end' })
  return toks
}

// --- expression tree

type Expr =
  | { e: 'lit'; v: unknown }
  | { e: 'var'; name: string }
  | { e: 'attr'; obj: Expr; name: string }
  | { e: 'item'; obj: Expr; key: Expr }
  | { e: 'slice'; obj: Expr; start?: Expr; stop?: Expr; step?: Expr }
  | { e: 'call'; fn: Expr; args: Expr[]; kwargs: [string, Expr][] }
  | { e: 'filter'; value: Expr; name: string; args: Expr[] }
  | { e: 'test'; value: Expr; name: string; negate: boolean; args: Expr[] }
  | { e: 'bin'; op: string; l: Expr; r: Expr }
  | { e: 'not'; v: Expr }
  | { e: 'neg'; v: Expr }
  | { e: 'cond'; test: Expr; yes: Expr; no?: Expr }
  | { e: 'list'; items: Expr[] }
  | { e: 'dict'; entries: [Expr, Expr][] }

class ExprParser {
  private i = 0
  constructor(
    private readonly toks: Tok[],
    private readonly src: string,
    private readonly at: number,
  ) {}

  fail(what: string): never {
    throw new ChatTemplateError(`${what} in tag at offset ${this.at}: '${this.src.trim()}'`)
  }
  peek(): Tok {
    return this.toks[this.i]!
  }
  next(): Tok {
    return this.toks[this.i++]!
  }
  isOp(v: string): boolean {
    const t = this.peek()
    return t.t === 'op' && t.v === v
  }
  isName(v: string): boolean {
    const t = this.peek()
    return t.t === 'name' && t.v === v
  }
  eatOp(v: string): boolean {
    if (!this.isOp(v)) return false
    this.i++
    return true
  }
  eatName(v: string): boolean {
    if (!this.isName(v)) return false
    this.i++
    return true
  }
  expectOp(v: string): void {
    if (!this.eatOp(v)) this.fail(`expected '${v}'`)
  }
  name(): string {
    const t = this.next()
    if (t.t !== 'name') this.fail('expected a name')
    return t.v
  }
  atEnd(): boolean {
    return this.peek().t === 'end'
  }
  done(): void {
    if (!this.atEnd()) this.fail('unexpected trailing input')
  }

  expr(): Expr {
    const yes = this.or()
    if (this.eatName('if')) {
      const test = this.or()
      if (this.eatName('else')) return { e: 'cond', test, yes, no: this.expr() }
      return { e: 'cond', test, yes }
    }
    return yes
  }
  /** An expression without a trailing `if` (for-loop iterables, where `if` filters). */
  orExpr(): Expr {
    return this.or()
  }
  private or(): Expr {
    let l = this.and()
    while (this.eatName('or')) l = { e: 'bin', op: 'or', l, r: this.and() }
    return l
  }
  private and(): Expr {
    let l = this.not()
    while (this.eatName('and')) l = { e: 'bin', op: 'and', l, r: this.not() }
    return l
  }
  private not(): Expr {
    if (this.eatName('not')) return { e: 'not', v: this.not() }
    return this.compare()
  }
  private compare(): Expr {
    let l = this.concat()
    for (;;) {
      const t = this.peek()
      if (t.t === 'op' && ['==', '!=', '<', '>', '<=', '>='].includes(t.v)) {
        this.i++
        l = { e: 'bin', op: t.v, l, r: this.concat() }
      } else if (this.eatName('in')) {
        l = { e: 'bin', op: 'in', l, r: this.concat() }
      } else if (this.isName('not') && this.toks[this.i + 1]?.t === 'name') {
        const n = this.toks[this.i + 1] as { v: string }
        if (n.v !== 'in') break
        this.i += 2
        l = { e: 'not', v: { e: 'bin', op: 'in', l, r: this.concat() } }
      } else if (this.eatName('is')) {
        const negate = this.eatName('not')
        const name = this.name()
        const args: Expr[] = []
        if (this.eatOp('(')) args.push(...this.args().args)
        else if (name === 'divisibleby' || name === 'equalto' || name === 'sameas')
          args.push(this.concat())
        l = { e: 'test', value: l, name, negate, args }
      } else break
    }
    return l
  }
  private concat(): Expr {
    let l = this.additive()
    while (this.eatOp('~')) l = { e: 'bin', op: '~', l, r: this.additive() }
    return l
  }
  private additive(): Expr {
    let l = this.mul()
    for (;;) {
      if (this.eatOp('+')) l = { e: 'bin', op: '+', l, r: this.mul() }
      else if (this.eatOp('-')) l = { e: 'bin', op: '-', l, r: this.mul() }
      else return l
    }
  }
  private mul(): Expr {
    let l = this.unary()
    for (;;) {
      const t = this.peek()
      if (t.t === 'op' && ['*', '/', '//', '%'].includes(t.v)) {
        this.i++
        l = { e: 'bin', op: t.v, l, r: this.unary() }
      } else return l
    }
  }
  private unary(): Expr {
    if (this.eatOp('-')) return { e: 'neg', v: this.unary() }
    if (this.eatOp('+')) return this.unary()
    return this.postfix()
  }
  private postfix(): Expr {
    let v = this.primary()
    for (;;) {
      if (this.eatOp('.')) v = { e: 'attr', obj: v, name: this.name() }
      else if (this.eatOp('[')) {
        let start: Expr | undefined
        if (!this.isOp(':')) start = this.expr()
        if (this.eatOp(':')) {
          const s: Expr = { e: 'slice', obj: v }
          if (start) s.start = start
          if (!this.isOp(']') && !this.isOp(':')) s.stop = this.expr()
          if (this.eatOp(':') && !this.isOp(']')) s.step = this.expr()
          v = s
        } else {
          if (!start) this.fail('empty subscript')
          v = { e: 'item', obj: v, key: start }
        }
        this.expectOp(']')
      } else if (this.eatOp('(')) {
        const { args, kwargs } = this.args()
        v = { e: 'call', fn: v, args, kwargs }
      } else if (this.eatOp('|')) {
        const name = this.name()
        const args: Expr[] = []
        if (this.eatOp('(')) args.push(...this.args().args)
        v = { e: 'filter', value: v, name, args }
      } else return v
    }
  }
  /** Call arguments after '(' up to and including ')'. */
  private args(): { args: Expr[]; kwargs: [string, Expr][] } {
    const args: Expr[] = []
    const kwargs: [string, Expr][] = []
    while (!this.eatOp(')')) {
      const t = this.peek()
      const n = this.toks[this.i + 1]
      if (t.t === 'name' && n?.t === 'op' && n.v === '=') {
        this.i += 2
        kwargs.push([t.v, this.expr()])
      } else args.push(this.expr())
      if (!this.isOp(')')) this.expectOp(',')
    }
    return { args, kwargs }
  }
  private primary(): Expr {
    const t = this.next()
    if (t.t === 'str') {
      let v = t.v
      // Adjacent string literals concatenate, as in Python.
      while (this.peek().t === 'str') v += (this.next() as { v: string }).v
      return { e: 'lit', v }
    }
    if (t.t === 'num') return { e: 'lit', v: t.v }
    if (t.t === 'name') {
      if (t.v === 'true' || t.v === 'True') return { e: 'lit', v: true }
      if (t.v === 'false' || t.v === 'False') return { e: 'lit', v: false }
      if (t.v === 'none' || t.v === 'None') return { e: 'lit', v: null }
      return { e: 'var', name: t.v }
    }
    if (t.t === 'op' && t.v === '(') {
      const v = this.expr()
      if (this.eatOp(',')) {
        const items = [v]
        while (!this.isOp(')')) {
          items.push(this.expr())
          if (!this.isOp(')')) this.expectOp(',')
        }
        this.expectOp(')')
        return { e: 'list', items }
      }
      this.expectOp(')')
      return v
    }
    if (t.t === 'op' && t.v === '[') {
      const items: Expr[] = []
      while (!this.eatOp(']')) {
        items.push(this.expr())
        if (!this.isOp(']')) this.expectOp(',')
      }
      return { e: 'list', items }
    }
    if (t.t === 'op' && t.v === '{') {
      const entries: [Expr, Expr][] = []
      while (!this.eatOp('}')) {
        const k = this.expr()
        this.expectOp(':')
        entries.push([k, this.expr()])
        if (!this.isOp('}')) this.expectOp(',')
      }
      return { e: 'dict', entries }
    }
    return this.fail(t.t === 'end' ? 'unexpected end of expression' : 'unexpected token')
  }
}

// --- statements

type Node =
  | { n: 'text'; text: string }
  | { n: 'out'; expr: Expr }
  | { n: 'if'; branches: { test: Expr; body: Node[] }[]; otherwise: Node[] }
  | {
      n: 'for'
      targets: string[]
      iter: Expr
      filter?: Expr
      body: Node[]
      otherwise: Node[]
    }
  | { n: 'set'; target: string; attr?: string; value: Expr }

function parseTemplate(source: string): Node[] {
  const pieces = splitTemplate(source)
  let i = 0
  const exprOf = (src: string, at: number) => {
    const p = new ExprParser(lex(src, at), src, at)
    const e = p.expr()
    p.done()
    return e
  }
  // Parses nodes until one of `stops` (a block keyword) and returns it with the parser on it.
  const block = (stops: string[]): { body: Node[]; stop: string; parser?: ExprParser } => {
    const body: Node[] = []
    while (i < pieces.length) {
      const piece = pieces[i++]!
      if (piece.kind === 'text') body.push({ n: 'text', text: piece.text })
      else if (piece.kind === 'output')
        body.push({ n: 'out', expr: exprOf(piece.source, piece.at) })
      else {
        const p = new ExprParser(lex(piece.source, piece.at), piece.source, piece.at)
        const kw = p.name()
        if (stops.includes(kw)) return { body, stop: kw, parser: p }
        if (kw === 'if') {
          const first = p.expr()
          p.done()
          const branches = [{ test: first, body: [] as Node[] }]
          let otherwise: Node[] = []
          for (;;) {
            const r = block(['elif', 'else', 'endif'])
            branches[branches.length - 1]!.body = r.body
            if (r.stop === 'elif') {
              const test = r.parser!.expr()
              r.parser!.done()
              branches.push({ test, body: [] })
            } else if (r.stop === 'else') {
              r.parser!.done()
              const e = block(['endif'])
              e.parser!.done()
              otherwise = e.body
              break
            } else {
              r.parser!.done()
              break
            }
          }
          body.push({ n: 'if', branches, otherwise })
        } else if (kw === 'for') {
          const targets = [p.name()]
          while (p.eatOp(',')) targets.push(p.name())
          if (!p.eatName('in')) p.fail("expected 'in'")
          const iter = p.orExpr()
          const node: Node & { n: 'for' } = { n: 'for', targets, iter, body: [], otherwise: [] }
          if (p.eatName('if')) node.filter = p.orExpr()
          p.done()
          const r = block(['else', 'endfor'])
          r.parser!.done()
          node.body = r.body
          if (r.stop === 'else') {
            const e = block(['endfor'])
            e.parser!.done()
            node.otherwise = e.body
          }
          body.push(node)
        } else if (kw === 'set') {
          const target = p.name()
          let attr: string | undefined
          if (p.eatOp('.')) attr = p.name()
          if (!p.eatOp('=')) p.fail("expected '=' (block set is not supported)")
          const value = p.expr()
          p.done()
          body.push(
            attr === undefined ? { n: 'set', target, value } : { n: 'set', target, attr, value },
          )
        } else {
          throw new ChatTemplateError(`unsupported tag '${kw}' at offset ${piece.at}`)
        }
      }
    }
    if (stops.length > 0) throw new ChatTemplateError(`missing {% ${stops.at(-1)} %}`)
    return { body, stop: '' }
  }
  return block([]).body
}

// --- evaluation

class Namespace {
  constructor(readonly values: Record<string, unknown>) {}
}

type Scope = Map<string, unknown>

function truthy(v: unknown): boolean {
  if (v === undefined || v === null || v === false || v === 0 || v === '') return false
  if (Array.isArray(v)) return v.length > 0
  if (v instanceof Namespace) return true
  if (typeof v === 'object') return Object.keys(v as object).length > 0
  return true
}

function str(v: unknown): string {
  if (v === undefined) return ''
  if (v === null) return 'None'
  if (v === true) return 'True'
  if (v === false) return 'False'
  if (typeof v === 'string') return v
  if (typeof v === 'number') return String(v)
  return JSON.stringify(v)
}

function items(v: unknown): unknown[] {
  if (Array.isArray(v)) return v
  if (typeof v === 'string') return [...v]
  if (v && typeof v === 'object') return Object.keys(v)
  if (v === undefined || v === null) return []
  throw new ChatTemplateError(`cannot iterate over ${typeof v}`)
}

function index(list: unknown[] | string, i: number): unknown {
  const k = i < 0 ? list.length + i : i
  return list[k]
}

function equal(a: unknown, b: unknown): boolean {
  if (a === b) return true
  if (a === undefined || b === undefined) return false
  if (typeof a === 'object' && typeof b === 'object') return JSON.stringify(a) === JSON.stringify(b)
  return false
}

/**
 * C's strftime for the directives chat templates use, in UTC: a template's clock is the request's
 * committed render time, and a verifier must render the same text in any time zone.
 */
export function strftime(format: string, d: Date): string {
  const months =
    'January February March April May June July August September October November December'.split(
      ' ',
    )
  const days = 'Sunday Monday Tuesday Wednesday Thursday Friday Saturday'.split(' ')
  const p2 = (n: number) => String(n).padStart(2, '0')
  return format.replace(/%([dbBmYyHMSaAje%])/g, (_, c: string) => {
    switch (c) {
      case 'd':
        return p2(d.getUTCDate())
      case 'e':
        return String(d.getUTCDate())
      case 'b':
        return months[d.getUTCMonth()]!.slice(0, 3)
      case 'B':
        return months[d.getUTCMonth()]!
      case 'm':
        return p2(d.getUTCMonth() + 1)
      case 'Y':
        return String(d.getUTCFullYear())
      case 'y':
        return p2(d.getUTCFullYear() % 100)
      case 'H':
        return p2(d.getUTCHours())
      case 'M':
        return p2(d.getUTCMinutes())
      case 'S':
        return p2(d.getUTCSeconds())
      case 'a':
        return days[d.getUTCDay()]!.slice(0, 3)
      case 'A':
        return days[d.getUTCDay()]!
      case 'j':
        return String(
          Math.floor((d.getTime() - Date.UTC(d.getUTCFullYear(), 0, 0)) / 86400000),
        ).padStart(3, '0')
      default:
        return '%'
    }
  })
}

function toJson(v: unknown, indent?: number): string {
  return JSON.stringify(v ?? null, null, indent)
}

function method(obj: unknown, name: string, args: unknown[]): unknown {
  if (typeof obj === 'string') {
    const a0 = args[0] as string | undefined
    switch (name) {
      case 'strip':
        return a0 === undefined ? obj.trim() : trimChars(obj, a0, true, true)
      case 'lstrip':
        return a0 === undefined ? obj.trimStart() : trimChars(obj, a0, true, false)
      case 'rstrip':
        return a0 === undefined ? obj.trimEnd() : trimChars(obj, a0, false, true)
      case 'startswith':
        return Array.isArray(a0) ? a0.some((p) => obj.startsWith(p)) : obj.startsWith(str(a0))
      case 'endswith':
        return Array.isArray(a0) ? a0.some((p) => obj.endsWith(p)) : obj.endsWith(str(a0))
      case 'upper':
        return obj.toUpperCase()
      case 'lower':
        return obj.toLowerCase()
      case 'title':
        return obj.replace(/\b\w/g, (c) => c.toUpperCase())
      case 'capitalize':
        return obj.charAt(0).toUpperCase() + obj.slice(1).toLowerCase()
      case 'replace':
        return obj.split(str(args[0])).join(str(args[1]))
      case 'split':
        return a0 === undefined ? obj.trim().split(/\s+/).filter(Boolean) : obj.split(a0)
      case 'find':
        return obj.indexOf(str(a0))
      case 'count':
        return obj.split(str(a0)).length - 1
      case 'format':
        return obj.replace(/\{\}/g, () => str(args.shift()))
    }
  } else if (obj instanceof Namespace) {
    // no methods
  } else if (obj && typeof obj === 'object' && !Array.isArray(obj)) {
    const o = obj as Record<string, unknown>
    switch (name) {
      case 'items':
        return Object.entries(o)
      case 'keys':
        return Object.keys(o)
      case 'values':
        return Object.values(o)
      case 'get':
        return str(args[0]) in o ? o[str(args[0])] : args[1]
    }
  }
  throw new ChatTemplateError(
    `unsupported method '${name}' on ${Array.isArray(obj) ? 'list' : typeof obj}`,
  )
}

function trimChars(s: string, chars: string, start: boolean, end: boolean): string {
  let a = 0
  let b = s.length
  if (start) while (a < b && chars.includes(s[a]!)) a++
  if (end) while (b > a && chars.includes(s[b - 1]!)) b--
  return s.slice(a, b)
}

function filter(name: string, v: unknown, args: unknown[]): unknown {
  switch (name) {
    case 'trim':
      return str(v).trim()
    case 'length':
    case 'count':
      return typeof v === 'string' || Array.isArray(v) ? v.length : items(v).length
    case 'upper':
      return str(v).toUpperCase()
    case 'lower':
      return str(v).toLowerCase()
    case 'capitalize':
      return method(str(v), 'capitalize', [])
    case 'title':
      return method(str(v), 'title', [])
    case 'string':
      return str(v)
    case 'int':
      return Math.trunc(Number(v)) || 0
    case 'float':
      return Number(v) || 0
    case 'tojson':
      return toJson(v, args[0] as number | undefined)
    case 'first':
      return items(v)[0]
    case 'last':
      return items(v).at(-1)
    case 'list':
      return [...items(v)]
    case 'reverse':
      return typeof v === 'string' ? [...v].reverse().join('') : [...items(v)].reverse()
    case 'join':
      return items(v)
        .map(str)
        .join(args[0] === undefined ? '' : str(args[0]))
    case 'default':
    case 'd':
      return v === undefined || (args[1] === true && !truthy(v)) ? args[0] : v
    case 'replace':
      return str(v).split(str(args[0])).join(str(args[1]))
    case 'safe':
    case 'e':
    case 'escape':
      return name === 'safe' ? v : str(v).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`)
    case 'abs':
      return Math.abs(Number(v))
    case 'items':
      return Object.entries((v ?? {}) as object)
  }
  throw new ChatTemplateError(`unsupported filter '${name}'`)
}

function test(name: string, v: unknown, args: unknown[]): boolean {
  switch (name) {
    case 'defined':
      return v !== undefined
    case 'undefined':
      return v === undefined
    case 'none':
      return v === null
    case 'string':
      return typeof v === 'string'
    case 'number':
      return typeof v === 'number'
    case 'integer':
      return Number.isInteger(v)
    case 'boolean':
      return typeof v === 'boolean'
    case 'true':
      return v === true
    case 'false':
      return v === false
    case 'mapping':
      return v !== null && typeof v === 'object' && !Array.isArray(v)
    case 'sequence':
    case 'iterable':
      return Array.isArray(v) || typeof v === 'string' || (v !== null && typeof v === 'object')
    case 'even':
      return Number(v) % 2 === 0
    case 'odd':
      return Number(v) % 2 === 1
    case 'divisibleby':
      return Number(v) % Number(args[0]) === 0
    case 'equalto':
    case 'eq':
    case 'sameas':
      return equal(v, args[0])
  }
  throw new ChatTemplateError(`unsupported test '${name}'`)
}

class Evaluator {
  constructor(private readonly scopes: Scope[]) {}

  lookup(name: string): unknown {
    for (let i = this.scopes.length - 1; i >= 0; i--) {
      const s = this.scopes[i]!
      if (s.has(name)) return s.get(name)
    }
    return undefined
  }

  eval(x: Expr): unknown {
    switch (x.e) {
      case 'lit':
        return x.v
      case 'var':
        return this.lookup(x.name)
      case 'attr': {
        const o = this.eval(x.obj)
        if (o instanceof Namespace) return o.values[x.name]
        if (o === null || o === undefined) return undefined
        if (typeof o === 'object' && Object.hasOwn(o, x.name))
          return (o as Record<string, unknown>)[x.name]
        // Methods are looked up at call time.
        return { __method: x.name, __self: o }
      }
      case 'item': {
        const o = this.eval(x.obj)
        const k = this.eval(x.key)
        if (o === null || o === undefined) return undefined
        if ((Array.isArray(o) || typeof o === 'string') && typeof k === 'number') return index(o, k)
        if (o instanceof Namespace) return o.values[str(k)]
        if (typeof o === 'object') {
          const key = str(k)
          return Object.hasOwn(o, key) ? (o as Record<string, unknown>)[key] : undefined
        }
        return undefined
      }
      case 'slice': {
        const o = this.eval(x.obj)
        const list = typeof o === 'string' ? [...o] : items(o)
        const step = x.step ? Number(this.eval(x.step)) : 1
        if (step === 0) throw new ChatTemplateError('slice step cannot be zero')
        const n = list.length
        const norm = (v: unknown, dflt: number) => {
          if (v === undefined || v === null) return dflt
          const k = Number(v)
          return k < 0 ? Math.max(k + n, step > 0 ? 0 : -1) : Math.min(k, step > 0 ? n : n - 1)
        }
        const start = norm(x.start && this.eval(x.start), step > 0 ? 0 : n - 1)
        const stop = norm(x.stop && this.eval(x.stop), step > 0 ? n : -1)
        const out: unknown[] = []
        for (let i = start; step > 0 ? i < stop : i > stop; i += step) out.push(list[i])
        return typeof o === 'string' ? out.join('') : out
      }
      case 'call': {
        const args = x.args.map((a) => this.eval(a))
        const kwargs = Object.fromEntries(x.kwargs.map(([k, v]) => [k, this.eval(v)]))
        if (x.fn.e === 'var') {
          const name = x.fn.name
          const local = this.lookup(name)
          if (typeof local === 'function') return (local as (...a: unknown[]) => unknown)(...args)
          if (name === 'raise_exception') throw new ChatTemplateRejectedError(str(args[0]))
          if (name === 'namespace') return new Namespace({ ...kwargs })
          if (name === 'range') {
            const [a, b, c] = args.map(Number)
            const [lo, hi, st] = b === undefined ? [0, a!, 1] : [a!, b, c ?? 1]
            const out: number[] = []
            for (let i = lo; st > 0 ? i < hi : i > hi; i += st) out.push(i)
            return out
          }
          // strftime_now is given by the caller (renderChat: the request's committed time);
          // without it a template that reads the clock cannot be rendered reproducibly.
          throw new ChatTemplateError(`unsupported function '${name}'`)
        }
        const f = this.eval(x.fn) as { __method?: string; __self?: unknown } | undefined
        if (f && typeof f === 'object' && f.__method !== undefined)
          return method(f.__self, f.__method, args)
        throw new ChatTemplateError('call of a value that is not a function')
      }
      case 'filter':
        return filter(
          x.name,
          this.eval(x.value),
          x.args.map((a) => this.eval(a)),
        )
      case 'test': {
        const r = test(
          x.name,
          this.eval(x.value),
          x.args.map((a) => this.eval(a)),
        )
        return x.negate ? !r : r
      }
      case 'not':
        return !truthy(this.eval(x.v))
      case 'neg':
        return -Number(this.eval(x.v))
      case 'cond':
        return truthy(this.eval(x.test)) ? this.eval(x.yes) : x.no ? this.eval(x.no) : undefined
      case 'list':
        return x.items.map((i) => this.eval(i))
      case 'dict':
        return Object.fromEntries(x.entries.map(([k, v]) => [str(this.eval(k)), this.eval(v)]))
      case 'bin':
        return this.binary(x.op, x.l, x.r)
    }
  }

  private binary(op: string, le: Expr, re: Expr): unknown {
    if (op === 'and') {
      const l = this.eval(le)
      return truthy(l) ? this.eval(re) : l
    }
    if (op === 'or') {
      const l = this.eval(le)
      return truthy(l) ? l : this.eval(re)
    }
    const l = this.eval(le)
    const r = this.eval(re)
    switch (op) {
      case '~':
        return str(l) + str(r)
      case '+':
        if (typeof l === 'number' && typeof r === 'number') return l + r
        if (Array.isArray(l) && Array.isArray(r)) return [...l, ...r]
        if (typeof l === 'string' && typeof r === 'string') return l + r
        if (l === undefined || r === undefined)
          return typeof (l ?? r) === 'string' ? str(l) + str(r) : undefined
        throw new ChatTemplateError(`cannot add ${typeof l} and ${typeof r}`)
      case '-':
        return Number(l) - Number(r)
      case '*':
        if (typeof l === 'string' && typeof r === 'number') return l.repeat(Math.max(0, r))
        return Number(l) * Number(r)
      case '/':
        return Number(l) / Number(r)
      case '//':
        return Math.floor(Number(l) / Number(r))
      case '%':
        return ((Number(l) % Number(r)) + Number(r)) % Number(r)
      case '==':
        return equal(l, r)
      case '!=':
        return !equal(l, r)
      case '<':
        return (l as number) < (r as number)
      case '>':
        return (l as number) > (r as number)
      case '<=':
        return (l as number) <= (r as number)
      case '>=':
        return (l as number) >= (r as number)
      case 'in':
        if (typeof r === 'string') return r.includes(str(l))
        if (Array.isArray(r)) return r.some((v) => equal(v, l))
        if (r instanceof Namespace) return str(l) in r.values
        if (r && typeof r === 'object') return Object.hasOwn(r, str(l))
        return false
    }
    throw new ChatTemplateError(`unsupported operator '${op}'`)
  }
}

function run(nodes: Node[], ev: Evaluator, scopes: Scope[], out: string[]): void {
  for (const node of nodes) {
    switch (node.n) {
      case 'text':
        out.push(node.text)
        break
      case 'out':
        out.push(str(ev.eval(node.expr)))
        break
      case 'if': {
        const branch = node.branches.find((b) => truthy(ev.eval(b.test)))
        run(branch ? branch.body : node.otherwise, ev, scopes, out)
        break
      }
      case 'set': {
        const value = ev.eval(node.value)
        if (node.attr === undefined) scopes[scopes.length - 1]!.set(node.target, value)
        else {
          const ns = ev.lookup(node.target)
          if (!(ns instanceof Namespace))
            throw new ChatTemplateError(`'${node.target}' is not a namespace()`)
          ns.values[node.attr] = value
        }
        break
      }
      case 'for': {
        const all = items(ev.eval(node.iter))
        const scope: Scope = new Map()
        scopes.push(scope)
        try {
          const assign = (item: unknown) => {
            if (node.targets.length === 1) scope.set(node.targets[0]!, item)
            else {
              const parts = items(item)
              node.targets.forEach((t, k) => {
                scope.set(t, parts[k])
              })
            }
          }
          let list = all
          if (node.filter) {
            const f = node.filter
            list = all.filter((item) => {
              assign(item)
              return truthy(ev.eval(f))
            })
          }
          if (list.length === 0) {
            scope.clear()
            run(node.otherwise, ev, scopes, out)
            break
          }
          list.forEach((item, k) => {
            scope.clear()
            assign(item)
            scope.set('loop', {
              index: k + 1,
              index0: k,
              revindex: list.length - k,
              revindex0: list.length - k - 1,
              first: k === 0,
              last: k === list.length - 1,
              length: list.length,
              previtem: list[k - 1],
              nextitem: list[k + 1],
            })
            run(node.body, ev, scopes, out)
          })
        } finally {
          scopes.pop()
        }
        break
      }
    }
  }
}

export type CompiledTemplate = (context: Record<string, unknown>) => string

/** Compiles a chat template; a ChatTemplateError names the first construct it cannot handle. */
export function compileTemplate(source: string): CompiledTemplate {
  const nodes = parseTemplate(source)
  return (context) => {
    const scopes: Scope[] = [new Map(Object.entries(context)), new Map()]
    const out: string[] = []
    try {
      run(nodes, new Evaluator(scopes), scopes, out)
    } catch (error) {
      if (error instanceof ChatTemplateError || error instanceof ChatTemplateRejectedError)
        throw error
      throw new ChatTemplateError('rendering failed', { cause: error })
    }
    return out.join('')
  }
}
