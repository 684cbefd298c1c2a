import { createHash } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { CompetitionError } from '../errors/competition.ts'
import { toHex } from '../runtime/trace/merkle.ts'
import {
  chunkCount,
  chunkProof,
  chunkRange,
  FILE_CHUNK_BYTES,
  fileRoot,
  fileTree,
  treeProof,
  verifyChunk,
} from './file-root.ts'

const MiB = FILE_CHUNK_BYTES

/** Deterministic bytes that differ from chunk to chunk (no two chunks equal). */
function pattern(size: number, salt = 0): Uint8Array {
  const out = new Uint8Array(size)
  for (let i = 0; i < size; i++) out[i] = (i * 31 + (i >>> 20) * 7 + salt) % 251
  return out
}

/** An independent re-derivation with node:crypto, for trees of one and two leaves. */
const u64 = (n: number) => {
  const b = Buffer.alloc(8)
  b.writeBigUInt64BE(BigInt(n))
  return b
}
const h = (...parts: Uint8Array[]) => {
  const hash = createHash('sha256')
  for (const p of parts) hash.update(p)
  return new Uint8Array(hash.digest())
}

function verifiesEveryChunk(bytes: Uint8Array): void {
  const tree = fileTree(bytes)
  for (let i = 0; i < chunkCount(bytes.length); i++) {
    const { offset, length } = chunkRange(bytes.length, i)
    const chunk = bytes.subarray(offset, offset + length)
    expect(verifyChunk(tree.root, bytes.length, i, chunk, treeProof(tree, i))).toBe(true)
  }
}

describe('a model file root', () => {
  it('refuses an empty file and sizes that are not byte counts', () => {
    expect(() => fileRoot(new Uint8Array(0))).toThrow(CompetitionError)
    expect(() => fileRoot(new Uint8Array(0))).toThrow(/1 to 2\^53-1 bytes, got 0/)
    expect(() => chunkCount(-1)).toThrow(CompetitionError)
    expect(() => chunkCount(1.5)).toThrow(CompetitionError)
    expect(() => chunkCount(2n ** 64n)).toThrow(CompetitionError)
  })

  it('is sha256(0x02 || size || leaf) for one chunk, leaf = sha256(0x00 || 0 || bytes)', () => {
    const bytes = pattern(1000)
    const leaf = h(Uint8Array.of(0), u64(0), bytes)
    expect(fileRoot(bytes)).toBe(toHex(h(Uint8Array.of(2), u64(1000), leaf)))
    expect(chunkProof(bytes, 0)).toEqual([])
    expect(verifyChunk(fileRoot(bytes), 1000, 0, bytes, [])).toBe(true)
    const one = Uint8Array.of(42)
    expect(verifyChunk(fileRoot(one), 1, 0, one, [])).toBe(true)
  })

  it('hashes two chunks as sha256(0x01 || leaf0 || leaf1) (checked with node:crypto)', () => {
    const bytes = pattern(MiB + 1)
    const leaf0 = h(Uint8Array.of(0), u64(0), bytes.subarray(0, MiB))
    const leaf1 = h(Uint8Array.of(0), u64(1), bytes.subarray(MiB))
    const top = h(Uint8Array.of(1), leaf0, leaf1)
    expect(fileRoot(bytes)).toBe(toHex(h(Uint8Array.of(2), u64(MiB + 1), top)))
    expect(chunkProof(bytes, 0)).toEqual([leaf1])
    expect(chunkProof(bytes, 1)).toEqual([leaf0])
  })

  it('splits exact multiples and off-by-one sizes into the right chunks', () => {
    expect(chunkCount(MiB - 1)).toBe(1)
    expect(chunkCount(MiB)).toBe(1)
    expect(chunkCount(MiB + 1)).toBe(2)
    expect(chunkCount(2 * MiB)).toBe(2)
    expect(chunkCount(2 * MiB + 1)).toBe(3)
    expect(chunkRange(2 * MiB, 1)).toEqual({ offset: MiB, length: MiB })
    expect(chunkRange(2 * MiB + 1, 2)).toEqual({ offset: 2 * MiB, length: 1 })
    expect(chunkRange(2 * MiB - 1, 1)).toEqual({ offset: MiB, length: MiB - 1 })
    expect(() => chunkRange(2 * MiB, 2)).toThrow(/chunk 2 is not in 0..1/)
    // The size is in the root: a file and the same file one byte longer or shorter differ.
    const bytes = pattern(2 * MiB + 1)
    const roots = new Set([
      fileRoot(bytes),
      fileRoot(bytes.subarray(0, 2 * MiB)),
      fileRoot(bytes.subarray(0, 2 * MiB - 1)),
    ])
    expect(roots.size).toBe(3)
  })

  it('verifies every chunk of trees of 1 to 7 chunks (promoted odd nodes included)', () => {
    for (const size of [MiB, MiB + 1, 2 * MiB, 3 * MiB - 1, 4 * MiB, 5 * MiB + 7, 7 * MiB - 3])
      verifiesEveryChunk(pattern(size))
    // proof lengths follow the shape: 5 leaves -> chunk 4 promoted twice, one sibling at the top
    const five = fileTree(pattern(5 * MiB))
    expect([0, 1, 2, 3, 4].map((i) => treeProof(five, i).length)).toEqual([3, 3, 3, 3, 1])
  })

  it('refuses a chunk at the wrong index, swapped chunks, a flipped byte and wrong lengths', () => {
    const bytes = pattern(3 * MiB + 100)
    const tree = fileTree(bytes)
    const size = bytes.length
    const c = (i: number) => bytes.subarray(i * MiB, Math.min((i + 1) * MiB, size))
    const p = (i: number) => treeProof(tree, i)
    expect(verifyChunk(tree.root, size, 1, c(1), p(1))).toBe(true)
    // chunk 1 with its own proof claimed at index 0 or 2
    expect(verifyChunk(tree.root, size, 0, c(1), p(1))).toBe(false)
    expect(verifyChunk(tree.root, size, 2, c(1), p(1))).toBe(false)
    // swapped chunks: chunk 1 offered as chunk 0 with chunk 0's proof
    expect(verifyChunk(tree.root, size, 0, c(1), p(0))).toBe(false)
    const swapped = bytes.slice()
    swapped.set(c(1), 0)
    swapped.set(c(0), MiB)
    expect(fileRoot(swapped)).not.toBe(tree.root)
    // one flipped byte
    const flipped = c(2).slice()
    flipped[12345]! ^= 0x80
    expect(verifyChunk(tree.root, size, 2, flipped, p(2))).toBe(false)
    // truncated or padded chunks, the last one too
    expect(verifyChunk(tree.root, size, 2, c(2).subarray(0, MiB - 1), p(2))).toBe(false)
    expect(verifyChunk(tree.root, size, 3, c(3).subarray(0, 99), p(3))).toBe(false)
    const padded = new Uint8Array(101)
    padded.set(c(3))
    expect(verifyChunk(tree.root, size, 3, padded, p(3))).toBe(false)
    // another size, an index out of range, a malformed root
    expect(verifyChunk(tree.root, size + 1, 3, c(3), p(3))).toBe(false)
    expect(verifyChunk(tree.root, size, 4, c(3), p(3))).toBe(false)
    expect(verifyChunk(tree.root, size, -1, c(0), p(0))).toBe(false)
    expect(verifyChunk(tree.root, 0, 0, c(0), p(0))).toBe(false)
    expect(verifyChunk('0x12', size, 0, c(0), p(0))).toBe(false)
    expect(verifyChunk('0xnot hex', size, 0, c(0), p(0))).toBe(false)
  })

  it('refuses truncated, extended, reordered and malformed proofs', () => {
    const bytes = pattern(4 * MiB)
    const tree = fileTree(bytes)
    const chunk = bytes.subarray(MiB, 2 * MiB)
    const proof = treeProof(tree, 1)
    expect(proof.length).toBe(2)
    expect(verifyChunk(tree.root, bytes.length, 1, chunk, proof)).toBe(true)
    expect(verifyChunk(tree.root, bytes.length, 1, chunk, proof.slice(0, 1))).toBe(false)
    expect(verifyChunk(tree.root, bytes.length, 1, chunk, [])).toBe(false)
    expect(verifyChunk(tree.root, bytes.length, 1, chunk, [...proof, proof[0]!])).toBe(false)
    expect(verifyChunk(tree.root, bytes.length, 1, chunk, [proof[1]!, proof[0]!])).toBe(false)
    expect(verifyChunk(tree.root, bytes.length, 1, chunk, [proof[0]!.subarray(1), proof[1]!])).toBe(
      false,
    )
  })

  it('matches the golden roots (computed once: any change to the hashing fails here)', () => {
    expect(fileRoot(Uint8Array.of(0x76, 0x65, 0x72, 0x69, 0x74, 0x79))).toBe(
      '0xbf40d74be748dc57755a0c005cc2f5d49497f16ebfdf7f1a06ba9113ebcc918e',
    )
    expect(fileRoot(pattern(3 * MiB + 5, 9))).toBe(
      '0x06ecc438a204daa22bd2ba60555c870b75139f496d458ecbed80b9629bc41f40',
    )
  })
})
