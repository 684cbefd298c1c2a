import { GenerationError } from '../../../errors/runtime.ts'
import { initialState, isComplete, run, type State, stateKey, type ValueNode } from './automaton.ts'
import type { TokenTrie } from './vocab.ts'

/** Masks kept per request (a string's body repeats one state; the cache only saves time). */
const CACHE_ENTRIES = 64

/** A token mask: bit t of `bits` set = token t allowed; `count` tokens allowed. */
export type TokenMask = { readonly bits: Uint32Array; readonly count: number }

/** Whether the mask allows token t. */
export function maskHas(bits: Uint32Array, t: number): boolean {
  return ((bits[t >>> 5]! >>> (t & 31)) & 1) === 1
}

/**
 * The constraint of one generation (docs/DETERMINISM.md, "constrained output"): the tokens
 * allowed next are those whose bytes keep the output a valid prefix of a value the root node
 * allows; a stop token is allowed exactly when the value is complete, and then nothing else is.
 */
export class JsonConstraint {
  private state: State
  private readonly cache = new Map<string, TokenMask>()

  constructor(
    private readonly trie: TokenTrie,
    root: ValueNode,
    private readonly stopTokens: readonly number[],
  ) {
    this.state = initialState(root)
  }

  /** Whether the output so far is a complete value. */
  get complete(): boolean {
    return isComplete(this.state)
  }

  /** The tokens allowed next. */
  mask(): TokenMask {
    const key = stateKey(this.state)
    let mask = this.cache.get(key)
    if (mask !== undefined) return mask
    const bits = new Uint32Array(Math.ceil(this.trie.vocabSize / 32))
    let count = 0
    if (this.complete) {
      for (const t of this.stopTokens)
        if (t < this.trie.vocabSize && (bits[t >>> 5]! & (1 << (t & 31))) === 0) {
          bits[t >>> 5]! |= 1 << (t & 31)
          count++
        }
    } else {
      count = this.trie.allowed(this.state, bits)
      // A stop token ends the output: never before the value is complete, whatever its bytes.
      for (const t of this.stopTokens)
        if (t < this.trie.vocabSize && (bits[t >>> 5]! & (1 << (t & 31))) !== 0) {
          bits[t >>> 5]! &= ~(1 << (t & 31))
          count--
        }
    }
    if (this.cache.size >= CACHE_ENTRIES) this.cache.clear()
    mask = { bits, count }
    this.cache.set(key, mask)
    return mask
  }

  /** Feeds a sampled token (one the mask allowed). */
  advance(token: number): void {
    if (this.stopTokens.includes(token)) return
    const next = run(this.state, this.trie.tokenBytes[token] ?? new Uint8Array(0))
    if (next === null || this.trie.tokenBytes[token]!.length === 0)
      throw new GenerationError(`token ${token} does not continue the constrained output`)
    this.state = next
  }
}
