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
