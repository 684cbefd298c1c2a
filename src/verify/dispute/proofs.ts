import { sha256 } from '@noble/hashes/sha2.js'
import { type Hex, toHex } from 'viem'
import { vecChunks } from '../../runtime/trace/hasher.ts'
import { MerkleTree } from '../../runtime/trace/merkle.ts'

/**
 * Merkle proofs in the form the dispute game checks them (contracts/src/dispute/
 * DisputeMerkleLib.sol): compact, i.e. without the siblings that lie wholly in a tree's padding
 * (the verifier knows the leaf count, so it knows those are zero subtrees), and for a range of
 * leaves, per height the range's left neighbour then its right neighbour where it needs them.
 */

/** What a proof is built from: a tree's nodes by (height, index) and its leaf count. */
export type TreeNodes = {
  readonly count: number
  /** Levels above the leaves (0 for a one-leaf tree). */
  readonly height: number
  node(h: number, i: number): Uint8Array
}

export function treeNodes(tree: MerkleTree): TreeNodes {
  return { count: tree.count, height: tree.levels.length - 1, node: (h, i) => tree.node(h, i) }
}

/**
 * A party's tree as another party knows it: the nodes it revealed on chain (the bisection path
 * and its siblings, or whole levels of a wide descent), the nodes above them hashed from their
 * children, and the knower's own nodes everywhere else, where the two trees agree. Every node a
 * proof of an agreed leaf needs is one of these.
 */
export function withRevealed(
  base: TreeNodes,
  revealed: ReadonlyMap<string, Uint8Array>,
): TreeNodes {
  // Nodes with a revealed node below them are recomputed from their children.
  const above = new Set<string>()
  for (const key of revealed.keys()) {
    let [h, i] = key.split('/').map(Number) as [number, number]
    while (h < base.height) {
      h++
      i = Math.floor(i / 2)
      above.add(nodeKey(h, i))
    }
  }
  const cache = new Map<string, Uint8Array>()
  const node = (h: number, i: number): Uint8Array => {
    const key = nodeKey(h, i)
    const shown = revealed.get(key)
    if (shown) return shown
    if (!above.has(key)) return base.node(h, i)
    let v = cache.get(key)
    if (!v) {
      const pair = new Uint8Array(64)
      pair.set(node(h - 1, 2 * i), 0)
      pair.set(node(h - 1, 2 * i + 1), 32)
      v = sha256(pair)
      cache.set(key, v)
    }
    return v
  }
  return { count: base.count, height: base.height, node }
}

export const nodeKey = (h: number, i: number) => `${h}/${i}`

/** The compact range proof of leaves [first, last]. */
export function rangeProof(tree: TreeNodes, first: number, last: number): Uint8Array[] {
  if (first < 0 || last < first || last >= tree.count)
    throw new RangeError(`leaves ${first}..${last} are outside the tree (${tree.count})`)
  const out: Uint8Array[] = []
  let lo = first
  let hi = last
  for (let h = 0; h < tree.height; h++) {
    const nlo = Math.floor(lo / 2)
    const nhi = Math.floor(hi / 2)
    for (let t = nlo; t <= nhi; t++) {
      const li = 2 * t
      if (li < lo) out.push(tree.node(h, li).slice())
      if (li + 1 > hi && (li + 1) * 2 ** h < tree.count) out.push(tree.node(h, li + 1).slice())
    }
    lo = nlo
    hi = nhi
  }
  return out
}

/** The compact proof of one leaf. */
export function compactProof(tree: TreeNodes, index: number): Uint8Array[] {
  return rangeProof(tree, index, index)
}

export const hexes = (list: readonly Uint8Array[]): Hex[] => list.map((b) => toHex(b))

/** A vector's chunk tree (vecRoot's tree) with its chunk bytes. */
export type ChunkTree = { chunks: Uint8Array; tree: MerkleTree }

const chunkTrees = new WeakMap<Int32Array, ChunkTree>()

export function chunkTree(vector: Int32Array): ChunkTree {
  let t = chunkTrees.get(vector)
  if (!t) {
    const chunks = vecChunks(vector)
    t = { chunks, tree: new MerkleTree(chunks, chunks.length / 32) }
    chunkTrees.set(vector, t)
  }
  return t
}

/** Chunks [first, last] of a vector's chunk bytes and their compact range proof (none if whole). */
export function chunkRange(
  vector: Int32Array,
  from: number,
  count: number,
): { chunks: Hex; firstChunk: number; rangeProof: Hex[] } {
  const { chunks, tree } = chunkTree(vector)
  const first = Math.floor(from / 8)
  const last = Math.max(first, Math.floor((from + Math.max(count, 1) - 1) / 8))
  const whole = first === 0 && last === tree.count - 1
  return {
    chunks: toHex(chunks.subarray(first * 32, (last + 1) * 32)),
    firstChunk: first,
    rangeProof: whole ? [] : hexes(rangeProof(treeNodes(tree), first, last)),
  }
}

/** The level `h` nodes [first, first + n) of a tree (a reveal's content). */
export function levelNodes(tree: TreeNodes, h: number, first: number, n: number): Hex[] {
  return Array.from({ length: n }, (_, j) => toHex(tree.node(h, first + j)))
}
