import { TokenType } from './types.ts'

export type Fragment = { text: string; id?: never } | { id: number; text?: never }

/** Ids of the tokens `parseSpecial` matches, longest text first (llama.cpp's order; ties by id). */
export function specialTokenOrder(tokens: readonly string[], types: Uint8Array): number[] {
  const ids: number[] = []
  for (let id = 0; id < tokens.length; id++) {
    const t = types[id]
    if (t === TokenType.control || t === TokenType.userDefined || t === TokenType.unknown) {
      if (tokens[id]!.length > 0) ids.push(id)
    }
  }
  return ids.sort((a, b) => tokens[b]!.length - tokens[a]!.length || a - b)
}

/**
 * Splits `text` around special-token texts, like llama.cpp's tokenizer_st_partition: each token in
 * turn (longest first) cuts every occurrence out of the text fragments still left.
 */
export function partitionSpecial(
  text: string,
  order: readonly number[],
  tokens: readonly string[],
): Fragment[] {
  let fragments: Fragment[] = [{ text }]
  for (const id of order) {
    const needle = tokens[id]!
    if (!text.includes(needle)) continue
    const next: Fragment[] = []
    for (const fragment of fragments) {
      if (fragment.text === undefined) {
        next.push(fragment)
        continue
      }
      const hay = fragment.text
      let from = 0
      for (let at = hay.indexOf(needle); at >= 0; at = hay.indexOf(needle, from)) {
        if (at > from) next.push({ text: hay.slice(from, at) })
        next.push({ id })
        from = at + needle.length
      }
      if (from < hay.length) next.push({ text: hay.slice(from) })
    }
    fragments = next
  }
  return fragments
}
