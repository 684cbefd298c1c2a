import { TokenizerError } from '../../errors/runtime.ts'
import { type BpeModel, encodeBpe, pairKey, preTokenizer } from './bpe.ts'
import { CHAR_TO_BYTE } from './byte-unicode.ts'
import { readVocab, type Vocab } from './metadata.ts'
import { partitionSpecial, specialTokenOrder } from './special.ts'
import { encodeSpm, SPACE_MARK, type SpmModel } from './spm.ts'
import { type DecodeOptions, type EncodeOptions, type Tokenizer, TokenType } from './types.ts'
import { concatBytes, utf8Decode, utf8Encode } from './utf8.ts'

const BYTE_TOKEN = /^<0x([0-9A-Fa-f]{2})>$/
const EMPTY = new Uint8Array(0)

/**
 * Builds a tokenizer from GGUF metadata (`tokenizer.ggml.*`), as llama.cpp reads it:
 * 'llama' is SentencePiece BPE with byte fallback, 'gpt2' is byte-level BPE.
 */
export function tokenizerFromGguf(metadata: ReadonlyMap<string, unknown>): Tokenizer {
  const vocab = readVocab(metadata)
  const { tokens, types } = vocab

  // Merges and final symbols only ever resolve to normal tokens: matching a control or byte
  // token's text inside plain text would break decode(encode(s)) === s.
  const pieces = new Map<string, number>()
  for (let id = 0; id < tokens.length; id++) {
    if (types[id] === TokenType.normal) pieces.set(tokens[id]!, id)
  }
  const byteOf = new Int16Array(tokens.length).fill(-1)
  const byteIds = new Int32Array(256).fill(-1)
  for (let id = 0; id < tokens.length; id++) {
    if (types[id] !== TokenType.byte) continue
    const m = BYTE_TOKEN.exec(tokens[id]!)
    if (m === null) {
      throw new TokenizerError(
        `byte token ${id} has text ${JSON.stringify(tokens[id])}, not <0xNN>`,
      )
    }
    const b = Number.parseInt(m[1]!, 16)
    byteOf[id] = b
    if (byteIds[b] === -1) byteIds[b] = id
  }

  const encodeFragment = makeFragmentEncoder(vocab, pieces, byteIds)
  const specialOrder = specialTokenOrder(tokens, types)
  // llama.cpp splits user-defined tokens out of any text; control and unknown tokens only when
  // special tokens are parsed (tokenizer_st_partition).
  const userDefinedOrder = specialOrder.filter((id) => types[id] === TokenType.userDefined)
  const cache: (Uint8Array | undefined)[] = new Array(tokens.length)

  const checkId = (id: number): void => {
    if (!Number.isInteger(id) || id < 0 || id >= tokens.length) {
      throw new TokenizerError(
        `token id ${id} is outside the vocabulary of ${tokens.length} tokens`,
      )
    }
  }

  const tokenBytes = (id: number, options?: DecodeOptions): Uint8Array => {
    checkId(id)
    const type = types[id]!
    if (type === TokenType.control || type === TokenType.unknown) {
      return options?.special ? utf8Encode(tokens[id]!) : EMPTY
    }
    let bytes = cache[id]
    if (bytes === undefined) {
      bytes = pieceBytes(vocab, id, byteOf[id]!)
      cache[id] = bytes
    }
    return bytes
  }

  return {
    kind: vocab.kind,
    vocabSize: tokens.length,
    bosId: vocab.bosId,
    eosId: vocab.eosId,
    unknownId: vocab.unknownId,
    paddingId: vocab.paddingId,
    endOfTurnIds: vocab.endOfTurnIds,
    addBos: vocab.addBos,
    addEos: vocab.addEos,
    chatTemplate: vocab.chatTemplate,

    encode(text: string, options?: EncodeOptions): number[] {
      const output: number[] = []
      if (options?.addBos ?? vocab.addBos) {
        if (vocab.bosId === undefined) throw new TokenizerError('cannot add BOS: no bos_token_id')
        output.push(vocab.bosId)
      }
      const order = options?.parseSpecial ? specialOrder : userDefinedOrder
      const fragments = order.length > 0 ? partitionSpecial(text, order, tokens) : [{ text }]
      // llama.cpp adds the space prefix to the first text and to any text after a special token.
      let afterSpecial = true
      const mark = options?.specialMark
      for (const fragment of fragments) {
        if (fragment.text === undefined) {
          output.push(fragment.id)
          afterSpecial = true
          continue
        }
        const text = mark ? fragment.text.replaceAll(mark, '') : fragment.text
        if (text.length > 0) {
          encodeFragment(text, afterSpecial, output)
          afterSpecial = false
        }
      }
      if (options?.addEos ?? vocab.addEos) {
        if (vocab.eosId === undefined) throw new TokenizerError('cannot add EOS: no eos_token_id')
        output.push(vocab.eosId)
      }
      return output
    },

    decode(ids: readonly number[], options?: DecodeOptions): string {
      const chunks: Uint8Array[] = []
      // Strip the one space the encoder's prefix added: the first byte of the first non-empty piece.
      let strip = vocab.kind === 'llama' && vocab.addSpacePrefix
      for (const id of ids) {
        let bytes = tokenBytes(id, options)
        if (bytes.length === 0) continue
        if (strip && bytes[0] === 0x20) bytes = bytes.subarray(1)
        strip = false
        chunks.push(bytes)
      }
      return utf8Decode(concatBytes(chunks))
    },

    tokenBytes: (id, options) => tokenBytes(id, options).slice(),
    tokenText(id: number): string {
      checkId(id)
      return tokens[id]!
    },
    tokenType(id: number): TokenType {
      checkId(id)
      return types[id] as TokenType
    },
    isControl(id: number): boolean {
      checkId(id)
      return types[id] === TokenType.control
    },
  }
}

type FragmentEncoder = (text: string, prefix: boolean, output: number[]) => void

function makeFragmentEncoder(
  vocab: Vocab,
  pieces: ReadonlyMap<string, number>,
  byteIds: Int32Array,
): FragmentEncoder {
  if (vocab.kind === 'llama') {
    const model: SpmModel = { pieces, scores: vocab.scores, byteIds, unknownId: vocab.unknownId }
    return (text, prefix, output) =>
      encodeSpm(model, prefix && vocab.addSpacePrefix ? ` ${text}` : text, output)
  }
  const ranks = new Map<string, number>()
  vocab.merges.forEach((merge, rank) => {
    // Split at the first space after the first character, as llama.cpp does.
    const at = merge.indexOf(' ', 1)
    if (at < 0) throw new TokenizerError(`tokenizer.ggml.merges[${rank}] has no space: ${merge}`)
    const key = pairKey(merge.slice(0, at), merge.slice(at + 1))
    if (!ranks.has(key)) ranks.set(key, rank)
  })
  const model: BpeModel = {
    pieces,
    ranks,
    pre: preTokenizer(vocab.pre),
    unknownId: vocab.unknownId,
  }
  return (text, _prefix, output) => encodeBpe(model, text, output)
}

/** Bytes of a non-control token: byte tokens give their byte, text is unescaped per model kind. */
function pieceBytes(vocab: Vocab, id: number, byte: number): Uint8Array {
  const type = vocab.types[id]
  const text = vocab.tokens[id]!
  if (type === TokenType.unused) return EMPTY
  if (type === TokenType.byte) return Uint8Array.of(byte)
  if (type === TokenType.userDefined) return utf8Encode(text)
  if (vocab.kind === 'llama') return utf8Encode(text.replaceAll(SPACE_MARK, ' '))
  // Byte-level BPE: map each character back to its byte; characters outside the table pass through.
  const out: number[] = []
  for (const char of text) {
    const b = char.length === 1 ? CHAR_TO_BYTE.get(char.charCodeAt(0)) : undefined
    if (b !== undefined) out.push(b)
    else out.push(...utf8Encode(char))
  }
  return Uint8Array.from(out)
}
