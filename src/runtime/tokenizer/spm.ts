import { TokenizerError } from '../../errors/runtime.ts'
import { Heap } from './heap.ts'
import { utf8Encode } from './utf8.ts'

/** SentencePiece's visible space. */
export const SPACE_MARK = '\u2581'

export type SpmModel = {
  /** Text → id of the tokens a merge may produce (normal tokens only). */
  pieces: ReadonlyMap<string, number>
  scores: Float64Array
  /** byteIds[b] is the id of `<0xBB>`, or -1. */
  byteIds: Int32Array
  unknownId: number | undefined
}

type Bigram = { left: number; right: number; score: number; size: number }

// Highest score first; on ties the leftmost pair (llama.cpp's llm_bigram_spm comparator).
const before = (a: Bigram, b: Bigram): boolean =>
  a.score > b.score || (a.score === b.score && a.left < b.left)

/**
 * Appends the ids of one text fragment, exactly like llama.cpp's llm_tokenizer_spm_session: spaces
 * become '▁', then adjacent symbols are merged best-score-first through a heap over a linked list;
 * a symbol that is no token falls back to its UTF-8 bytes (`<0xNN>`), else to the unknown token.
 * As in llama.cpp, a literal '▁' in the input is the same as a space (it decodes as one).
 */
export function encodeSpm(model: SpmModel, fragment: string, output: number[]): void {
  // --- split into code points; `text` is the escaped string the symbols index into
  const text = fragment.replaceAll(' ', SPACE_MARK)
  const start: number[] = []
  const size: number[] = []
  for (let i = 0; i < text.length; ) {
    const len = text.codePointAt(i)! > 0xffff ? 2 : 1
    start.push(i)
    size.push(len)
    i += len
  }
  const count = start.length
  const prev = new Int32Array(count)
  const next = new Int32Array(count)
  for (let i = 0; i < count; i++) {
    prev[i] = i - 1
    next[i] = i + 1 < count ? i + 1 : -1
  }

  // --- merge the best-scoring adjacent pair until none forms a token
  const queue = new Heap<Bigram>(before)
  const tryAdd = (left: number, right: number): void => {
    if (left < 0 || right < 0) return
    const pieceSize = size[left]! + size[right]!
    const id = model.pieces.get(text.substr(start[left]!, pieceSize))
    if (id === undefined) return
    queue.push({ left, right, score: model.scores[id]!, size: pieceSize })
  }
  for (let i = 1; i < count; i++) tryAdd(i - 1, i)
  for (let bigram = queue.pop(); bigram !== undefined; bigram = queue.pop()) {
    const { left, right } = bigram
    // Stale when either side has merged since the pair was queued.
    if (size[left] === 0 || size[right] === 0 || size[left]! + size[right]! !== bigram.size)
      continue
    size[left] = bigram.size
    size[right] = 0
    next[left] = next[right]!
    if (next[right]! >= 0) prev[next[right]!] = left
    tryAdd(prev[left]!, left)
    tryAdd(left, next[left]!)
  }

  // --- emit: merged symbols are tokens by construction; single characters may need byte fallback
  for (let i = count > 0 ? 0 : -1; i !== -1; i = next[i]!) {
    const piece = text.substr(start[i]!, size[i]!)
    const id = model.pieces.get(piece)
    if (id !== undefined) output.push(id)
    else byteFallback(model, piece, output)
  }
}

function byteFallback(model: SpmModel, char: string, output: number[]): void {
  const bytes = utf8Encode(char)
  let ok = true
  for (const b of bytes) if (model.byteIds[b]! < 0) ok = false
  if (ok) {
    for (const b of bytes) output.push(model.byteIds[b]!)
    return
  }
  // SentencePiece without byte fallback: one unknown token per character.
  if (model.unknownId !== undefined) {
    output.push(model.unknownId)
    return
  }
  const hex = Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join(' ')
  throw new TokenizerError(
    `cannot encode character ${JSON.stringify(char)} (bytes ${hex}): not in the vocabulary, no byte tokens and no unknown token`,
  )
}
