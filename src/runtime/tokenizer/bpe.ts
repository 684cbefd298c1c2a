import { TokenizerError } from '../../errors/runtime.ts'
import { BYTE_TO_CHAR } from './byte-unicode.ts'
import { Heap } from './heap.ts'
import { utf8Encode } from './utf8.ts'

// Unicode White_Space, which llama.cpp's and HF's \s mean; JS's \s differs (it has U+FEFF and
// lacks U+0085).
const WS = '\\t-\\r \\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000'
const s = `[${WS}]`
const S = `[^${WS}]`
const notSLN = `[^${WS}\\p{L}\\p{N}]`
const CONTRACTIONS_CI = "'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD]"
/** GPT-2's pattern, as llama.cpp lists it (unmatched text becomes its own piece, see splitWords). */
const GPT2 = `'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?${notSLN}+|${s}+(?!${S})`
/** Llama 3's pattern; qwen2's is the same with single digits. */
const llama3Like = (digits: string) =>
  `${CONTRACTIONS_CI}|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}${digits}| ?${notSLN}+[\\r\\n]*|${s}*[\\r\\n]+|${s}+(?!${S})|${s}+`

/** A pre-tokenizer: regexes applied in sequence (llama.cpp's regex_exprs), and whether whole words that are tokens skip merging. */
export type PreTokenizer = { regexes: readonly RegExp[]; ignoreMerges: boolean }

const re = (source: string) => new RegExp(source, 'gu')
const GPT2_PRE: PreTokenizer = { regexes: [re(GPT2)], ignoreMerges: false }
const LLAMA3_PRE: PreTokenizer = { regexes: [re(llama3Like('{1,3}'))], ignoreMerges: true }
const QWEN2_PRE: PreTokenizer = { regexes: [re(llama3Like(''))], ignoreMerges: false }
const SMOLLM_PRE: PreTokenizer = { regexes: [re('\\p{N}'), re(GPT2)], ignoreMerges: false }
const DEFAULT_PRE: PreTokenizer = {
  regexes: [re('[\\p{P}\\$\\+<=>\\^~\\|]+'), re(GPT2), re('\\p{N}+'), re('[0-9][0-9][0-9]')],
  ignoreMerges: false,
}

/**
 * llama.cpp's pre-tokenizers by `tokenizer.ggml.pre` name (llama-vocab.cpp): the regex lists and
 * ignore_merges of LLAMA_VOCAB_PRE_TYPE_{DEFAULT, GPT2, LLAMA3, QWEN2, SMOLLM}.
 */
const PRE_TOKENIZERS: Readonly<Record<string, PreTokenizer>> = {
  default: DEFAULT_PRE,
  gpt2: GPT2_PRE,
  'gpt-2': GPT2_PRE,
  'llama-bpe': LLAMA3_PRE,
  llama3: LLAMA3_PRE,
  'llama-v3': LLAMA3_PRE,
  qwen2: QWEN2_PRE,
  'qwen2.5': QWEN2_PRE,
  'qwen-2.5': QWEN2_PRE,
  smollm: SMOLLM_PRE,
}

/** The pre-tokenizer for `tokenizer.ggml.pre`; a missing name means 'default', as in llama.cpp. */
export function preTokenizer(name: string | undefined): PreTokenizer {
  const pre = PRE_TOKENIZERS[name ?? 'default']
  if (pre === undefined) {
    throw new TokenizerError(
      `unsupported pre-tokenizer ${JSON.stringify(name)} in tokenizer.ggml.pre (supported: ${Object.keys(PRE_TOKENIZERS).join(', ')})`,
    )
  }
  return pre
}

/**
 * Splits text into words as llama.cpp's unicode_regex_split: each regex in turn splits every
 * piece so far into its matches and the unmatched runs between them (which stay pieces too).
 */
export function splitWords(pre: PreTokenizer, text: string): string[] {
  let pieces = [text]
  for (const regex of pre.regexes) {
    const next: string[] = []
    for (const piece of pieces) {
      let at = 0
      for (const match of piece.matchAll(regex)) {
        if (match[0].length === 0) continue
        if (match.index > at) next.push(piece.slice(at, match.index))
        next.push(match[0])
        at = match.index + match[0].length
      }
      if (at < piece.length) next.push(piece.slice(at))
    }
    pieces = next
  }
  return pieces
}

export type BpeModel = {
  /** Text (byte-mapped) → id of normal tokens. */
  pieces: ReadonlyMap<string, number>
  /** Pair key (see pairKey) → merge rank. */
  ranks: ReadonlyMap<string, number>
  pre: PreTokenizer
  unknownId: number | undefined
}

/** An unambiguous key for a (left, right) merge pair. */
export const pairKey = (left: string, right: string): string => `${left.length}:${left}${right}`

type Bigram = { left: number; right: number; rank: number; text: string }

// Lowest rank first; on ties the leftmost pair (llama.cpp's llm_bigram_bpe comparator).
const before = (a: Bigram, b: Bigram): boolean =>
  a.rank < b.rank || (a.rank === b.rank && a.left < b.left)

/**
 * Appends the ids of one text fragment: regex split, byte mapping, then rank-ordered merges
 * (a word that is itself a token is taken whole when the pre-tokenizer ignores merges, as Llama 3).
 */
export function encodeBpe(model: BpeModel, fragment: string, output: number[]): void {
  for (const piece of splitWords(model.pre, fragment)) {
    let word = ''
    for (const b of utf8Encode(piece)) word += BYTE_TO_CHAR[b]
    const whole = model.pre.ignoreMerges ? model.pieces.get(word) : undefined
    if (whole !== undefined) output.push(whole)
    else encodeWord(model, word, output)
  }
}

function encodeWord(model: BpeModel, word: string, output: number[]): void {
  // Every mapped character is one UTF-16 unit, so symbols are [start, start + size) slices.
  const count = word.length
  const size = new Int32Array(count).fill(1)
  const prev = new Int32Array(count)
  const next = new Int32Array(count)
  for (let i = 0; i < count; i++) {
    prev[i] = i - 1
    next[i] = i + 1 < count ? i + 1 : -1
  }
  const queue = new Heap<Bigram>(before)
  const tryAdd = (left: number, right: number): void => {
    if (left < 0 || right < 0) return
    const l = word.substr(left, size[left]!)
    const r = word.substr(right, size[right]!)
    const rank = model.ranks.get(pairKey(l, r))
    if (rank !== undefined) queue.push({ left, right, rank, text: l + r })
  }
  for (let i = 1; i < count; i++) tryAdd(i - 1, i)
  for (let bigram = queue.pop(); bigram !== undefined; bigram = queue.pop()) {
    const { left, right } = bigram
    if (size[left] === 0 || size[right] === 0) continue
    if (next[left] !== right || size[left]! + size[right]! !== bigram.text.length) continue
    size[left] = bigram.text.length
    size[right] = 0
    next[left] = next[right]!
    if (next[right]! >= 0) prev[next[right]!] = left
    tryAdd(prev[left]!, left)
    tryAdd(left, next[left]!)
  }
  for (let i = count > 0 ? 0 : -1; i !== -1; i = next[i]!) {
    const piece = word.substr(i, size[i]!)
    const id = model.pieces.get(piece)
    if (id !== undefined) {
      output.push(id)
      continue
    }
    // A merge whose result is not a token: fall back to the single byte characters.
    for (const char of piece) {
      const charId = model.pieces.get(char) ?? model.unknownId
      if (charId === undefined) {
        throw new TokenizerError(
          `cannot encode byte character ${JSON.stringify(char)}: not in the vocabulary and no unknown token`,
        )
      }
      output.push(charId)
    }
  }
}
