import { sha256 } from '@noble/hashes/sha2.js'
import { TraceError } from '../../errors/runtime.ts'
import type { ModelConfig } from '../model/config.ts'
import { traceLeaf, vecRoot } from './hasher.ts'
import { bytesEqual, proofLength, rootFromProof } from './merkle.ts'
import { type OpId, opIdBytes, positionTag } from './ops.ts'
import {
  boundaryCount,
  boundaryOpAt,
  boundaryToPositionIndex,
  positionCount,
  positionOpAt,
  positionOpCount,
  type TraceShape,
} from './schedule.ts'

/**
 * The checks of the dispute game, as pure functions over public data (the receipt's traceRoot and
 * leaf count, the request, the model's config and modelRoot, what the parties post). The Solidity
 * verifier mirrors them; each throws a TraceError naming the first check that fails, and the party
 * that posted the failing data loses.
 *
 * The commitment (docs/DETERMINISM.md, "Trace"): traceRoot over checkpoints c_p =
 * sha256(positionTag(p, n) || boundaryRoot_p), boundaryRoot_p over the n boundary leaves of p
 * (k_rope and v of each layer, then sample where p samples), a leaf = sha256(opId || vecRoot). On
 * demand, R_p: the root over every op leaf of p in execution order.
 */

/** What a receipt fixes: the model's config, the trace's shape and its root. */
export type TraceContext = { config: ModelConfig; shape: TraceShape; traceRoot: Uint8Array }

/** Checkpoint c_pos under traceRoot, with its preimage. */
export type CheckpointOpening = {
  pos: number
  /** The boundary leaves under it: 2 per layer, plus one where the position samples. */
  boundaryCount: number
  boundaryRoot: Uint8Array
  /** Siblings from c_pos up to traceRoot. */
  proof: Uint8Array[]
}

/** Boundary leaf `index` of position `pos`, under its checkpoint, under traceRoot. */
export type BoundaryOpening = {
  pos: number
  index: number
  opId: Uint8Array
  vecRoot: Uint8Array
  /** Siblings from the leaf up to boundaryRoot_pos. */
  proof: Uint8Array[]
  checkpoint: CheckpointOpening
}

/** Op leaf `index` of position `pos`'s trace, under R_pos. */
export type PositionLeafOpening = {
  pos: number
  index: number
  opId: Uint8Array
  vecRoot: Uint8Array
  /** Siblings from the leaf up to R_pos. */
  proof: Uint8Array[]
}

/** One element of an op output, under the output's vecRoot. */
export type ElementOpening = {
  element: number
  value: number
  /** The 32-byte chunk holding the element (8 little-endian int32). */
  chunk: Uint8Array
  /** Siblings from the chunk up to the vecRoot. */
  proof: Uint8Array[]
  vecRoot: Uint8Array
}

const opIdOf = (o: OpId) => opIdBytes(o.pos, o.layer, o.kind, o.length)

/** The op schedule check: `opId` is the op the schedule puts at index `index` of R_pos. */
export function verifyScheduledOpId(
  config: ModelConfig,
  shape: TraceShape,
  pos: number,
  index: number,
  opId: Uint8Array,
): true {
  if (!bytesEqual(opId, opIdOf(positionOpAt(config, shape, pos, index))))
    throw new TraceError(`the op id is not the one scheduled at op ${index} of position ${pos}`)
  return true
}

/** c_pos from its preimage. */
export function checkpointHash(pos: number, boundaryLeaves: number, root: Uint8Array): Uint8Array {
  const buf = new Uint8Array(64)
  positionTag(pos, boundaryLeaves, buf, 0)
  buf.set(root, 32)
  return sha256(buf)
}

export function verifyCheckpointOpening(ctx: TraceContext, o: CheckpointOpening): true {
  const count = positionCount(ctx.shape)
  if (!Number.isSafeInteger(o.pos) || o.pos < 0 || o.pos >= count)
    throw new TraceError(`position ${o.pos} is outside the trace (${count} positions)`)
  if (o.boundaryCount !== boundaryCount(ctx.config, ctx.shape, o.pos))
    throw new TraceError('the boundary leaf count is not the scheduled one')
  if (o.proof.length !== proofLength(count))
    throw new TraceError('the checkpoint proof has the wrong length')
  const c = checkpointHash(o.pos, o.boundaryCount, o.boundaryRoot)
  if (!bytesEqual(rootFromProof(c, o.pos, o.proof), ctx.traceRoot))
    throw new TraceError('the checkpoint proof does not lead to the traceRoot')
  return true
}

export function verifyBoundaryOpening(ctx: TraceContext, o: BoundaryOpening): true {
  if (o.checkpoint.pos !== o.pos) throw new TraceError('the checkpoint is of another position')
  if (!bytesEqual(o.opId, opIdOf(boundaryOpAt(ctx.config, ctx.shape, o.pos, o.index))))
    throw new TraceError(`the op id is not the one of boundary leaf ${o.index}`)
  if (o.proof.length !== proofLength(o.checkpoint.boundaryCount))
    throw new TraceError('the boundary proof has the wrong length')
  const leaf = traceLeaf(o.opId, o.vecRoot)
  if (!bytesEqual(rootFromProof(leaf, o.index, o.proof), o.checkpoint.boundaryRoot))
    throw new TraceError('the boundary proof does not lead to the boundaryRoot')
  return verifyCheckpointOpening(ctx, o.checkpoint)
}

/** An op leaf under R_pos (the root a party posted for position pos), its op id as scheduled. */
export function verifyPositionLeafOpening(
  config: ModelConfig,
  shape: TraceShape,
  positionRoot: Uint8Array,
  o: PositionLeafOpening,
): true {
  verifyScheduledOpId(config, shape, o.pos, o.index, o.opId)
  if (o.proof.length !== proofLength(positionOpCount(config, shape, o.pos)))
    throw new TraceError('the position leaf proof has the wrong length')
  if (!bytesEqual(rootFromProof(traceLeaf(o.opId, o.vecRoot), o.index, o.proof), positionRoot))
    throw new TraceError('the position leaf proof does not lead to R_p')
  return true
}

/** An element of an op output of `length` elements under the opening's vecRoot. */
export function verifyElementOpening(length: number, o: ElementOpening): true {
  if (!Number.isSafeInteger(o.element) || o.element < 0 || o.element >= length)
    throw new TraceError(`element ${o.element} is outside the op (${length} elements)`)
  if (o.chunk.length !== 32) throw new TraceError('a chunk is 32 bytes')
  const view = new DataView(o.chunk.buffer, o.chunk.byteOffset, 32)
  if (view.getInt32((o.element % 8) * 4, true) !== o.value)
    throw new TraceError('the value is not the one in the opened chunk')
  if (o.proof.length !== proofLength(Math.max(1, Math.ceil(length / 8))))
    throw new TraceError('the element proof has the wrong length')
  if (!bytesEqual(rootFromProof(o.chunk, Math.floor(o.element / 8), o.proof), o.vecRoot))
    throw new TraceError('the element proof does not lead to the vecRoot')
  return true
}

/**
 * The binding move: a party's R_p and its checkpoint c_p must hold the same boundary ops. Boundary
 * leaf j (under c_p) and op leaf boundaryToPositionIndex(j) (under R_p) must be equal; a miner
 * whose c_p does not match the R_p it posts cannot open both.
 */
export function verifyBinding(
  ctx: TraceContext,
  positionRoot: Uint8Array,
  boundary: BoundaryOpening,
  leaf: PositionLeafOpening,
): true {
  if (leaf.pos !== boundary.pos) throw new TraceError('the openings are of different positions')
  if (leaf.index !== boundaryToPositionIndex(ctx.config, boundary.index))
    throw new TraceError(`op ${leaf.index} is not the one bound to boundary leaf ${boundary.index}`)
  verifyBoundaryOpening(ctx, boundary)
  verifyPositionLeafOpening(ctx.config, ctx.shape, positionRoot, leaf)
  if (!bytesEqual(boundary.vecRoot, leaf.vecRoot))
    throw new TraceError('the checkpoint and R_p hold different outputs for a boundary op')
  return true
}

/** A whole op output with its proof, as the one-step check takes its inputs. */
export type VectorInput = {
  vector: Int32Array
  /** Under R_p for an op of the disputed position, else under boundaryRoot_s. */
  proof: Uint8Array[]
  /** The checkpoint of position s, for a boundary op of an earlier position. */
  checkpoint?: CheckpointOpening
}

/** An input vector of the disputed position's trace: op `index` of R_pos. */
export function verifyPositionVector(
  config: ModelConfig,
  shape: TraceShape,
  positionRoot: Uint8Array,
  pos: number,
  index: number,
  input: VectorInput,
): true {
  const op = positionOpAt(config, shape, pos, index)
  if (input.vector.length !== op.length)
    throw new TraceError(`op ${index} of position ${pos} has ${op.length} elements`)
  return verifyPositionLeafOpening(config, shape, positionRoot, {
    pos,
    index,
    opId: opIdOf(op),
    vecRoot: vecRoot(input.vector),
    proof: input.proof,
  })
}

/** An input vector of an earlier position: boundary leaf `index` of position `pos`. */
export function verifyBoundaryVector(
  ctx: TraceContext,
  pos: number,
  index: number,
  input: VectorInput,
): true {
  const op = boundaryOpAt(ctx.config, ctx.shape, pos, index)
  if (input.vector.length !== op.length)
    throw new TraceError(`boundary leaf ${index} of position ${pos} has ${op.length} elements`)
  if (!input.checkpoint) throw new TraceError('a boundary input needs its checkpoint')
  return verifyBoundaryOpening(ctx, {
    pos,
    index,
    opId: opIdOf(op),
    vecRoot: vecRoot(input.vector),
    proof: input.proof,
    checkpoint: input.checkpoint,
  })
}

/**
 * A modelRoot leaf: a weight row, one chunk of a norm vector, or the config (leaf 0), with its
 * proof.
 */
export type WeightOpening = {
  leafIndex: number
  leafCount: number
  /**
   * For a weight row, what the leaf hashes: the int8 row then int32le m and e (and the bias);
   * leaf 0: the config bytes and the tokenizer digest. For a norm, one 32-byte chunk of its Q16
   * int32le values (`chunk` says which): the norm's leaf is the vecRoot of those values.
   */
  data: Uint8Array
  /** A norm's chunk: its index, the norm's chunk count, and the siblings up to its vecRoot. */
  chunk?: NormChunk
  /** Siblings from the leaf up to modelRoot. */
  proof: Uint8Array[]
}

/** Where a norm opening's chunk sits in the norm's chunk tree (the tree of its vecRoot). */
export type NormChunk = { index: number; count: number; proof: Uint8Array[] }

/** The modelRoot leaf an opening stands for: sha256(data), or a norm chunk's vecRoot. */
export function weightOpeningLeaf(o: WeightOpening): Uint8Array {
  if (!o.chunk) return sha256(o.data)
  const { index, count, proof } = o.chunk
  if (o.data.length !== 32) throw new TraceError('a norm chunk is 32 bytes')
  if (!Number.isSafeInteger(index) || index < 0 || index >= count)
    throw new TraceError(`chunk ${index} is outside the norm (${count} chunks)`)
  if (proof.length !== proofLength(count))
    throw new TraceError('the norm chunk proof has the wrong length')
  return rootFromProof(o.data, index, proof)
}

export function verifyWeightOpening(modelRoot: Uint8Array, o: WeightOpening): true {
  if (o.proof.length !== proofLength(o.leafCount) || o.leafIndex >= o.leafCount || o.leafIndex < 0)
    throw new TraceError('the weight proof has the wrong length')
  if (!bytesEqual(rootFromProof(weightOpeningLeaf(o), o.leafIndex, o.proof), modelRoot))
    throw new TraceError('the weight proof does not lead to the modelRoot')
  return true
}
