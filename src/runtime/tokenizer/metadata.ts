import { TokenizerError } from '../../errors/runtime.ts'
import { TokenType } from './types.ts'

/** The tokenizer part of a GGUF file's metadata, checked and normalised. */
export type Vocab = {
  kind: 'llama' | 'gpt2'
  tokens: readonly string[]
  scores: Float64Array
  types: Uint8Array
  bosId: number | undefined
  eosId: number | undefined
  unknownId: number | undefined
  paddingId: number | undefined
  /** End-of-turn tokens the file names (`eot_token_id`, `eom_token_id`): generation stops at them. */
  endOfTurnIds: readonly number[]
  addBos: boolean
  addEos: boolean
  addSpacePrefix: boolean
  merges: readonly string[]
  pre: string | undefined
  chatTemplate: string | undefined
}

const PREFIX = 'tokenizer.ggml.'

/**
 * `tokenizer.ggml.*` keys the tokenizer reads, or that change nothing it computes (with why).
 * Any other key there is refused: the tokenizer would ignore it and tokenize differently.
 */
const KNOWN_KEYS = new Set([
  'model',
  'pre',
  'tokens',
  'scores',
  'token_type',
  'merges',
  'bos_token_id',
  'eos_token_id',
  'unknown_token_id',
  'padding_token_id',
  'eot_token_id',
  'eom_token_id',
  'add_bos_token',
  'add_eos_token',
  'add_space_prefix',
  // Checked below to be off: the normalizations they turn on are not implemented.
  'remove_extra_whitespaces',
  'precompiled_charsmap',
  'add_sep_token',
  // Name tokens for other tasks (separator, mask, fill-in-the-middle infill): no chat or
  // completion request reads them.
  'seperator_token_id',
  'separator_token_id',
  'mask_token_id',
  'cls_token_id',
  'fim_pre_token_id',
  'fim_suf_token_id',
  'fim_mid_token_id',
  'fim_pad_token_id',
  'fim_rep_token_id',
  'fim_sep_token_id',
  'prefix_token_id',
  'suffix_token_id',
  'middle_token_id',
])

function checkKeys(metadata: ReadonlyMap<string, unknown>): void {
  for (const key of metadata.keys()) {
    if (key.startsWith(PREFIX) && !KNOWN_KEYS.has(key.slice(PREFIX.length)))
      throw new TokenizerError(
        `metadata key ${key} is not supported: the tokenizer would ignore it and tokenize differently`,
      )
    // Only the default template is used; named ones (tool_use, rag) are alternatives a caller picks.
    if (
      key.startsWith('tokenizer.') &&
      !key.startsWith(PREFIX) &&
      key !== 'tokenizer.chat_template' &&
      !key.startsWith('tokenizer.chat_template.')
    )
      throw new TokenizerError(`metadata key ${key} is not supported`)
  }
  if (metadata.get(`${PREFIX}remove_extra_whitespaces`) === true)
    throw new TokenizerError(
      `${PREFIX}remove_extra_whitespaces is on: that normalization is not supported`,
    )
  if (metadata.get(`${PREFIX}add_sep_token`) === true)
    throw new TokenizerError(`${PREFIX}add_sep_token is on: separator tokens are not supported`)
  const charsmap = metadata.get(`${PREFIX}precompiled_charsmap`)
  if (charsmap !== undefined && (!Array.isArray(charsmap) || charsmap.length > 0))
    throw new TokenizerError(
      `${PREFIX}precompiled_charsmap is set: SentencePiece normalization is not supported`,
    )
}

/** Reads llama.cpp's `tokenizer.ggml.*` keys; throws a TokenizerError naming the first bad key. */
export function readVocab(metadata: ReadonlyMap<string, unknown>): Vocab {
  checkKeys(metadata)
  const model = metadata.get(`${PREFIX}model`)
  if (model === undefined) throw new TokenizerError(`missing metadata key ${PREFIX}model`)
  if (model !== 'llama' && model !== 'gpt2') {
    throw new TokenizerError(
      `unsupported tokenizer model ${JSON.stringify(model)} in ${PREFIX}model (expected 'llama' or 'gpt2')`,
    )
  }

  const tokens = readArray(metadata, `${PREFIX}tokens`, true)!.map((t, i) => {
    if (typeof t !== 'string') throw new TokenizerError(`${PREFIX}tokens[${i}] is not a string`)
    return t
  })
  const n = tokens.length
  if (n === 0) throw new TokenizerError(`${PREFIX}tokens is empty`)

  const scores = new Float64Array(n)
  const rawScores = readArray(metadata, `${PREFIX}scores`, false)
  if (rawScores !== undefined) {
    checkLength(rawScores, n, 'scores')
    for (let i = 0; i < n; i++) {
      const s = rawScores[i]
      if (typeof s !== 'number' || Number.isNaN(s)) {
        throw new TokenizerError(`${PREFIX}scores[${i}] is not a number`)
      }
      scores[i] = s
    }
  }

  // llama.cpp treats a file without token types as all-normal.
  const types = new Uint8Array(n).fill(TokenType.normal)
  const rawTypes = readArray(metadata, `${PREFIX}token_type`, false)
  if (rawTypes !== undefined) {
    checkLength(rawTypes, n, 'token_type')
    for (let i = 0; i < n; i++) {
      const t = toInteger(rawTypes[i])
      if (t === undefined || t < 0 || t > 6) {
        throw new TokenizerError(
          `${PREFIX}token_type[${i}] is ${String(rawTypes[i])}, not a token type 0..6`,
        )
      }
      // Type 0 (undefined) only appears in old conversions; treat it as normal text.
      types[i] = t === TokenType.undefined ? TokenType.normal : t
    }
  }

  let merges: string[] = []
  if (model === 'gpt2') {
    merges = readArray(metadata, `${PREFIX}merges`, true)!.map((m, i) => {
      if (typeof m !== 'string') throw new TokenizerError(`${PREFIX}merges[${i}] is not a string`)
      return m
    })
  }

  // llama.cpp's defaults for SentencePiece files: <unk>=0, <s>=1, </s>=2.
  const llama = model === 'llama'
  return {
    kind: model,
    tokens,
    scores,
    types,
    bosId: readId(metadata, 'bos_token_id', n, llama ? 1 : undefined),
    eosId: readId(metadata, 'eos_token_id', n, llama ? 2 : undefined),
    unknownId: readId(metadata, 'unknown_token_id', n, llama ? 0 : undefined),
    paddingId: readId(metadata, 'padding_token_id', n, undefined),
    endOfTurnIds: [
      readId(metadata, 'eot_token_id', n, undefined),
      readId(metadata, 'eom_token_id', n, undefined),
    ].filter((id): id is number => id !== undefined),
    addBos: readBool(metadata, 'add_bos_token', llama),
    addEos: readBool(metadata, 'add_eos_token', false),
    addSpacePrefix: readBool(metadata, 'add_space_prefix', true),
    merges,
    pre: readString(metadata, `${PREFIX}pre`),
    chatTemplate: readString(metadata, 'tokenizer.chat_template'),
  }
}

function readArray(
  metadata: ReadonlyMap<string, unknown>,
  key: string,
  required: boolean,
): unknown[] | undefined {
  const value = metadata.get(key)
  if (value === undefined) {
    if (required) throw new TokenizerError(`missing metadata key ${key}`)
    return undefined
  }
  if (Array.isArray(value)) return value
  // A reader may hand numeric arrays over as typed arrays.
  if (ArrayBuffer.isView(value) && !(value instanceof DataView)) {
    return Array.from(value as unknown as ArrayLike<number | bigint>)
  }
  throw new TokenizerError(`metadata key ${key} is not an array`)
}

function checkLength(values: readonly unknown[], n: number, name: string): void {
  if (values.length !== n) {
    throw new TokenizerError(
      `length mismatch: ${PREFIX}tokens has ${n} entries but ${PREFIX}${name} has ${values.length}`,
    )
  }
}

function toInteger(value: unknown): number | undefined {
  if (typeof value === 'bigint') {
    return value >= 0n && value <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(value) : undefined
  }
  if (typeof value === 'number' && Number.isSafeInteger(value)) return value
  return undefined
}

function readId(
  metadata: ReadonlyMap<string, unknown>,
  name: string,
  n: number,
  fallback: number | undefined,
): number | undefined {
  const key = `${PREFIX}${name}`
  const value = metadata.get(key)
  if (value === undefined) return fallback !== undefined && fallback < n ? fallback : undefined
  const id = toInteger(value)
  if (id === undefined) throw new TokenizerError(`metadata key ${key} is not an integer`)
  // Some converters write -1 / 0xFFFFFFFF for "none"; other out-of-range ids are corrupt.
  if (id === -1 || id === 0xffffffff) return undefined
  if (id < 0 || id >= n) {
    throw new TokenizerError(`metadata key ${key} is ${id}, outside the vocabulary of ${n} tokens`)
  }
  return id
}

function readBool(
  metadata: ReadonlyMap<string, unknown>,
  name: string,
  fallback: boolean,
): boolean {
  const key = `${PREFIX}${name}`
  const value = metadata.get(key)
  if (value === undefined) return fallback
  if (typeof value !== 'boolean') throw new TokenizerError(`metadata key ${key} is not a bool`)
  return value
}

function readString(metadata: ReadonlyMap<string, unknown>, key: string): string | undefined {
  const value = metadata.get(key)
  if (value === undefined) return undefined
  if (typeof value !== 'string') throw new TokenizerError(`metadata key ${key} is not a string`)
  return value
}
