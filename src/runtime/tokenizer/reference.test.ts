import { TokenizerLoader } from '@lenml/tokenizers'
import { describe, expect, it } from 'vitest'
import { hfTokenizerFiles, metadataMap, REAL_VOCABS } from '../../../test/hf-vocab.ts'
import { CORPUS } from '../../../test/tokenizer-corpus.ts'
import { tokenizerFromGguf } from './tokenizer.ts'

// The runtime's tokenizers on real vocabularies, token for token against the reference
// tokenizers (transformers.js's, through @lenml/tokenizers, reading the same tokenizer.json).
// The llama.cpp side of the same claim is crosscheck/tokens.test.ts.

type Reference = { encode(text: string, options: { add_special_tokens: boolean }): number[] }

/**
 * The reference tokenizer with special tokens kept out of its added-token splitter, so that
 * special-token text is encoded as text, as the runtime does without parseSpecial.
 */
function reference(
  name: Parameters<typeof hfTokenizerFiles>[0],
  change: (json: Record<string, unknown>) => void = () => {},
): Reference {
  const { json, config } = hfTokenizerFiles(name)
  const copy = structuredClone(json) as unknown as Record<string, unknown>
  copy.added_tokens = json.added_tokens.filter((t) => !t.special)
  change(copy)
  return TokenizerLoader.fromPreTrained({
    tokenizerJSON: copy as never,
    tokenizerConfig: { ...config, add_bos_token: false } as never,
  }) as unknown as Reference
}

describe('tokenizers on real vocabularies match the reference token for token', () => {
  const cases = [
    ['llama-bpe (Llama 3.x)', 'llama-bpe', () => reference('llama3')],
    ['qwen2 (Qwen2.5)', 'qwen2', () => reference('qwen3')],
    [
      'smollm (SmolLM2: single digits, then GPT-2)',
      'smollm',
      () =>
        reference('llama3', (json) => {
          ;(json.model as Record<string, unknown>).ignore_merges = false
          json.pre_tokenizer = {
            type: 'Sequence',
            pretokenizers: [
              { type: 'Digits', individual_digits: true },
              { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: true },
            ],
          }
        }),
    ],
  ] as const
  for (const [label, vocab, ref] of cases) {
    it(label, () => {
      const ours = tokenizerFromGguf(metadataMap(REAL_VOCABS[vocab]()))
      const theirs = ref()
      let tokens = 0
      for (const text of CORPUS) {
        const got = ours.encode(text, { addBos: false })
        expect({ text, ids: got }).toEqual({
          text,
          ids: theirs.encode(text, { add_special_tokens: false }),
        })
        expect(ours.decode(got)).toBe(text)
        tokens += got.length
      }
      expect(tokens).toBeGreaterThan(300)
    })
  }

  it('SentencePiece with byte fallback (Llama 2, Mistral, TinyLlama)', () => {
    const ours = tokenizerFromGguf(metadataMap(REAL_VOCABS.spm()))
    const theirs = reference('llama2')
    for (const text of CORPUS) {
      // The reference treats '<s>' and '</s>' as added tokens; the runtime keeps them as text.
      if (text.includes('</s>')) continue
      const got = ours.encode(text, { addBos: false })
      expect({ text, ids: got }).toEqual({
        text,
        ids: theirs.encode(text, { add_special_tokens: false }),
      })
      expect(ours.decode(got)).toBe(text)
    }
    // Byte fallback: a character with no piece is its UTF-8 bytes.
    expect(ours.encode('🦙', { addBos: false }).map((id) => ours.tokenText(id))).toEqual([
      '▁',
      '<0xF0>',
      '<0x9F>',
      '<0xA6>',
      '<0x99>',
    ])
  })

  it('Llama 3: special-token text stays text unless special tokens are parsed', () => {
    const ours = tokenizerFromGguf(metadataMap(REAL_VOCABS['llama-bpe']()))
    const text = '<|start_header_id|>user<|end_header_id|>'
    expect(ours.encode(text, { addBos: false })).not.toContain(128006)
    expect(ours.encode(text, { addBos: false, parseSpecial: true })).toEqual([128006, 882, 128007])
    expect(ours.encode('hi')).toEqual([128000, 6151])
  })
})
