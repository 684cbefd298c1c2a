import { TokenizerError } from '../../errors/runtime.ts'
import {
  BYTE_TOKENS,
  LLAMA_RESERVED,
  LLAMA_SPECIAL_TOKENS,
  type VocabPiece,
} from './build-vocab.ts'
import { Heap } from './heap.ts'
import { SPACE_MARK } from './spm.ts'

// Words as the llama encoder sees them: an optional leading space (→ '▁') and a run of characters
// that are not whitespace, not a literal '▁' (never merged) and not a lone surrogate (not UTF-8).
const WORD = / ?[^\s\u2581\uD800-\uDFFF]+/gu

type Word = { symbols: string[]; count: number }
type Candidate = { left: string; right: string; count: number }

// Most frequent first; ties by the pair in lexicographic (UTF-16 code unit) order.
const before = (a: Candidate, b: Candidate): boolean =>
  a.count > b.count ||
  (a.count === b.count && (a.left < b.left || (a.left === b.left && a.right < b.right)))

/**
 * Trains llama-style pieces on `text` by plain BPE: repeatedly merge the most frequent adjacent pair
 * inside words, until the vocab (3 specials + 256 bytes + pieces) reaches `vocabSize` or no pair
 * occurs twice. Piece scores are minus the merge rank, then the single characters (most frequent
 * first) below them. Deterministic: the same text and size give the same pieces.
 */
export function trainSpmBpe(text: string, vocabSize: number): VocabPiece[] {
  if (!Number.isSafeInteger(vocabSize) || vocabSize < LLAMA_RESERVED) {
    throw new TokenizerError(
      `vocab size ${vocabSize} is below the ${LLAMA_RESERVED} reserved tokens`,
    )
  }
  const budget = vocabSize - LLAMA_RESERVED
  const reserved = new Set<string>([...LLAMA_SPECIAL_TOKENS, ...BYTE_TOKENS])

  // --- unique words with counts; the encoder adds a space before the text, so do we
  const wordCounts = new Map<string, number>()
  for (const m of ` ${text}`.matchAll(WORD)) {
    const w = m[0].replace(' ', SPACE_MARK)
    wordCounts.set(w, (wordCounts.get(w) ?? 0) + 1)
  }

  // --- characters: keep the most frequent ones that fit; words are cut at the others
  const charCounts = new Map<string, number>([[SPACE_MARK, 0]])
  for (const [w, n] of wordCounts)
    for (const c of w) charCounts.set(c, (charCounts.get(c) ?? 0) + n)
  const chars = [...charCounts]
    .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))
    .map(([c]) => c)
    .filter((c) => !reserved.has(c))
    .slice(0, budget)
  const known = new Set(chars)
  const words: Word[] = []
  for (const [w, count] of [...wordCounts].sort((a, b) => (a[0] < b[0] ? -1 : 1))) {
    let run: string[] = []
    for (const c of w) {
      if (known.has(c)) run.push(c)
      else {
        if (run.length > 1) words.push({ symbols: run, count })
        run = []
      }
    }
    if (run.length > 1) words.push({ symbols: run, count })
  }

  // --- pair counts, the words each pair occurs in, and a lazy max-heap over the counts
  const pairCount = new Map<string, number>()
  const pairWords = new Map<string, Set<number>>()
  const queue = new Heap<Candidate>(before)
  const key = (l: string, r: string): string => `${l.length}:${l}${r}`
  const banned = new Set<string>()
  const touched = new Map<string, [string, string]>()
  const addPairs = (wi: number, sign: 1 | -1): void => {
    const { symbols, count } = words[wi]!
    for (let i = 0; i + 1 < symbols.length; i++) {
      const k = key(symbols[i]!, symbols[i + 1]!)
      pairCount.set(k, (pairCount.get(k) ?? 0) + sign * count)
      if (sign > 0) {
        const set = pairWords.get(k)
        if (set === undefined) pairWords.set(k, new Set([wi]))
        else set.add(wi)
      }
      touched.set(k, [symbols[i]!, symbols[i + 1]!])
    }
  }
  const flush = (): void => {
    for (const [k, [left, right]] of touched) {
      const count = pairCount.get(k)!
      if (count > 0 && !banned.has(k)) queue.push({ left, right, count })
    }
    touched.clear()
  }
  for (let wi = 0; wi < words.length; wi++) addPairs(wi, 1)
  flush()

  // --- merge loop
  const merged: string[] = []
  const vocab = new Set(chars)
  while (chars.length + merged.length < budget) {
    const best = queue.pop()
    if (best === undefined || best.count < 2) break
    const k = key(best.left, best.right)
    if (pairCount.get(k) !== best.count) continue // stale heap entry
    const piece = best.left + best.right
    // A merge that would spell a special or byte token's text is never made (no duplicate tokens).
    if (reserved.has(piece)) {
      banned.add(k)
      continue
    }
    if (!vocab.has(piece)) {
      vocab.add(piece)
      merged.push(piece)
    }
    for (const wi of [...pairWords.get(k)!].sort((a, b) => a - b)) {
      const word = words[wi]!
      addPairs(wi, -1)
      const out: string[] = []
      const s = word.symbols
      for (let i = 0; i < s.length; i++) {
        if (i + 1 < s.length && s[i] === best.left && s[i + 1] === best.right) {
          out.push(piece)
          i++
        } else out.push(s[i]!)
      }
      word.symbols = out
      addPairs(wi, 1)
    }
    flush()
  }

  return [
    ...merged.map((t, rank) => ({ text: t, score: 0 - rank })),
    ...chars.map((t, i) => ({ text: t, score: 0 - merged.length - i })),
  ]
}
