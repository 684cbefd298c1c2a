import { TokenizerError } from '../../errors/runtime.ts'
import { BYTE_TO_CHAR } from './byte-unicode.ts'
import { Heap } from './heap.ts'
import { utf8Encode } from './utf8.ts'

/** GPT-2's pre-tokenizer with `\s+` as the last resort, as HF tokenizers and llama.cpp behave. */
const GPT2_SPLIT = /'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+/gu

const PRE_TOKENIZERS: Readonly<Record<string, RegExp>> = {
  default: GPT2_SPLIT,
  gpt2: GPT2_SPLIT,
  'gpt-2': GPT2_SPLIT,
}

/** The pre-tokenizer regex for `tokenizer.ggml.pre`; a missing name means 'default'. */
export function preTokenizer(name: string | undefined): RegExp {
  const regex = PRE_TOKENIZERS[name ?? 'default']
  if (regex === undefined) {
    throw new TokenizerError(
      `unsupported pre-tokenizer ${JSON.stringify(name)} in tokenizer.ggml.pre (supported: ${Object.keys(PRE_TOKENIZERS).join(', ')})`,
    )
  }
  return regex
}

export type BpeModel = {
  /** Text (byte-mapped) → id of normal tokens. */
  pieces: ReadonlyMap<string, number>
  /** Pair key (see pairKey) → merge rank. */
  ranks: ReadonlyMap<string, number>
  split: RegExp
  unknownId: number | undefined
}

/** An unambiguous key for a (left, right) merge pair. */
export const pairKey = (left: string, right: string): string => `${left.length}:${left}${right}`

type Bigram = { left: number; right: number; rank: number; text: string }

// Lowest rank first; on ties the leftmost pair (llama.cpp's llm_bigram_bpe comparator).
const before = (a: Bigram, b: Bigram): boolean =>
  a.rank < b.rank || (a.rank === b.rank && a.left < b.left)

/** Appends the ids of one text fragment: regex split, byte mapping, then rank-ordered merges. */
export function encodeBpe(model: BpeModel, fragment: string, output: number[]): void {
  for (const match of fragment.matchAll(model.split)) {
    let word = ''
    for (const b of utf8Encode(match[0])) word += BYTE_TO_CHAR[b]
    encodeWord(model, word, output)
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
