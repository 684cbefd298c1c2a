import { describe, expect, it } from 'vitest'
import { TokenizerError } from '../../errors/runtime.ts'
import { buildLlamaVocab, metadataFromEntries } from './build-vocab.ts'
import { ENGLISH } from './fixtures.ts'
import { tokenizerFromGguf } from './tokenizer.ts'
import { trainSpmBpe } from './train.ts'

describe('trainSpmBpe', () => {
  it('merges the most frequent pair, ties in lexicographic order', () => {
    // Words ▁ab ×2, ▁cd ×2: pairs ▁a, ab, ▁c, cd all occur twice; 'ab' < 'cd' < '▁a' < '▁c'
    // by code unit, so the merges are ab, cd, ▁ab, ▁cd; then the characters by frequency.
    const pieces = trainSpmBpe('ab cd ab cd', 259 + 9)
    expect(pieces.map((p) => p.text)).toEqual(['ab', 'cd', '▁ab', '▁cd', '▁', 'a', 'b', 'c', 'd'])
    expect(pieces.map((p) => p.score)).toEqual([0, -1, -2, -3, -4, -5, -6, -7, -8])
  })

  it('is deterministic and stays within the vocab size', () => {
    const a = trainSpmBpe(ENGLISH, 600)
    expect(trainSpmBpe(ENGLISH, 600)).toEqual(a)
    expect(a.length).toBeLessThanOrEqual(600 - 259)
    expect(new Set(a.map((p) => p.text)).size).toBe(a.length)
    expect(trainSpmBpe(ENGLISH, 300)).toHaveLength(41)
    expect(() => trainSpmBpe(ENGLISH, 100)).toThrow(TokenizerError)
  })

  it('encodes its training text in fewer tokens than bytes, and round-trips it', () => {
    const tok = tokenizerFromGguf(metadataFromEntries(buildLlamaVocab(trainSpmBpe(ENGLISH, 800))))
    const ids = tok.encode(ENGLISH)
    expect(ids.length).toBeLessThan(new TextEncoder().encode(ENGLISH).length / 2)
    expect(tok.decode(ids)).toBe(ENGLISH)
  })

  it('never learns a special or byte token text', () => {
    const pieces = trainSpmBpe('<s> <s> <s> <0x41> <0x41> </s> </s>', 400)
    const texts = pieces.map((p) => p.text)
    for (const reserved of ['<s>', '</s>', '<0x41>', '<unk>']) expect(texts).not.toContain(reserved)
    expect(() => buildLlamaVocab(pieces)).not.toThrow()
  })
})
