// Small hand-made vocabularies for the tokenizer tests.
import { buildLlamaVocab, metadataFromEntries } from './build-vocab.ts'
import { BYTE_TO_CHAR } from './byte-unicode.ts'
import { tokenizerFromGguf } from './tokenizer.ts'
import type { Tokenizer } from './types.ts'

/** First piece id in a vocab from buildLlamaVocab (3 specials + 256 bytes). */
export const FIRST_PIECE = 259
/** Id of the byte token for `b` in a vocab from buildLlamaVocab. */
export const byteId = (b: number): number => 3 + b

/** A llama tokenizer over `pieces` (ids 259, 260, … in order), with metadata overrides. */
export function llamaTokenizer(
  pieces: readonly (readonly [string, number])[],
  overrides: Record<string, unknown> = {},
): Tokenizer {
  const metadata = metadataFromEntries(
    buildLlamaVocab(pieces.map(([text, score]) => ({ text, score }))),
  )
  for (const [key, value] of Object.entries(overrides)) metadata.set(key, value)
  return tokenizerFromGguf(metadata)
}

/**
 * GPT-2 style metadata: ids 0..255 are the byte characters in byte order (so byte b has id b),
 * then the results of `merges` in order, then `<|endoftext|>` as a control token.
 */
export function gpt2Metadata(merges: readonly string[]): Map<string, unknown> {
  const tokens = [...BYTE_TO_CHAR]
  for (const m of merges) {
    const text = m.replace(' ', '')
    if (!tokens.includes(text)) tokens.push(text)
  }
  tokens.push('<|endoftext|>')
  const types = tokens.map((_, i) => (i === tokens.length - 1 ? 3 : 1))
  return new Map<string, unknown>([
    ['tokenizer.ggml.model', 'gpt2'],
    ['tokenizer.ggml.pre', 'gpt2'],
    ['tokenizer.ggml.tokens', tokens],
    ['tokenizer.ggml.token_type', types],
    ['tokenizer.ggml.merges', [...merges]],
    ['tokenizer.ggml.bos_token_id', tokens.length - 1],
    ['tokenizer.ggml.eos_token_id', tokens.length - 1],
  ])
}

export const gpt2Tokenizer = (merges: readonly string[]): Tokenizer =>
  tokenizerFromGguf(gpt2Metadata(merges))

export const ENGLISH = `Once upon a time, there was a little girl named Lily. She loved to play outside in the
park with her friends. One day, she saw a big red ball under a tree. "Can I play with the ball?" she asked
her mom. Her mom smiled and said, "Yes, you can play with it, but share it with your friends." Lily was
happy. She ran to the tree and picked up the ball. Then she threw the ball to her friend Tom, and Tom threw
it back. They played all day until the sun went down, and then they went home to eat dinner and sleep.`
