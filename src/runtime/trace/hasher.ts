import { sha256 } from '@noble/hashes/sha2.js'
import type { Model } from '../model/load.ts'
import { merkleRoot, nextPow2 } from './merkle.ts'
import { opIdBytes, type TraceSink } from './ops.ts'

const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1

/**
 * Commits to a vector of int32: its bytes (little-endian two's complement) split into 32-byte
 * chunks, the last zero-padded, as the leaves of a Merkle tree (docs/DETERMINISM.md, "trace").
 * Computed in the kernel arena at `ptr` (nextPow2(chunks) * 32 bytes); the root is left at `ptr`.
 */
export function vecRootInArena(
  model: Model,
  vec: Int32Array,
  off: number,
  len: number,
  ptr: number,
): void {
  const kernel = model.kernel
  const chunks = Math.max(1, Math.ceil(len / 8))
  const width = nextPow2(chunks)
  if (width * 32 > model.scratch.hashBytes)
    throw new RangeError(`vector of ${len} elements exceeds the hash scratch`)
  if (!LITTLE_ENDIAN) throw new Error('the trace hasher needs a little-endian platform')
  kernel.i32.set(vec.subarray(off, off + len), ptr >> 2)
  kernel.u8.fill(0, ptr + len * 4, ptr + width * 32)
  for (let n = width; n > 1; n /= 2) kernel.sha256Pairs(ptr, n / 2, ptr)
}

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

/**
 * A TraceSink that computes every leaf of the trace: vecRoots in the arena, leaves hashed in
 * batches of slots. `leaves` grows as the trace does; `root()` is the traceRoot.
 */
export class TraceHasher implements TraceSink {
  private readonly model: Model
  private buffer: Uint8Array = new Uint8Array(32 * 1024)
  count = 0
  private pending = 0

  constructor(model: Model) {
    this.model = model
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
    vecRootInArena(this.model, vec, off, len, scratch.hash)
    const slot = scratch.slots + this.pending * 64
    opIdBytes(pos, layer, kind, len, kernel.u8, slot)
    kernel.u8.copyWithin(slot + 32, scratch.hash, scratch.hash + 32)
    this.pending++
    if (this.pending === scratch.slotCount) this.flush()
  }

  /** Hashes the pending slots into leaves. */
  flush(): void {
    if (this.pending === 0) return
    const { kernel, scratch } = this.model
    kernel.sha256Pairs(scratch.slots, this.pending, scratch.slots)
    const need = (this.count + this.pending) * 32
    if (need > this.buffer.length) {
      const grown = new Uint8Array(Math.max(need, this.buffer.length * 2))
      grown.set(this.buffer.subarray(0, this.count * 32))
      this.buffer = grown
    }
    this.buffer.set(
      kernel.u8.subarray(scratch.slots, scratch.slots + this.pending * 32),
      this.count * 32,
    )
    this.count += this.pending
    this.pending = 0
  }

  /** All leaves so far (32 bytes each). */
  leaves(): Uint8Array {
    this.flush()
    return this.buffer.subarray(0, this.count * 32)
  }

  root(): Uint8Array {
    const leaves = this.leaves()
    return merkleRoot(leaves, this.count)
  }
}
