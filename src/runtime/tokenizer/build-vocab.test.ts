import { describe, expect, it } from 'vitest'
import { TokenizerError } from '../../errors/runtime.ts'
import {
  buildLlamaVocab,
  LLAMA_RESERVED,
  type MetadataEntry,
  metadataFromEntries,
  syntheticLlamaVocab,
} from './build-vocab.ts'
import { tokenizerFromGguf } from './tokenizer.ts'

const value = (entries: readonly MetadataEntry[], key: string) =>
  entries.find(([k]) => k === key)?.[1]

function checkConsistent(entries: readonly MetadataEntry[]): string[] {
  const tokens = value(entries, 'tokenizer.ggml.tokens')!.value as string[]
  const scores = value(entries, 'tokenizer.ggml.scores')!.value as number[]
  const types = value(entries, 'tokenizer.ggml.token_type')!.value as number[]
  expect(scores).toHaveLength(tokens.length)
  expect(types).toHaveLength(tokens.length)
  expect(new Set(tokens).size).toBe(tokens.length)
  expect(tokens.slice(0, 3)).toEqual(['<unk>', '<s>', '</s>'])
  expect(types.slice(0, 3)).toEqual([2, 3, 3])
  expect(tokens[3 + 0x0a]).toBe('<0x0A>')
  expect(tokens[3 + 0xff]).toBe('<0xFF>')
  for (let b = 0; b < 256; b++) {
    expect(tokens[3 + b]).toMatch(/^<0x[0-9A-F]{2}>$/)
    expect(types[3 + b]).toBe(6)
  }
  for (const s of scores) expect(Math.fround(s)).toBe(s)
  for (const t of types.slice(LLAMA_RESERVED)) expect(t).toBe(1)
  return tokens
}

describe('buildLlamaVocab', () => {
  it('lays out specials, bytes, then pieces with typed entries', () => {
    const entries = buildLlamaVocab([
      { text: '▁the', score: -1.1 },
      { text: 'x', score: -2 },
    ])
    const tokens = checkConsistent(entries)
    expect(tokens.slice(259)).toEqual(['▁the', 'x'])
    expect(value(entries, 'tokenizer.ggml.model')).toEqual({ type: 'string', value: 'llama' })
    expect(value(entries, 'tokenizer.ggml.tokens')).toMatchObject({
      type: 'array',
      itemType: 'string',
    })
    expect(value(entries, 'tokenizer.ggml.scores')).toMatchObject({
      type: 'array',
      itemType: 'f32',
    })
    expect(value(entries, 'tokenizer.ggml.bos_token_id')).toEqual({ type: 'u32', value: 1 })
    expect(value(entries, 'tokenizer.ggml.add_bos_token')).toEqual({ type: 'bool', value: true })
    expect((value(entries, 'tokenizer.ggml.scores')!.value as number[])[259]).toBe(
      Math.fround(-1.1),
    )
  })

  it('rejects duplicates, empty pieces and lone surrogates', () => {
    expect(() =>
      buildLlamaVocab([
        { text: 'a', score: 0 },
        { text: 'a', score: -1 },
      ]),
    ).toThrow(/duplicate vocab piece "a"/)
    expect(() => buildLlamaVocab([{ text: '<s>', score: 0 }])).toThrow(TokenizerError)
    expect(() => buildLlamaVocab([{ text: '<0x41>', score: 0 }])).toThrow(TokenizerError)
    expect(() => buildLlamaVocab([{ text: '', score: 0 }])).toThrow(/empty/)
    expect(() => buildLlamaVocab([{ text: '\ud800', score: 0 }])).toThrow(/surrogate/)
  })
})

describe('syntheticLlamaVocab', () => {
  it('fills exactly the requested size with distinct pieces', () => {
    for (const size of [259, 260, 1000, 32000]) {
      expect(checkConsistent(syntheticLlamaVocab(size))).toHaveLength(size)
    }
    expect(() => syntheticLlamaVocab(258)).toThrow(TokenizerError)
  })

  it('is deterministic and encodes words into word pieces', () => {
    const entries = syntheticLlamaVocab(32000)
    expect(entries).toEqual(syntheticLlamaVocab(32000))
    const tok = tokenizerFromGguf(metadataFromEntries(entries))
    const ids = tok.encode('the cat sat', { addBos: false })
    expect(ids.map((id) => tok.tokenText(id))).toEqual(['▁the', '▁cat', '▁sat'])
    expect(tok.decode(tok.encode('Hello, World! 42'))).toBe('Hello, World! 42')
  })
})
