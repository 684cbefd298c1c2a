import { createHash } from 'node:crypto'
import { CompetitionError } from '../errors/competition.ts'
import type { ByteSource } from '../runtime/gguf/source.ts'
import { bytesEqual, fromHex, toHex } from '../runtime/trace/merkle.ts'

/**
 * A model file's commitment (ModelCompetition's `fileHash`): a Merkle root over fixed 1 MiB
 * chunks, so a validator checks every chunk as it arrives from a miner instead of trusting a
 * whole download first.
 *
 * - chunk i is bytes [i * 1 MiB, min((i + 1) * 1 MiB, size)); the last one is shorter unless
 *   the size is an exact multiple; a file has at least one byte;
 * - leaf(i) = sha256(0x00 || uint64be(i) || chunk i): the index is inside the leaf, so two
 *   chunks swapped, or one chunk offered at another index, do not verify;
 * - node = sha256(0x01 || left || right); the last node of a level with an odd count is
 *   promoted to the next level unchanged (not paired with itself: no second tree has the
 *   same root with a duplicated leaf);
 * - fileRoot = sha256(0x02 || uint64be(size) || tree root): the size is inside the root, so a
 *   commitment cannot be replayed for a truncated or extended file.
 * A chunk's proof is the siblings from its leaf up, skipping the levels where its node was
 * promoted; its length follows from the size and index, and any other length is refused.
 */
export const FILE_CHUNK_BYTES = 1 << 20

const LEAF = 0x00
const NODE = 0x01
const ROOT = 0x02

/** A file's tree: every level, leaves first (a server keeps it to answer proofs). */
export type FileTree = {
  size: number
  root: `0x${string}`
  /** levels[0] the leaves, the last level one node (the tree root before the size is bound). */
  levels: Uint8Array[][]
}

/** sha256 of the parts, by OpenSSL (ten times JavaScript's speed on 1 MiB chunks). */
function sha256(...parts: Uint8Array[]): Uint8Array {
  const hash = createHash('sha256')
  for (const part of parts) hash.update(part)
  return new Uint8Array(hash.digest())
}

function u64be(value: number): Uint8Array {
  const out = new Uint8Array(8)
  new DataView(out.buffer).setBigUint64(0, BigInt(value))
  return out
}

/** A file size as a safe integer of at least one byte, or a CompetitionError. */
export function fileSize(size: number | bigint): number {
  if (typeof size === 'bigint') {
    if (size < 1n || size > BigInt(Number.MAX_SAFE_INTEGER))
      throw new CompetitionError('size', `a model file must be 1 to 2^53-1 bytes, got ${size}`)
    return Number(size)
  }
  if (!Number.isSafeInteger(size) || size < 1)
    throw new CompetitionError('size', `a model file must be 1 to 2^53-1 bytes, got ${size}`)
  return size
}

/** Number of chunks of a file of `size` bytes. */
export function chunkCount(size: number | bigint): number {
  return Math.ceil(fileSize(size) / FILE_CHUNK_BYTES)
}

/** Where chunk `index` lies in a file of `size` bytes; a CompetitionError for an index out of range. */
export function chunkRange(
  size: number | bigint,
  index: number,
): { offset: number; length: number } {
  const n = fileSize(size)
  const count = chunkCount(n)
  if (!Number.isSafeInteger(index) || index < 0 || index >= count)
    throw new CompetitionError('index', `chunk ${index} is not in 0..${count - 1}`)
  const offset = index * FILE_CHUNK_BYTES
  return { offset, length: Math.min(FILE_CHUNK_BYTES, n - offset) }
}

/** The leaf of chunk `index`. */
export function chunkLeaf(index: number, chunk: Uint8Array): Uint8Array {
  return sha256(Uint8Array.of(LEAF), u64be(index), chunk)
}

function node(left: Uint8Array, right: Uint8Array): Uint8Array {
  return sha256(Uint8Array.of(NODE), left, right)
}

/** Builds the tree from the leaves of every chunk in order (a server hashes its file chunk by chunk). */
export function fileTreeFromLeaves(size: number | bigint, leaves: readonly Uint8Array[]): FileTree {
  const n = fileSize(size)
  if (leaves.length !== chunkCount(n))
    throw new CompetitionError(
      'leaves',
      `a file of ${n} bytes has ${chunkCount(n)} chunks, got ${leaves.length} leaves`,
    )
  const levels: Uint8Array[][] = [leaves.slice()]
  for (let level = levels[0]!; level.length > 1; ) {
    const up: Uint8Array[] = []
    for (let i = 0; i + 1 < level.length; i += 2) up.push(node(level[i]!, level[i + 1]!))
    if (level.length % 2 === 1) up.push(level[level.length - 1]!)
    levels.push(up)
    level = up
  }
  const top = levels[levels.length - 1]![0]!
  const root = sha256(Uint8Array.of(ROOT), u64be(n), top)
  return { size: n, root: toHex(root) as `0x${string}`, levels }
}

/** The tree of a file held in memory. */
export function fileTree(bytes: Uint8Array): FileTree {
  return fileTreeOfSource({
    size: bytes.length,
    read: (offset, length) => bytes.subarray(offset, offset + length),
  })
}

/** The tree of a file read chunk by chunk (a ByteSource: a model file on disk is never held whole). */
export function fileTreeOfSource(source: ByteSource): FileTree {
  const count = chunkCount(source.size)
  const leaves: Uint8Array[] = []
  for (let i = 0; i < count; i++) {
    const { offset, length } = chunkRange(source.size, i)
    leaves.push(chunkLeaf(i, source.read(offset, length)))
  }
  return fileTreeFromLeaves(source.size, leaves)
}

/** A file's commitment (the on-chain `fileHash`). */
export function fileRoot(bytes: Uint8Array): `0x${string}` {
  return fileTree(bytes).root
}

/** The proof of chunk `index` from a built tree. */
export function treeProof(tree: FileTree, index: number): Uint8Array[] {
  chunkRange(tree.size, index)
  const proof: Uint8Array[] = []
  let at = index
  for (const level of tree.levels.slice(0, -1)) {
    const sibling = at % 2 === 1 ? at - 1 : at + 1
    if (sibling < level.length) proof.push(level[sibling]!)
    at = Math.floor(at / 2)
  }
  return proof
}

/** The proof of chunk `index` of a file held in memory. */
export function chunkProof(bytes: Uint8Array, index: number): Uint8Array[] {
  return treeProof(fileTree(bytes), index)
}

/**
 * Whether `chunk` is chunk `index` of the file committed as (`root`, `size`): its length must be
 * the one the size gives, and the proof must lead from its leaf to the root in exactly as many
 * steps as the tree of that size has. Never throws for bad input from a peer (wrong length,
 * index out of range, a proof too short or too long): the answer is false.
 */
export function verifyChunk(
  root: `0x${string}` | Uint8Array,
  size: number | bigint,
  index: number,
  chunk: Uint8Array,
  proof: readonly Uint8Array[],
): boolean {
  let n: number
  let range: { length: number }
  let want: Uint8Array
  try {
    n = fileSize(size)
    range = chunkRange(n, index)
    want = typeof root === 'string' ? fromHex(root) : root
  } catch {
    return false
  }
  if (chunk.length !== range.length) return false
  let hash = chunkLeaf(index, chunk)
  let at = index
  let width = chunkCount(n)
  let used = 0
  for (; width > 1; width = Math.ceil(width / 2), at = Math.floor(at / 2)) {
    const left = at % 2 === 1
    if (!left && at + 1 >= width) continue // promoted: no sibling at this level
    const sibling = proof[used++]
    if (sibling === undefined || sibling.length !== 32) return false
    hash = left ? node(sibling, hash) : node(hash, sibling)
  }
  if (used !== proof.length) return false
  const got = sha256(Uint8Array.of(ROOT), u64be(n), hash)
  return bytesEqual(got, want)
}
