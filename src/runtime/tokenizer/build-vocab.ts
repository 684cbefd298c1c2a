import { TokenizerError } from '../../errors/runtime.ts'
import { SPACE_MARK } from './spm.ts'
import { TokenType } from './types.ts'

export type MetadataScalarType = 'string' | 'u32' | 'i32' | 'f32' | 'bool'

/** A typed GGUF metadata value, in the shape the GGUF writer takes. */
export type MetadataValue =
  | { type: 'string'; value: string }
  | { type: 'u32' | 'i32' | 'f32'; value: number }
  | { type: 'bool'; value: boolean }
  | { type: 'array'; itemType: 'string'; value: readonly string[] }
  | { type: 'array'; itemType: 'u32' | 'i32' | 'f32'; value: readonly number[] }
  | { type: 'array'; itemType: 'bool'; value: readonly boolean[] }

export type MetadataEntry = readonly [key: string, value: MetadataValue]

// With the u flag a surrogate range only matches unpaired halves.
const LONE_SURROGATE = /[\uD800-\uDFFF]/u

export type VocabPiece = { text: string; score: number }

/** The tokens every llama vocab built here starts with (llama.cpp's SentencePiece defaults). */
export const LLAMA_SPECIAL_TOKENS = ['<unk>', '<s>', '</s>'] as const

/** `<0x00>`..`<0xFF>`, uppercase hex: llama.cpp finds byte tokens by exactly this text. */
export const BYTE_TOKENS: readonly string[] = Array.from(
  { length: 256 },
  (_, b) => `<0x${b.toString(16).toUpperCase().padStart(2, '0')}>`,
)

/** Number of tokens before the first piece: 3 specials + 256 bytes. */
export const LLAMA_RESERVED = LLAMA_SPECIAL_TOKENS.length + BYTE_TOKENS.length

/**
 * GGUF metadata for a llama (SentencePiece) vocab: `<unk>`=0, `<s>`=1, `</s>`=2, then the 256 byte
 * tokens, then `pieces` in order. Scores are rounded to f32 here so that a tokenizer built from these
 * entries matches one built from the file they are written to.
 */
export function buildLlamaVocab(pieces: readonly VocabPiece[]): MetadataEntry[] {
  const tokens: string[] = [...LLAMA_SPECIAL_TOKENS, ...BYTE_TOKENS]
  const scores: number[] = tokens.map(() => 0)
  const types: number[] = [
    TokenType.unknown,
    TokenType.control,
    TokenType.control,
    ...BYTE_TOKENS.map(() => TokenType.byte),
  ]
  const seen = new Set(tokens)
  for (const [i, piece] of pieces.entries()) {
    if (piece.text.length === 0) throw new TokenizerError(`vocab piece ${i} is empty`)
    if (LONE_SURROGATE.test(piece.text)) {
      throw new TokenizerError(`vocab piece ${i} is not valid Unicode (lone surrogate)`)
    }
    if (seen.has(piece.text)) {
      throw new TokenizerError(`duplicate vocab piece ${JSON.stringify(piece.text)} (piece ${i})`)
    }
    if (!Number.isFinite(piece.score)) {
      throw new TokenizerError(`vocab piece ${i} has a non-finite score ${piece.score}`)
    }
    seen.add(piece.text)
    tokens.push(piece.text)
    scores.push(Math.fround(piece.score))
    types.push(TokenType.normal)
  }
  return [
    ['tokenizer.ggml.model', { type: 'string', value: 'llama' }],
    ['tokenizer.ggml.tokens', { type: 'array', itemType: 'string', value: tokens }],
    ['tokenizer.ggml.scores', { type: 'array', itemType: 'f32', value: scores }],
    ['tokenizer.ggml.token_type', { type: 'array', itemType: 'i32', value: types }],
    ['tokenizer.ggml.bos_token_id', { type: 'u32', value: 1 }],
    ['tokenizer.ggml.eos_token_id', { type: 'u32', value: 2 }],
    ['tokenizer.ggml.unknown_token_id', { type: 'u32', value: 0 }],
    ['tokenizer.ggml.add_bos_token', { type: 'bool', value: true }],
    ['tokenizer.ggml.add_eos_token', { type: 'bool', value: false }],
    ['tokenizer.ggml.add_space_prefix', { type: 'bool', value: true }],
  ]
}

/** The metadata map a GGUF reader would return for these entries (values without types). */
export function metadataFromEntries(entries: readonly MetadataEntry[]): Map<string, unknown> {
  return new Map(entries.map(([key, { value }]) => [key, value]))
}

const BASE_CHARS = [
  SPACE_MARK,
  ...'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.,!?\'"-:;()',
]
const LOWER = 'abcdefghijklmnopqrstuvwxyz'

/**
 * A llama vocab of exactly `size` tokens with made-up but plausible pieces, for benchmark models:
 * single characters, then '▁w' and 'w' for lowercase w of growing length. Every piece's prefix one
 * character shorter comes earlier with a higher score, so the merges can reach every piece.
 */
export function syntheticLlamaVocab(size: number): MetadataEntry[] {
  if (!Number.isSafeInteger(size) || size < LLAMA_RESERVED) {
    throw new TokenizerError(
      `synthetic vocab size ${size} is below the ${LLAMA_RESERVED} reserved tokens`,
    )
  }
  const wanted = size - LLAMA_RESERVED
  const texts: string[] = BASE_CHARS.slice(0, wanted)
  let words = ['']
  while (texts.length < wanted) {
    const longer: string[] = []
    for (const w of words) {
      for (const c of LOWER) {
        longer.push(w + c)
        if (texts.length < wanted) texts.push(SPACE_MARK + w + c)
        if (w.length > 0 && texts.length < wanted) texts.push(w + c)
      }
      if (texts.length >= wanted) break
    }
    words = longer
  }
  return buildLlamaVocab(texts.map((text, i) => ({ text, score: 0 - i })))
}
