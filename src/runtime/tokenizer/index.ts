/**
 * Tokenizers from GGUF metadata, as llama.cpp reads them, plus builders for the project's own vocabs.
 *
 * - `tokenizerFromGguf(metadata)`: 'llama' (SentencePiece BPE, byte fallback) and 'gpt2' (byte-level BPE).
 * - `buildLlamaVocab`, `syntheticLlamaVocab`, `trainSpmBpe`: typed metadata entries for the GGUF writer.
 *
 * Where this departs from llama.cpp, it is so that decode(encode(s)) === s holds for every string:
 * - merges only ever form normal tokens (llama.cpp also matches control/byte token texts in plain text);
 * - a literal '▁' in llama input stays its UTF-8 bytes (llama.cpp reads it back as a space), and a space
 *   with no '▁' token falls back to `<0x20>`;
 * - user-defined tokens are matched in the input only with `parseSpecial` (llama.cpp always matches them);
 * - gpt2 decode does not clean up spaces before punctuation (llama.cpp's clean_spaces);
 * - pre-tokenizer 'default' (and a missing `tokenizer.ggml.pre`) is the plain GPT-2 regex, where llama.cpp
 *   adds extra punctuation and digit splits; other names than default/gpt2/gpt-2 are refused;
 * - gpt2 vocabs have no default BOS/EOS (llama.cpp guesses id 11).
 * Lone surrogates are not valid text: they encode (and so round-trip) as U+FFFD.
 */
export {
  BYTE_TOKENS,
  buildLlamaVocab,
  LLAMA_RESERVED,
  LLAMA_SPECIAL_TOKENS,
  type MetadataEntry,
  type MetadataScalarType,
  type MetadataValue,
  metadataFromEntries,
  syntheticLlamaVocab,
  type VocabPiece,
} from './build-vocab.ts'
export { tokenizerFromGguf } from './tokenizer.ts'
export { trainSpmBpe } from './train.ts'
export {
  type DecodeOptions,
  type EncodeOptions,
  type Tokenizer,
  TokenType,
} from './types.ts'
