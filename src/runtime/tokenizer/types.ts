/** llama.cpp's token types, as stored in `tokenizer.ggml.token_type`. */
export const TokenType = {
  undefined: 0,
  normal: 1,
  unknown: 2,
  control: 3,
  userDefined: 4,
  unused: 5,
  byte: 6,
} as const
export type TokenType = (typeof TokenType)[keyof typeof TokenType]

export type EncodeOptions = {
  /** Prepend the BOS token; defaults to the model's `add_bos_token`. */
  addBos?: boolean
  /** Append the EOS token; defaults to the model's `add_eos_token`. */
  addEos?: boolean
  /**
   * Turn control and unknown token texts in the input (`<s>`, `<|im_start|>`) into their ids.
   * User-defined tokens are always split out, as llama.cpp does.
   */
  parseSpecial?: boolean
  /**
   * A character that, placed inside a special token's text, keeps it from being parsed; every
   * occurrence is removed from the text before it is encoded. Chat rendering marks the special
   * texts of message contents with it, so that they stay text (see verify/prompt/render.ts).
   */
  specialMark?: string
}

export type DecodeOptions = {
  /** Render control and unknown tokens as their text instead of ''. */
  special?: boolean
}

export interface Tokenizer {
  readonly kind: 'llama' | 'gpt2'
  readonly vocabSize: number
  readonly bosId: number | undefined
  readonly eosId: number | undefined
  readonly unknownId: number | undefined
  readonly paddingId: number | undefined
  /** End-of-turn tokens the file names (eot, eom ids): a chat turn ends at them. */
  readonly endOfTurnIds: readonly number[]
  readonly addBos: boolean
  readonly addEos: boolean
  readonly chatTemplate: string | undefined
  encode(text: string, options?: EncodeOptions): number[]
  decode(ids: readonly number[], options?: DecodeOptions): string
  /** The bytes this token adds to decoded text (no leading-space stripping); '' for control tokens unless `special`. */
  tokenBytes(id: number, options?: DecodeOptions): Uint8Array
  /** The token's stored text, as in the GGUF file. */
  tokenText(id: number): string
  tokenType(id: number): TokenType
  isControl(id: number): boolean
}
