export { tokenizerFromGguf } from './tokenizer.ts'
export {
  type DecodeOptions,
  type EncodeOptions,
  type Tokenizer,
  TokenType,
} from './types.ts'
