import { sha256 } from '@noble/hashes/sha2.js'
import { TraceError } from '../../errors/runtime.ts'
import { type GenerateRequest, generate } from '../generate.ts'
import type { Model } from '../model/load.ts'
import { TraceCapture } from './capture.ts'
import { TraceHasher, traceLeaf, vecChunks } from './hasher.ts'
import { bytesEqual, merkleProof, merkleRoot, nextPow2, rootFromProof } from './merkle.ts'
import { opIdBytes, parseOpId, type TraceSink } from './ops.ts'

/** One element of one trace entry, with the proofs that tie it to a traceRoot. */
export type TraceOpening = {
  leafIndex: number
  leafCount: number
  opId: Uint8Array
  element: number
  value: number
  /** The 32-byte chunk holding the element (8 little-endian int32). */
  chunk: Uint8Array
  /** Siblings from the chunk up to the entry's vecRoot. */
  elementProof: Uint8Array[]
  vecRoot: Uint8Array
  /** Siblings from the leaf up to the traceRoot. */
  leafProof: Uint8Array[]
  /** The entry's whole output vector (the game's one-step check takes whole input vectors). */
  vector: Int32Array
}

const log2 = (n: number) => {
  let k = 0
  while (1 << k < n) k++
  return k
}

/**
 * Re-runs the generation (deterministic, so a miner keeps only the request) and opens element
 * `element` of trace entry `leafIndex`.
 */
export function openTraceElement(
  model: Model,
  request: GenerateRequest,
  leafIndex: number,
  element: number,
): TraceOpening {
  // One run feeds both the hasher (every leaf, for the leaf proof) and the capture (the one
  // vector opened).
  const capture = new TraceCapture((i) => i === leafIndex)
  const hasher = new TraceHasher(model)
  generate(model, request, { trace: false, sink: both(hasher, capture) })
  const leaves = hasher.leaves()
  const leafCount = hasher.count
  if (!Number.isInteger(leafIndex) || leafIndex < 0 || leafIndex >= leafCount)
    throw new TraceError(`leaf ${leafIndex} is outside the trace (${leafCount} entries)`)
  const entry = capture.entries[0]!
  if (!Number.isInteger(element) || element < 0 || element >= entry.vec.length)
    throw new TraceError(
      `element ${element} is outside entry ${leafIndex} (${entry.vec.length} elements)`,
    )
  const chunks = vecChunks(entry.vec)
  const chunkCount = chunks.length / 32
  const chunkIndex = Math.floor(element / 8)
  return {
    leafIndex,
    leafCount,
    opId: opIdBytes(entry.pos, entry.layer, entry.kind, entry.vec.length),
    element,
    value: entry.vec[element]!,
    chunk: chunks.slice(chunkIndex * 32, chunkIndex * 32 + 32),
    elementProof: merkleProof(chunks, chunkCount, chunkIndex),
    vecRoot: merkleRoot(chunks, chunkCount),
    leafProof: merkleProof(leaves, leafCount, leafIndex),
    vector: entry.vec,
  }
}

/** All leaf hashes of a request's trace (32 bytes each). */
export function leafHashes(model: Model, request: GenerateRequest): Uint8Array {
  const hasher = new TraceHasher(model)
  generate(model, request, { trace: false, sink: hasher })
  return hasher.leaves().slice()
}

function both(a: TraceSink, b: TraceSink): TraceSink {
  return {
    record(pos, layer, kind, vec, off, len) {
      a.record(pos, layer, kind, vec, off, len)
      b.record(pos, layer, kind, vec, off, len)
    },
  }
}

/**
 * Checks an opening against a traceRoot: the value sits in the chunk, the chunk under the vecRoot
 * (proof length fixed by the op id's element count), the leaf under the root (fixed by leafCount).
 * Throws TraceError naming the first check that fails.
 */
export function verifyTraceOpening(traceRoot: Uint8Array, o: TraceOpening): true {
  const { length } = parseOpId(o.opId)
  if (o.element < 0 || o.element >= length)
    throw new TraceError(`element ${o.element} is outside the entry (${length} elements)`)
  const view = new DataView(o.chunk.buffer, o.chunk.byteOffset, 32)
  if (view.getInt32((o.element % 8) * 4, true) !== o.value)
    throw new TraceError('the value is not the one in the opened chunk')
  const chunkCount = Math.max(1, Math.ceil(length / 8))
  if (o.elementProof.length !== log2(nextPow2(chunkCount)))
    throw new TraceError('the element proof has the wrong length')
  if (!bytesEqual(rootFromProof(o.chunk, Math.floor(o.element / 8), o.elementProof), o.vecRoot))
    throw new TraceError('the element proof does not lead to the vecRoot')
  if (o.leafProof.length !== log2(nextPow2(o.leafCount)) || o.leafIndex >= o.leafCount)
    throw new TraceError('the leaf proof has the wrong length')
  if (!bytesEqual(rootFromProof(traceLeaf(o.opId, o.vecRoot), o.leafIndex, o.leafProof), traceRoot))
    throw new TraceError('the leaf proof does not lead to the traceRoot')
  return true
}

/** A weight row (or norm vector, or the config) with its proof against modelRoot. */
export type WeightOpening = {
  leafIndex: number
  leafCount: number
  data: Uint8Array
  proof: Uint8Array[]
}

/**
 * Opens leaf `leafIndex` of the modelRoot tree. `data` is what the leaf hashes: for a weight row,
 * the int8 row then int32le m and e; for a norm, its Q16 int32le values; leaf 0: the config bytes
 * followed by the tokenizer digest (`Model.tokenizerDigest`).
 */
export function openWeightLeaf(model: Model, leafIndex: number, data: Uint8Array): WeightOpening {
  if (!bytesEqual(sha256(data), model.weightLeaves.subarray(32 * leafIndex, 32 * leafIndex + 32)))
    throw new TraceError(`the data given does not hash to weight leaf ${leafIndex}`)
  return {
    leafIndex,
    leafCount: model.weightLeafCount,
    data,
    proof: merkleProof(model.weightLeaves, model.weightLeafCount, leafIndex),
  }
}

/** The bytes of weight row r of a matrix, as its leaf hashes them. */
export function weightRowBytes(
  model: Model,
  w: { ptr: number; cols: number; scaleM: Int32Array; scaleE: Int32Array },
  r: number,
): Uint8Array {
  const out = new Uint8Array(w.cols + 8)
  out.set(model.kernel.u8.subarray(w.ptr + r * w.cols, w.ptr + (r + 1) * w.cols))
  const view = new DataView(out.buffer)
  view.setInt32(w.cols, w.scaleM[r]!, true)
  view.setInt32(w.cols + 4, w.scaleE[r]!, true)
  return out
}

export function verifyWeightOpening(modelRoot: Uint8Array, o: WeightOpening): true {
  if (o.proof.length !== log2(nextPow2(o.leafCount)) || o.leafIndex >= o.leafCount)
    throw new TraceError('the weight proof has the wrong length')
  if (!bytesEqual(rootFromProof(sha256(o.data), o.leafIndex, o.proof), modelRoot))
    throw new TraceError('the weight proof does not lead to the modelRoot')
  return true
}
