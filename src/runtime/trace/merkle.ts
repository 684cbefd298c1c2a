import { sha256 } from '@noble/hashes/sha2.js'
import type { Kernel } from '../kernels/types.ts'

/**
 * Binary sha256 Merkle trees as docs/DETERMINISM.md defines them: leaves are 32-byte values,
 * the leaf count is padded to a power of two with zero leaves, a node is sha256(left || right),
 * and a tree of one leaf has that leaf as its root.
 */
export const ZERO32 = new Uint8Array(32)

export function nextPow2(n: number): number {
  let p = 1
  while (p < n) p *= 2
  return p
}

/** Root over `count` leaves stored contiguously (32 bytes each) in `leaves`. */
export function merkleRoot(leaves: Uint8Array, count: number): Uint8Array {
  if (count === 0) return ZERO32.slice()
  const width = nextPow2(count)
  let level = new Uint8Array(width * 32)
  level.set(leaves.subarray(0, count * 32))
  for (let n = width; n > 1; n /= 2) {
    const next = new Uint8Array((n / 2) * 32)
    for (let i = 0; i < n / 2; i++) next.set(sha256(level.subarray(64 * i, 64 * i + 64)), 32 * i)
    level = next
  }
  return level.slice(0, 32)
}

/**
 * The same root computed in the kernel's arena with its batched sha256: the leaves are copied to
 * `scratchPtr`, which must hold nextPow2(count) * 32 bytes, and are overwritten.
 */
export function merkleRootInArena(
  kernel: Kernel,
  scratchPtr: number,
  leaves: Uint8Array,
  count: number,
): Uint8Array {
  if (count === 0) return ZERO32.slice()
  const width = nextPow2(count)
  const u8 = kernel.u8
  u8.set(leaves.subarray(0, count * 32), scratchPtr)
  u8.fill(0, scratchPtr + count * 32, scratchPtr + width * 32)
  for (let n = width; n > 1; n /= 2) kernel.sha256Pairs(scratchPtr, n / 2, scratchPtr)
  return u8.slice(scratchPtr, scratchPtr + 32)
}

/** Sibling hashes from leaf `index` up to the root (bottom first). */
export function merkleProof(leaves: Uint8Array, count: number, index: number): Uint8Array[] {
  if (index < 0 || index >= count)
    throw new RangeError(`leaf ${index} out of range (${count} leaves)`)
  const width = nextPow2(count)
  let level = new Uint8Array(width * 32)
  level.set(leaves.subarray(0, count * 32))
  const proof: Uint8Array[] = []
  let i = index
  for (let n = width; n > 1; n /= 2) {
    const sibling = i ^ 1
    proof.push(level.slice(32 * sibling, 32 * sibling + 32))
    const next = new Uint8Array((n / 2) * 32)
    for (let k = 0; k < n / 2; k++) next.set(sha256(level.subarray(64 * k, 64 * k + 64)), 32 * k)
    level = next
    i >>= 1
  }
  return proof
}

/** log2 of the padded width of a tree of `count` leaves: the length of its proofs. */
export function proofLength(count: number): number {
  let k = 0
  for (let width = 1; width < count; width *= 2) k++
  return k
}

/**
 * A tree kept whole, level by level, for many proofs of one set of leaves (openings, the
 * game's bisection) at O(log n) each. levels[0] holds the padded leaves, the last level the root.
 */
export class MerkleTree {
  readonly count: number
  readonly levels: Uint8Array[]

  constructor(leaves: Uint8Array, count: number) {
    this.count = count
    let level = new Uint8Array(nextPow2(Math.max(1, count)) * 32)
    level.set(leaves.subarray(0, count * 32))
    this.levels = [level]
    for (let n = level.length / 32; n > 1; n /= 2) {
      const next = new Uint8Array((n / 2) * 32)
      for (let i = 0; i < n / 2; i++) next.set(sha256(level.subarray(64 * i, 64 * i + 64)), 32 * i)
      this.levels.push(next)
      level = next
    }
  }

  get root(): Uint8Array {
    return this.levels[this.levels.length - 1]!.slice(0, 32)
  }

  /** Node i of level h (h = 0: the leaves). */
  node(h: number, i: number): Uint8Array {
    return this.levels[h]!.subarray(32 * i, 32 * i + 32)
  }

  leaf(i: number): Uint8Array {
    return this.node(0, i).slice()
  }

  proof(index: number): Uint8Array[] {
    if (!Number.isSafeInteger(index) || index < 0 || index >= this.count)
      throw new RangeError(`leaf ${index} out of range (${this.count} leaves)`)
    const out: Uint8Array[] = []
    for (let h = 0, i = index; h < this.levels.length - 1; h++, i >>= 1)
      out.push(this.node(h, i ^ 1).slice())
    return out
  }
}

/**
 * The game's bisection over two trees of the same shape with different roots: from the root, go
 * left while the left children differ, else right. Returns the leaf reached, the first that
 * differs; every subtree left of it is agreed.
 */
export function bisect(a: MerkleTree, b: MerkleTree): number {
  if (a.levels.length !== b.levels.length) throw new RangeError('the trees differ in shape')
  const top = a.levels.length - 1
  if (bytesEqual(a.node(top, 0), b.node(top, 0))) throw new RangeError('the trees agree')
  let i = 0
  for (let h = top - 1; h >= 0; h--) {
    i *= 2
    if (bytesEqual(a.node(h, i), b.node(h, i))) i++
  }
  return i
}

/** Recomputes the root from a leaf and its proof. */
export function rootFromProof(
  leaf: Uint8Array,
  index: number,
  proof: readonly Uint8Array[],
): Uint8Array {
  let node = leaf
  let i = index
  const pair = new Uint8Array(64)
  for (const sibling of proof) {
    if (i & 1) {
      pair.set(sibling, 0)
      pair.set(node, 32)
    } else {
      pair.set(node, 0)
      pair.set(sibling, 32)
    }
    node = sha256(pair)
    i >>= 1
  }
  return node
}

export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false
  return true
}

export function toHex(bytes: Uint8Array): `0x${string}` {
  let s = '0x'
  for (const b of bytes) s += b.toString(16).padStart(2, '0')
  return s as `0x${string}`
}

export function fromHex(hex: string): Uint8Array {
  const h = hex.startsWith('0x') ? hex.slice(2) : hex
  if (h.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(h))
    throw new RangeError(`not a hex string: ${hex.slice(0, 20)}`)
  const out = new Uint8Array(h.length / 2)
  for (let i = 0; i < out.length; i++) out[i] = Number.parseInt(h.slice(2 * i, 2 * i + 2), 16)
  return out
}
