import { sha256 } from '@noble/hashes/sha2.js'
import type { Model } from '../model/load.ts'
import { merkleRoot, merkleRootInArena, nextPow2 } from './merkle.ts'
import { opIdBytes, type TraceSink } from './ops.ts'

const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1

/**
 * Trace commitments (docs/DETERMINISM.md, "trace"): an op output of int32 is split into 32-byte
 * chunks (little-endian two's complement, the last chunk zero-padded); its vecRoot is the Merkle
 * root over the chunks, padded to a power of two with zero chunks; its leaf is
 * sha256(opId || vecRoot).
 */

/** ZERO_SUBTREES[h]: the root of a subtree of height h whose leaves are all zero chunks. */
export const ZERO_SUBTREES: Uint8Array[] = (() => {
  const out = [new Uint8Array(32)]
  for (let h = 1; h < 40; h++) {
    const pair = new Uint8Array(64)
    pair.set(out[h - 1]!, 0)
    pair.set(out[h - 1]!, 32)
    out.push(sha256(pair))
  }
  return out
})()

/** vecRoot of a vector, outside the arena (slow path, for openings and tests). */
export function vecRoot(vec: Int32Array): Uint8Array {
  const bytes = vecChunks(vec)
  return merkleRoot(bytes, bytes.length / 32)
}

/** The chunk bytes of a vector: little-endian int32, zero-padded to a multiple of 32 bytes. */
export function vecChunks(vec: Int32Array): Uint8Array {
  const chunks = Math.max(1, Math.ceil(vec.length / 8))
  const out = new Uint8Array(chunks * 32)
  const view = new DataView(out.buffer)
  for (let i = 0; i < vec.length; i++) view.setInt32(4 * i, vec[i]!, true)
  return out
}

/** leaf = sha256(opId || vecRoot). */
export function traceLeaf(opId: Uint8Array, root: Uint8Array): Uint8Array {
  const buf = new Uint8Array(64)
  buf.set(opId, 0)
  buf.set(root, 32)
  return sha256(buf)
}

/** One op output waiting to be hashed: `count` nodes at node index `at` of the stage. */
type Segment = { at: number; count: number; height: number; slot: number }

/**
 * A TraceSink that computes every leaf of the trace. Op outputs are staged in the kernel arena
 * and hashed together, one tree level of all staged outputs per kernel call: the SIMD hash works
 * on four messages at once, and most levels of one small vector have fewer than four nodes.
 * Only nodes above real chunks are hashed; an odd last node is paired with the zero subtree of
 * its height. `root()` is the traceRoot.
 */
export class TraceHasher implements TraceSink {
  private readonly model: Model
  private buffer: Uint8Array = new Uint8Array(32 * 1024)
  count = 0
  private pending = 0
  private staged = 0 // bytes used in stage A
  private segments: Segment[] = []

  constructor(model: Model) {
    this.model = model
    if (!LITTLE_ENDIAN) throw new Error('the trace hasher needs a little-endian platform')
  }

  record(
    pos: number,
    layer: number,
    kind: number,
    vec: Int32Array,
    off: number,
    len: number,
  ): void {
    const { kernel, scratch } = this.model
    // The stages belong to the model: another hasher's unhashed data are hashed before ours.
    if (scratch.stageOwner !== this) scratch.stageOwner?.flush()
    const chunks = Math.max(1, Math.ceil(len / 8))
    if (this.staged + chunks * 32 + 32 > scratch.hashBytes || this.pending === scratch.slotCount)
      this.flush()
    if (chunks * 32 + 32 > scratch.hashBytes)
      throw new RangeError(`vector of ${len} elements exceeds the hash scratch`)
    // Claimed after any flush (which gives the stage up): we are about to stage data in it, and
    // another hasher must hash them before it overwrites the stage.
    scratch.stageOwner = this
    const at = scratch.hash + this.staged
    kernel.i32.set(vec.subarray(off, off + len), at >> 2)
    kernel.u8.fill(0, at + len * 4, at + chunks * 32)
    this.segments.push({ at: this.staged >> 5, count: chunks, height: 0, slot: this.pending })
    opIdBytes(pos, layer, kind, len, kernel.u8, scratch.slots + this.pending * 64)
    this.staged += chunks * 32
    this.pending++
  }

  /** Hashes everything staged: element trees level by level, then the leaves. */
  flush(): void {
    if (this.pending === 0) return
    const { kernel, scratch } = this.model
    const u8 = kernel.u8
    const a = scratch.hash
    const b = scratch.hash2
    let active = this.segments
    while (active.length > 0) {
      // Gather every unfinished tree's current level into stage B as consecutive pairs.
      let cursor = 0 // nodes written to B
      const next: Segment[] = []
      for (const seg of active) {
        if (seg.count === 1) {
          const root = a + seg.at * 32
          u8.copyWithin(scratch.slots + seg.slot * 64 + 32, root, root + 32)
          continue
        }
        u8.copyWithin(b + cursor * 32, a + seg.at * 32, a + (seg.at + seg.count) * 32)
        let count = seg.count
        if (count & 1) u8.set(ZERO_SUBTREES[seg.height]!, b + (cursor + count++) * 32)
        next.push({ at: cursor >> 1, count: count >> 1, height: seg.height + 1, slot: seg.slot })
        cursor += count
      }
      if (cursor > 0) kernel.sha256Pairs(b, cursor >> 1, a)
      active = next
    }
    kernel.sha256Pairs(scratch.slots, this.pending, scratch.slots)
    const need = (this.count + this.pending) * 32
    if (need > this.buffer.length) {
      const grown = new Uint8Array(Math.max(need, this.buffer.length * 2))
      grown.set(this.buffer.subarray(0, this.count * 32))
      this.buffer = grown
    }
    this.buffer.set(u8.subarray(scratch.slots, scratch.slots + this.pending * 32), this.count * 32)
    this.count += this.pending
    this.pending = 0
    this.staged = 0
    this.segments = []
    if (scratch.stageOwner === this) scratch.stageOwner = undefined
  }

  /** All leaves so far (32 bytes each). */
  leaves(): Uint8Array {
    this.flush()
    return this.buffer.subarray(0, this.count * 32)
  }

  root(): Uint8Array {
    const leaves = this.leaves()
    const { kernel, scratch } = this.model
    // The kernel's batched hash when the padded tree fits a stage; the same root either way.
    // The stage may hold another hasher's unhashed data: they are hashed first.
    scratch.stageOwner?.flush()
    if (nextPow2(this.count) * 32 <= scratch.hashBytes)
      return merkleRootInArena(kernel, scratch.hash, leaves, this.count)
    return merkleRoot(leaves, this.count)
  }
}
