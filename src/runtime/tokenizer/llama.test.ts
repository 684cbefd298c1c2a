import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { TokenizerError } from '../../errors/runtime.ts'
import { buildLlamaVocab, metadataFromEntries } from './build-vocab.ts'
import { byteId, ENGLISH, llamaTokenizer } from './fixtures.ts'
import { tokenizerFromGguf } from './tokenizer.ts'
import { trainSpmBpe } from './train.ts'

// Ids: '▁'=259 'a'=260 'b'=261 'c'=262 'ab'=263 'bc'=264 '▁a'=265 '▁ab'=266
const PIECES = [
  ['▁', -100],
  ['a', -100],
  ['b', -100],
  ['c', -100],
  ['ab', -1],
  ['bc', -2],
  ['▁a', -3],
  ['▁ab', -4],
] as const
const tok = llamaTokenizer(PIECES)
const noBos = { addBos: false }

describe('llama (SentencePiece BPE) encode', () => {
  it('merges the highest score first', () => {
    // ▁abc: ab(-1) beats bc(-2) and ▁a(-3); then ▁+ab → ▁ab(-4); 'abc' is no token.
    expect(tok.encode('abc', noBos)).toEqual([266, 262])
    const bcFirst = llamaTokenizer([...PIECES.slice(0, 5), ['bc', 0], ...PIECES.slice(6)])
    // bc(0) first, then ▁a(-3); '▁abc' and 'abc' are no tokens.
    expect(bcFirst.encode('abc', noBos)).toEqual([265, 264])
  })

  it('breaks score ties leftmost first', () => {
    const aa = llamaTokenizer([
      ['▁', -100],
      ['a', -100],
      ['aa', -1],
    ])
    // ▁aaa: both 'aa' pairs tie; the left one merges, leaving a lone 'a'.
    expect(aa.encode('aaa', noBos)).toEqual([259, 261, 260])
    expect(aa.encode('aaaa', noBos)).toEqual([259, 261, 261])
    const tie = llamaTokenizer([
      ['▁', -100],
      ['a', -100],
      ['aa', -1],
      ['▁a', -1],
    ])
    // ▁a (leftmost of three ties) first; then the remaining 'aa'.
    expect(tie.encode('aaa', noBos)).toEqual([262, 261])
  })

  it('adds BOS and the space prefix like llama.cpp', () => {
    expect(tok.encode('a')).toEqual([1, 265])
    expect(tok.encode('')).toEqual([1])
    expect(tok.encode('', noBos)).toEqual([])
    expect(tok.encode('a', { addEos: true })).toEqual([1, 265, 2])
    const noPrefix = llamaTokenizer(PIECES, { 'tokenizer.ggml.add_space_prefix': false })
    expect(noPrefix.encode('abc', noBos)).toEqual([263, 262])
    expect(noPrefix.decode([263, 262])).toBe('abc')
  })

  it('handles leading and repeated spaces and newlines', () => {
    expect(tok.encode(' a', noBos)).toEqual([259, 265]) // ▁▁a
    expect(tok.encode('a  b', noBos)).toEqual([265, 259, 259, 261]) // ▁a▁▁b
    // Llama 2's vocab has the same layout: '\n' is <0x0A> = 13, as llama.cpp gives.
    expect(tok.encode('a\nb', noBos)).toEqual([265, 13, 261])
    expect(tok.encode('\n\n', noBos)).toEqual([259, 13, 13])
  })

  it('falls back to byte tokens for emoji and CJK', () => {
    expect(tok.encode('😀', noBos)).toEqual([
      259,
      byteId(0xf0),
      byteId(0x9f),
      byteId(0x98),
      byteId(0x80),
    ])
    expect(tok.encode('中', noBos)).toEqual([259, byteId(0xe4), byteId(0xb8), byteId(0xad)])
    expect(tok.decode(tok.encode('a中😀b'))).toBe('a中😀b')
  })

  it('uses the unknown token when the vocab has no byte tokens', () => {
    const metadata = new Map<string, unknown>([
      ['tokenizer.ggml.model', 'llama'],
      ['tokenizer.ggml.tokens', ['<unk>', '<s>', '</s>', '▁', 'a']],
      ['tokenizer.ggml.scores', [0, 0, 0, -1, -1]],
      ['tokenizer.ggml.token_type', [2, 3, 3, 1, 1]],
    ])
    expect(tokenizerFromGguf(metadata).encode('ab😀', noBos)).toEqual([3, 4, 0, 0])
    metadata.set('tokenizer.ggml.unknown_token_id', 0xffffffff)
    expect(() => tokenizerFromGguf(metadata).encode('ab', noBos)).toThrow(TokenizerError)
  })

  it('treats a literal ▁ in the input as a space, as llama.cpp does', () => {
    // llama.cpp escapes spaces to '▁' before merging, so the two cannot be told apart.
    expect(tok.encode('▁', noBos)).toEqual(tok.encode(' ', noBos))
    expect(tok.encode('a▁b', noBos)).toEqual(tok.encode('a b', noBos))
    expect(tok.decode(tok.encode('a▁ b'))).toBe('a  b')
  })

  it("falls back to the bytes of '▁' for a space when the vocab has no ▁ (llama.cpp's byte fallback)", () => {
    const bare = llamaTokenizer([['a', -1]])
    const mark = [byteId(0xe2), byteId(0x96), byteId(0x81)]
    expect(bare.encode(' a', noBos)).toEqual([...mark, ...mark, 259])
  })

  it('parses special tokens only when asked', () => {
    expect(tok.encode('<s>ab', { addBos: false, parseSpecial: true })).toEqual([1, 266])
    // Not parsed: '<', 's', '>' are bytes.
    expect(tok.encode('<s>ab', noBos)).toEqual([259, byteId(0x3c), byteId(0x73), byteId(0x3e), 263])
    // As in llama.cpp, text after a special token gets the space prefix again.
    expect(tok.encode('a</s>b', { addBos: false, parseSpecial: true })).toEqual([265, 2, 259, 261])
  })
})

describe('llama decode', () => {
  it('strips the prefix space once and hides control tokens', () => {
    expect(tok.decode([265])).toBe('a')
    expect(tok.decode([1, 265])).toBe('a')
    expect(tok.decode([259, 265])).toBe(' a')
    expect(tok.decode([1, 265, 2], { special: true })).toBe('<s> a</s>')
    expect(tok.decode([byteId(0xe4), byteId(0xb8), byteId(0xad)])).toBe('中')
  })

  it('rejects ids outside the vocabulary, naming the id', () => {
    expect(() => tok.decode([265, 267])).toThrow(/token id 267/)
    expect(() => tok.decode([-1])).toThrow(TokenizerError)
    expect(() => tok.tokenBytes(1.5)).toThrow(TokenizerError)
  })

  it('exposes token bytes, text and types', () => {
    expect([...tok.tokenBytes(266)]).toEqual([0x20, 0x61, 0x62])
    expect([...tok.tokenBytes(byteId(0xff))]).toEqual([0xff])
    expect(tok.tokenBytes(1).length).toBe(0)
    expect(tok.tokenText(1)).toBe('<s>')
    expect(tok.isControl(2)).toBe(true)
    expect(tok.isControl(266)).toBe(false)
    expect(tok.tokenType(3)).toBe(6)
  })
})

/** The merge rule without a heap: rescan for the best pair after every merge. */
function naiveSpm(
  pieces: ReadonlyMap<string, number>,
  scores: (id: number) => number,
  text: string,
) {
  if (text === '') return []
  const symbols = Array.from(` ${text}`.replaceAll(' ', '▁'))
  for (;;) {
    let best = -1
    let bestScore = Number.NEGATIVE_INFINITY
    for (let i = 0; i + 1 < symbols.length; i++) {
      const id = pieces.get(symbols[i]! + symbols[i + 1]!)
      if (id !== undefined && scores(id) > bestScore) {
        best = i
        bestScore = scores(id)
      }
    }
    if (best < 0) return symbols
    symbols.splice(best, 2, symbols[best]! + symbols[best + 1]!)
  }
}

describe('llama properties', () => {
  const trained = trainSpmBpe(ENGLISH, 700)
  const big = tokenizerFromGguf(metadataFromEntries(buildLlamaVocab(trained)))
  const ids = new Map(trained.map((p, i) => [p.text, 259 + i]))
  const score = (id: number) => Math.fround(trained[id - 259]!.score)
  const alphabet = fc.constantFrom(
    ...Array.from(' aehlnostr\n.😀中▁\u00e9\u0301'),
    '😀',
    'the',
    ' the',
  )
  const english = fc.array(alphabet, { maxLength: 40 }).map((a) => a.join(''))
  // Any scalar value: all code points but the surrogates, which cannot stand alone in valid text.
  const codePoint = fc
    .integer({ min: 0, max: 0x10ffff - 0x800 })
    .map((c) => String.fromCodePoint(c < 0xd800 ? c : c + 0x800))
  const params = { seed: 20260822, numRuns: 400 }

  it('round-trips arbitrary Unicode exactly (a literal ▁ comes back as a space)', () => {
    const unicode = fc.string({ unit: codePoint, maxLength: 60 }).map((s) => s.replaceAll('▁', ' '))
    fc.assert(
      fc.property(
        fc.oneof(
          unicode,
          english.map((s) => s.replaceAll('▁', ' ')),
        ),
        (s) => {
          expect(big.decode(big.encode(s))).toBe(s)
          expect(big.decode(big.encode(s, { addBos: false }))).toBe(s)
        },
      ),
      params,
    )
  })

  it('replaces lone surrogates with U+FFFD', () => {
    const surrogate = fc.integer({ min: 0xd800, max: 0xdfff }).map((c) => String.fromCharCode(c))
    const mixed = fc.array(fc.oneof(surrogate, alphabet), { maxLength: 20 }).map((a) => a.join(''))
    fc.assert(
      fc.property(mixed, (s) => {
        expect(big.decode(big.encode(s))).toBe(
          s.replace(/[\uD800-\uDFFF]/gu, '\uFFFD').replaceAll('▁', ' '),
        )
      }),
      params,
    )
  })

  it('merges exactly like a quadratic rescan', () => {
    const noLiteral = english.filter((s) => !s.includes('▁'))
    fc.assert(
      fc.property(noLiteral, (s) => {
        const expected = naiveSpm(ids, score, s).flatMap((piece) =>
          ids.has(piece)
            ? [ids.get(piece)!]
            : big.encode(piece === '▁' ? ' ' : piece, { addBos: false }).slice(1),
        )
        expect(big.encode(s, { addBos: false })).toEqual(expected)
      }),
      params,
    )
  })

  it('encodes a long prompt quickly (heap, not rescans)', () => {
    const prompt = ENGLISH.repeat(10)
    const out = big.encode(prompt)
    expect(big.decode(out)).toBe(prompt)
    expect(out.length).toBeLessThan(new TextEncoder().encode(prompt).length)
  })
})
