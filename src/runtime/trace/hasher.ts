import { sha256 } from '@noble/hashes/sha2.js'
import type { Model } from '../model/load.ts'
import { merkleRoot, merkleRootInArena, nextPow2 } from './merkle.ts'
import { kindMask, NO_LAYER, OpKind, opIdBytes, positionTag, type TraceSink } from './ops.ts'
import { positionOpIndex } from './schedule.ts'

const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1

/**
 * Trace commitments (docs/DETERMINISM.md, "Trace"): an op output of int32 is split into 32-byte
 * chunks (little-endian two's complement, the last chunk zero-padded); its vecRoot is the Merkle
 * root over the chunks, padded to a power of two with zero chunks; its leaf is
 * sha256(opId || vecRoot). While answering, only the boundary ops (k_rope, v, sample) are hashed,
 * into one checkpoint per position (CheckpointHasher); the leaves of every op of a position (its
 * trace R_p) are computed on demand by re-running the request (PositionTraceHasher).
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

/** One staged message waiting to be hashed: `count` nodes at node index `at` of the stage. */
type Segment = { at: number; count: number; height: number; slot: number }

/**
 * Computes leaves sha256(prefix || merkleRoot(chunks)) of staged messages in the kernel arena, many
 * at a time, one tree level of all of them per kernel call: the SIMD hash works on four messages at
 * once, and most levels of one small vector have fewer than four nodes. Only nodes above real
 * chunks are hashed; an odd last node is paired with the zero subtree of its height. Each message
 * names the index (`target`) its leaf takes in `leaves`, so messages may come in any order.
 *
 * The stages belong to the model, shared by every request running on it: a stager that finds
 * another's unhashed data there has it hash them first (`scratch.stageOwner`).
 */
export class LeafStager {
  private readonly model: Model
  /** Leaf `target` at bytes [32 target, 32 target + 32). */
  leaves: Uint8Array = new Uint8Array(32 * 64)
  private pending = 0
  private staged = 0 // bytes used in stage A
  private segments: Segment[] = []
  private targets: number[] = []

  constructor(model: Model) {
    this.model = model
    if (!LITTLE_ENDIAN) throw new Error('the trace hasher needs a little-endian platform')
  }

  /** Stages an int32 vector slice under the op id (pos, layer, kind, len). */
  stageVector(
    pos: number,
    layer: number,
    kind: number,
    vec: Int32Array,
    off: number,
    len: number,
    target: number,
  ): void {
    const { kernel, scratch } = this.model
    const chunks = Math.max(1, Math.ceil(len / 8))
    const at = this.reserve(chunks, target)
    kernel.i32.set(vec.subarray(off, off + len), at >> 2)
    kernel.u8.fill(0, at + len * 4, at + chunks * 32)
    opIdBytes(pos, layer, kind, len, kernel.u8, scratch.slots + (this.pending - 1) * 64)
  }

  /** Stages whole 32-byte chunks under a 32-byte prefix. */
  stageChunks(chunks: Uint8Array, prefix: Uint8Array, target: number): void {
    const { kernel, scratch } = this.model
    const at = this.reserve(Math.max(1, chunks.length / 32), target)
    kernel.u8.set(chunks, at)
    if (chunks.length === 0) kernel.u8.fill(0, at, at + 32)
    kernel.u8.set(prefix, scratch.slots + (this.pending - 1) * 64)
  }

  /** Room for `chunks` chunks and a slot; returns the chunks' arena address. */
  private reserve(chunks: number, target: number): number {
    const { scratch } = this.model
    // Another stager's unhashed data are hashed before ours go in.
    if (scratch.stageOwner !== this) scratch.stageOwner?.flush()
    if (this.staged + chunks * 32 + 32 > scratch.hashBytes || this.pending === scratch.slotCount)
      this.flush()
    if (chunks * 32 + 32 > scratch.hashBytes)
      throw new RangeError(`a message of ${chunks} chunks exceeds the hash scratch`)
    // Claimed after any flush (which gives the stage up): we are about to stage data in it, and
    // another stager must hash them before it overwrites the stage.
    scratch.stageOwner = this
    const at = scratch.hash + this.staged
    this.segments.push({ at: this.staged >> 5, count: chunks, height: 0, slot: this.pending })
    this.targets.push(target)
    this.staged += chunks * 32
    this.pending++
    return at
  }

  /** Hashes everything staged: chunk trees level by level, then the leaves. */
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
    let top = 0
    for (const t of this.targets) if (t > top) top = t
    if ((top + 1) * 32 > this.leaves.length) {
      const grown = new Uint8Array(Math.max((top + 1) * 32, this.leaves.length * 2))
      grown.set(this.leaves)
      this.leaves = grown
    }
    for (let k = 0; k < this.pending; k++) {
      const from = scratch.slots + k * 32
      this.leaves.set(u8.subarray(from, from + 32), this.targets[k]! * 32)
    }
    this.pending = 0
    this.staged = 0
    this.segments = []
    this.targets = []
    if (scratch.stageOwner === this) scratch.stageOwner = undefined
  }
}

/** The root of `count` leaves: in the arena with the batched hash when they fit a stage. */
function rootOf(model: Model, leaves: Uint8Array, count: number): Uint8Array {
  const { kernel, scratch } = model
  // The stage may hold another stager's unhashed data: they are hashed first.
  scratch.stageOwner?.flush()
  if (nextPow2(count) * 32 <= scratch.hashBytes)
    return merkleRootInArena(kernel, scratch.hash, leaves, count)
  return merkleRoot(leaves, count)
}

/**
 * Level 1, what a miner computes while answering: the boundary leaves of each position (k_rope and
 * v of every layer, then sample where the position samples), their root boundaryRoot_p, the
 * checkpoint c_p = sha256(positionTag(p, count) || boundaryRoot_p), and traceRoot over c_0..c_{P-1}.
 * Only the boundary ops reach it (`kinds`); it places each by its op id, so a block's outputs need
 * no reordering (`anyOrder`).
 */
export class CheckpointHasher implements TraceSink {
  readonly kinds = kindMask(OpKind.K_ROPE, OpKind.V, OpKind.SAMPLE)
  readonly anyOrder = true
  private readonly model: Model
  private readonly stager: LeafStager
  /** Boundary leaves reserved per position: 2 per layer and one for sample. */
  private readonly stride: number
  private sampled: Uint8Array = new Uint8Array(64)
  /** Positions seen: the number of checkpoints. */
  count = 0

  constructor(model: Model) {
    this.model = model
    this.stager = new LeafStager(model)
    this.stride = 2 * model.config.nLayers + 1
  }

  record(
    pos: number,
    layer: number,
    kind: number,
    vec: Int32Array,
    off: number,
    len: number,
  ): void {
    let j: number
    if (kind === OpKind.SAMPLE) {
      j = this.stride - 1
      if (pos >= this.sampled.length) {
        const grown = new Uint8Array(Math.max(pos + 1, this.sampled.length * 2))
        grown.set(this.sampled)
        this.sampled = grown
      }
      this.sampled[pos] = 1
    } else if (kind === OpKind.K_ROPE || kind === OpKind.V) {
      j = 2 * layer + (kind === OpKind.V ? 1 : 0)
    } else {
      return
    }
    this.stager.stageVector(pos, layer, kind, vec, off, len, pos * this.stride + j)
    if (pos >= this.count) this.count = pos + 1
  }

  /** Boundary leaves of position p in order (32 bytes each). */
  boundaryLeaves(pos: number): Uint8Array {
    this.stager.flush()
    const n = this.boundaryCount(pos)
    return this.stager.leaves.slice(pos * this.stride * 32, (pos * this.stride + n) * 32)
  }

  boundaryCount(pos: number): number {
    if (pos < 0 || pos >= this.count) throw new RangeError(`position ${pos} was not run`)
    return this.stride - 1 + (this.sampled[pos] ?? 0)
  }

  /** c_0 .. c_{P-1}, 32 bytes each. */
  checkpoints(): Uint8Array {
    this.stager.flush()
    const leaves = this.stager.leaves
    const out = new LeafStager(this.model)
    const tag = new Uint8Array(32)
    for (let p = 0; p < this.count; p++) {
      const n = this.boundaryCount(p)
      const from = p * this.stride * 32
      out.stageChunks(leaves.subarray(from, from + n * 32), positionTag(p, n, tag), p)
    }
    out.flush()
    return out.leaves.slice(0, this.count * 32)
  }

  /** The traceRoot. */
  root(): Uint8Array {
    return rootOf(this.model, this.checkpoints(), this.count)
  }
}

/**
 * Level 2, on demand: the leaves of every op of chosen positions, each at its index in R_p (the
 * position's trace), and R_p itself. Placed by op id, so any order of arrival does.
 */
export class PositionTraceHasher implements TraceSink {
  readonly anyOrder = true
  private readonly model: Model
  private readonly stager: LeafStager
  private readonly wants: (pos: number) => boolean
  private readonly stride: number
  private readonly slots = new Map<number, { base: number; count: number }>()

  constructor(model: Model, positions: (pos: number) => boolean) {
    this.model = model
    this.stager = new LeafStager(model)
    this.wants = positions
    this.stride = positionOpIndex(model.config, NO_LAYER, OpKind.SAMPLE) + 1
  }

  record(
    pos: number,
    layer: number,
    kind: number,
    vec: Int32Array,
    off: number,
    len: number,
  ): void {
    if (!this.wants(pos)) return
    let slot = this.slots.get(pos)
    if (!slot) {
      slot = { base: this.slots.size * this.stride, count: 0 }
      this.slots.set(pos, slot)
    }
    const index = positionOpIndex(this.model.config, layer, kind)
    if (index >= slot.count) slot.count = index + 1
    this.stager.stageVector(pos, layer, kind, vec, off, len, slot.base + index)
  }

  /** The positions recorded, in the order first seen. */
  positions(): number[] {
    return [...this.slots.keys()]
  }

  /** R_p's leaves in order (32 bytes each). */
  leaves(pos: number): Uint8Array {
    const slot = this.slots.get(pos)
    if (!slot) throw new RangeError(`position ${pos} was not recorded`)
    this.stager.flush()
    return this.stager.leaves.slice(slot.base * 32, (slot.base + slot.count) * 32)
  }

  /** R_p. */
  root(pos: number): Uint8Array {
    const leaves = this.leaves(pos)
    return rootOf(this.model, leaves, leaves.length / 32)
  }
}
