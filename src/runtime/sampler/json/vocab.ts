import { isInString, isPlainString, type State, step, stringState } from './automaton.ts'

/**
 * The vocabulary's token byte strings as a trie in preorder, built once per model: walking it
 * with the automaton visits each shared prefix once and skips a whole subtree at the first byte
 * the automaton refuses, so a step's cost is the number of trie nodes still valid, not the sum of
 * the token lengths.
 */
export class TokenTrie {
  readonly vocabSize: number
  /** Each token's bytes (empty for control, unused and other byte-less tokens: never allowed). */
  readonly tokenBytes: readonly Uint8Array[]
  /** Nodes in preorder; node 0 is the root (the empty string). */
  readonly nodeCount: number
  private readonly byte: Uint8Array
  private readonly depth: Uint16Array
  /** One past the last node of each node's subtree. */
  private readonly end: Int32Array
  /** Tokens whose bytes end at each node: tokIds[tokStart[n] .. tokStart[n + 1]). */
  private readonly tokStart: Int32Array
  private readonly tokIds: Int32Array
  /** 1 where a node's whole subtree is string content when entered at a character boundary. */
  private readonly whole: Uint8Array
  private readonly states: (State | null)[]

  constructor(tokenBytes: readonly Uint8Array[]) {
    this.vocabSize = tokenBytes.length
    this.tokenBytes = tokenBytes
    const ids: number[] = []
    for (let id = 0; id < tokenBytes.length; id++) if (tokenBytes[id]!.length > 0) ids.push(id)
    ids.sort((a, b) => compareBytes(tokenBytes[a]!, tokenBytes[b]!) || a - b)
    const byte: number[] = [0]
    const depth: number[] = [0]
    const end: number[] = [0]
    const firstTok: number[] = [0]
    const tokIds: number[] = []
    const path = [0]
    let prev: Uint8Array = new Uint8Array(0)
    for (const id of ids) {
      const b = tokenBytes[id]!
      let lcp = 0
      while (lcp < prev.length && lcp < b.length && prev[lcp] === b[lcp]) lcp++
      while (path.length - 1 > lcp) end[path.pop()!] = byte.length
      for (let d = lcp; d < b.length; d++) {
        path.push(byte.length)
        byte.push(b[d]!)
        depth.push(d + 1)
        end.push(0)
        firstTok.push(tokIds.length)
      }
      tokIds.push(id)
      prev = b
    }
    while (path.length > 0) end[path.pop()!] = byte.length
    this.nodeCount = byte.length
    this.byte = Uint8Array.from(byte)
    this.depth = Uint16Array.from(depth)
    this.end = Int32Array.from(end)
    // Tokens are appended in preorder, so each node's tokens run up to the next node's first.
    this.tokStart = Int32Array.from([...firstTok, tokIds.length])
    this.tokIds = Int32Array.from(tokIds)
    let maxDepth = 0
    for (const d of depth) maxDepth = Math.max(maxDepth, d)
    this.whole = wholeStringSubtrees(this.byte, this.depth, this.end, maxDepth)
    this.states = new Array(maxDepth + 1).fill(null)
  }

  /**
   * Sets in `bits` (a bitset over the vocabulary, cleared first) every token whose bytes the
   * automaton accepts from `state`; returns how many.
   */
  allowed(state: State, bits: Uint32Array): number {
    bits.fill(0)
    const { byte, depth, end, tokStart, tokIds, whole, states } = this
    states[0] = state
    let count = 0
    for (let i = 1; i < this.nodeCount; ) {
      const d = depth[i]!
      const parent = states[d - 1]!
      if (whole[i] === 1 && isPlainString(parent)) {
        // Every token below stays in this string state: allow them all (preorder: one id run).
        for (let k = tokStart[i]!; k < tokStart[end[i]!]!; k++) {
          const t = tokIds[k]!
          bits[t >>> 5]! |= 1 << (t & 31)
          count++
        }
        i = end[i]!
        continue
      }
      const s = step(parent, byte[i]!)
      if (s === null) {
        i = end[i]!
        continue
      }
      states[d] = s
      for (let k = tokStart[i]!; k < tokStart[i + 1]!; k++) {
        const t = tokIds[k]!
        bits[t >>> 5]! |= 1 << (t & 31)
        count++
      }
      i++
    }
    return count
  }
}

/**
 * The subtrees a string state at a character boundary takes whole: run the automaton from such a
 * state down the trie (paths that leave the string stop). ok[j]: the path to j stays string
 * content; at[j]: it ends at a character boundary. Subtree i is whole when the path to its parent
 * ends at a boundary and every path in the subtree is ok: UTF-8 and escape checking restart at a
 * boundary, so the bytes from i on are then valid from any string state at a boundary.
 */
function wholeStringSubtrees(
  byte: Uint8Array,
  depth: Uint16Array,
  end: Int32Array,
  maxDepth: number,
): Uint8Array {
  const n = byte.length
  const ok = new Uint8Array(n)
  const at = new Uint8Array(n)
  const parent = new Int32Array(n)
  const last = new Int32Array(maxDepth + 1)
  const sim: (State | null)[] = new Array(maxDepth + 1).fill(null)
  sim[0] = stringState()
  ok[0] = 1
  at[0] = 1
  for (let i = 1; i < n; i++) {
    const d = depth[i]!
    parent[i] = last[d - 1]!
    last[d] = i
    const p = sim[d - 1]
    const s = p === null || p === undefined ? null : step(p, byte[i]!)
    sim[d] = s !== null && isInString(s) ? s : null
    if (sim[d] !== null) {
      ok[i] = 1
      if (isPlainString(sim[d]!)) at[i] = 1
    }
  }
  const whole = new Uint8Array(n)
  let nextBad = n
  for (let i = n - 1; i >= 1; i--) {
    if (ok[i] === 0) nextBad = i
    else if (nextBad >= end[i]! && at[parent[i]!] === 1) whole[i] = 1
  }
  return whole
}

function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length)
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return a[i]! - b[i]!
  return a.length - b.length
}
