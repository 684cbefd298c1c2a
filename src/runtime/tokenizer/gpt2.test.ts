import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { TokenizerError } from '../../errors/runtime.ts'
import { preTokenizer, splitWords } from './bpe.ts'
import { BYTE_TO_CHAR } from './byte-unicode.ts'
import { gpt2Metadata, gpt2Tokenizer } from './fixtures.ts'
import { tokenizerFromGguf } from './tokenizer.ts'

// Ids: bytes 0..255 in byte order, then 'Ġw'=256 'or'=257 'Ġwor'=258 'ld'=259 'Ġworld'=260
// 'He'=261 'll'=262 'Hell'=263 'Hello'=264, '<|endoftext|>'=265.
const MERGES = ['Ġ w', 'o r', 'Ġw or', 'l d', 'Ġwor ld', 'H e', 'l l', 'He ll', 'Hell o']
const tok = gpt2Tokenizer(MERGES)
const split = (text: string) => splitWords(preTokenizer('gpt2'), text)

describe('gpt2 byte-to-unicode table', () => {
  it('maps printable bytes to themselves and the rest from U+0100 on', () => {
    expect(new Set(BYTE_TO_CHAR).size).toBe(256)
    expect(BYTE_TO_CHAR[0x41]).toBe('A')
    expect(BYTE_TO_CHAR[0x20]).toBe('Ġ')
    expect(BYTE_TO_CHAR[0x0a]).toBe('Ċ')
    expect(BYTE_TO_CHAR[0x00]).toBe('Ā')
    expect(BYTE_TO_CHAR[0xad]).toBe('Ń')
  })
})

describe('gpt2 pre-tokenizer', () => {
  it('splits like GPT-2', () => {
    expect(split("Hello world's  test\n\n 123")).toEqual([
      'Hello',
      ' world',
      "'s",
      ' ',
      ' test',
      '\n\n',
      ' 123',
    ])
    expect(split("I'll go!! 中文 ok  ")).toEqual(['I', "'ll", ' go', '!!', ' 中文', ' ok', '  '])
  })

  it('refuses pre-tokenizers it does not implement, by name', () => {
    const metadata = gpt2Metadata(MERGES)
    metadata.set('tokenizer.ggml.pre', 'falcon')
    expect(() => tokenizerFromGguf(metadata)).toThrow(/"falcon"/)
    metadata.set('tokenizer.ggml.pre', 'default')
    expect(tokenizerFromGguf(metadata).encode('Hello world')).toEqual([264, 260])
  })
})

describe('gpt2 encode', () => {
  it('applies merges by rank', () => {
    // Hello: He(5), ll(6), Hell(7), Hello(8). " world": Ġw(0), or(1), Ġwor(2), then ld(3), Ġworld(4).
    expect(tok.encode('Hello world')).toEqual([264, 260])
    expect(tok.decode([264, 260])).toBe('Hello world')
    // 'or' (rank 1) wins over 'ld' (rank 3) even though both are available at once.
    expect(tok.encode('orld')).toEqual([257, 259])
  })

  it('breaks rank ties leftmost first', () => {
    const aa = gpt2Tokenizer(['a a'])
    expect(aa.encode('aaa')).toEqual([256, 0x61])
    expect(aa.encode('aaaa')).toEqual([256, 256])
  })

  it('encodes spaces, newlines, emoji and CJK as bytes when nothing merges', () => {
    expect(tok.encode('a  b\n\nc')).toEqual([0x61, 0x20, 0x20, 0x62, 0x0a, 0x0a, 0x63])
    expect(tok.encode('😀')).toEqual([0xf0, 0x9f, 0x98, 0x80])
    expect(tok.encode('中文')).toEqual([0xe4, 0xb8, 0xad, 0xe6, 0x96, 0x87])
    expect(tok.encode('')).toEqual([])
  })

  it('adds no BOS by default and parses special tokens only when asked', () => {
    expect(tok.addBos).toBe(false)
    expect(tok.encode('<|endoftext|>Hello', { parseSpecial: true })).toEqual([265, 264])
    expect(tok.encode('<|endoftext|>', {})).toHaveLength(13)
    expect(tok.encode('Hello', { addBos: true, addEos: true })).toEqual([265, 264, 265])
  })

  it('decodes control tokens only when asked', () => {
    expect(tok.decode([265, 264])).toBe('Hello')
    expect(tok.decode([265, 264], { special: true })).toBe('<|endoftext|>Hello')
    expect(tok.isControl(265)).toBe(true)
    expect(() => tok.decode([266])).toThrow(TokenizerError)
    expect(() => tok.decode([266])).toThrow(/266/)
  })
})

/** The merge rule without a heap: rescan for the lowest-rank pair after every merge. */
function naiveBpe(merges: readonly string[], word: string): string[] {
  const rank = new Map(merges.map((m, i) => [m, i]))
  const symbols = Array.from(word)
  for (;;) {
    let best = -1
    let bestRank = Number.POSITIVE_INFINITY
    for (let i = 0; i + 1 < symbols.length; i++) {
      const r = rank.get(`${symbols[i]} ${symbols[i + 1]}`)
      if (r !== undefined && r < bestRank) {
        best = i
        bestRank = r
      }
    }
    if (best < 0) return symbols
    symbols.splice(best, 2, symbols[best]! + symbols[best + 1]!)
  }
}

describe('gpt2 properties', () => {
  const merges = [
    ...MERGES,
    'Ġ t',
    'h e',
    'Ġt he',
    'Ġ a',
    'a a',
    'aa a',
    'Ċ Ċ',
    'Ġ Ġ',
    'ĠĠ ĠĠ',
    'ä ¸',
    'ä¸ Ń',
    'ð Ł',
  ]
  const big = gpt2Tokenizer(merges)
  const codePoint = fc
    .integer({ min: 0, max: 0x10ffff - 0x800 })
    .map((c) => String.fromCodePoint(c < 0xd800 ? c : c + 0x800))
  const alphabet = fc.constantFrom(...Array.from(' aehlHdorwt\n\t.!中😀'), "'s", ' the', 'Hello')
  const english = fc.array(alphabet, { maxLength: 40 }).map((a) => a.join(''))
  const params = { seed: 20260822, numRuns: 400 }

  it('round-trips arbitrary Unicode exactly', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string({ unit: codePoint, maxLength: 60 }), english), (s) => {
        expect(big.decode(big.encode(s))).toBe(s)
      }),
      params,
    )
  })

  it('replaces lone surrogates with U+FFFD', () => {
    const surrogate = fc.integer({ min: 0xd800, max: 0xdfff }).map((c) => String.fromCharCode(c))
    const mixed = fc.array(fc.oneof(surrogate, alphabet), { maxLength: 20 }).map((a) => a.join(''))
    fc.assert(
      fc.property(mixed, (s) => {
        expect(big.decode(big.encode(s))).toBe(s.replace(/[\uD800-\uDFFF]/gu, '\uFFFD'))
      }),
      params,
    )
  })

  it('merges exactly like a quadratic rescan', () => {
    const ids = new Map<string, number>()
    for (let id = 0; id < big.vocabSize; id++) ids.set(big.tokenText(id), id)
    fc.assert(
      fc.property(english, (s) => {
        const expected = split(s).flatMap((word) => {
          const mapped = Array.from(new TextEncoder().encode(word), (b) => BYTE_TO_CHAR[b]).join('')
          return naiveBpe(merges, mapped).map((piece) => ids.get(piece)!)
        })
        expect(big.encode(s)).toEqual(expected)
      }),
      params,
    )
  })
})
