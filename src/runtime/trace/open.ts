import { sha256 } from '@noble/hashes/sha2.js'
import { TraceError } from '../../errors/runtime.ts'
import type { Model } from '../model/load.ts'
import type { ElementOpening, WeightOpening } from './checks.ts'
import { vecChunks } from './hasher.ts'
import { matrixOf } from './inputs.ts'
import { bytesEqual, MerkleTree } from './merkle.ts'
import { type WeightRef, weightLeafIndex } from './schedule.ts'

/**
 * Openings of single elements and of modelRoot leaves. The dispute game's other openings come
 * from a re-run of the request (replay.ts).
 */

/** Element `element` of a vector, under its vecRoot. */
export function openElement(vector: Int32Array, element: number): ElementOpening {
  if (!Number.isSafeInteger(element) || element < 0 || element >= vector.length)
    throw new TraceError(`element ${element} is outside the vector (${vector.length} elements)`)
  const chunks = vecChunks(vector)
  const tree = new MerkleTree(chunks, chunks.length / 32)
  const c = Math.floor(element / 8)
  return {
    element,
    value: vector[element]!,
    chunk: chunks.slice(32 * c, 32 * c + 32),
    proof: tree.proof(c),
    vecRoot: tree.root,
  }
}

const weightTrees = new WeakMap<Model, MerkleTree>()

/** The modelRoot tree, built once per model for many proofs. */
function weightTree(model: Model): MerkleTree {
  let tree = weightTrees.get(model)
  if (!tree) {
    tree = new MerkleTree(model.weightLeaves, model.weightLeafCount)
    weightTrees.set(model, tree)
  }
  return tree
}

/**
 * Opens leaf `leafIndex` of the modelRoot tree. `data` is what the leaf hashes: for a weight row,
 * the int8 row then int32le m and e; leaf 0: the config bytes followed by the tokenizer digest
 * (`Model.tokenizerDigest`). A norm's leaf is a vecRoot: `openNormChunk`.
 */
export function openWeightLeaf(model: Model, leafIndex: number, data: Uint8Array): WeightOpening {
  if (!bytesEqual(sha256(data), model.weightLeaves.subarray(32 * leafIndex, 32 * leafIndex + 32)))
    throw new TraceError(`the data given does not hash to weight leaf ${leafIndex}`)
  return {
    leafIndex,
    leafCount: model.weightLeafCount,
    data,
    proof: weightTree(model).proof(leafIndex),
  }
}

/**
 * Opens the chunk of norm `g` (modelRoot leaf `leafIndex`) that holds element `element`: the
 * norm's leaf is the vecRoot of its Q16 values, so g_j is proven by its chunk, the chunk's proof
 * to that vecRoot and the leaf's proof to modelRoot.
 */
export function openNormChunk(
  model: Model,
  leafIndex: number,
  g: Int32Array,
  element: number,
): WeightOpening {
  const { chunk, proof, vecRoot } = openElement(g, element)
  if (!bytesEqual(vecRoot, model.weightLeaves.subarray(32 * leafIndex, 32 * leafIndex + 32)))
    throw new TraceError(`the norm given is not weight leaf ${leafIndex}`)
  return {
    leafIndex,
    leafCount: model.weightLeafCount,
    data: chunk,
    chunk: { index: Math.floor(element / 8), count: Math.max(1, Math.ceil(g.length / 8)), proof },
    proof: weightTree(model).proof(leafIndex),
  }
}

/** The bytes of weight row r of a matrix, as its leaf hashes them. */
export function weightRowBytes(
  model: Model,
  w: { ptr: number; cols: number; scaleM: Int32Array; scaleE: Int32Array; bias?: Int32Array },
  r: number,
): Uint8Array {
  const out = new Uint8Array(w.cols + (w.bias ? 12 : 8))
  out.set(model.kernel.u8.subarray(w.ptr + r * w.cols, w.ptr + (r + 1) * w.cols))
  const view = new DataView(out.buffer)
  view.setInt32(w.cols, w.scaleM[r]!, true)
  view.setInt32(w.cols + 4, w.scaleE[r]!, true)
  if (w.bias) view.setInt32(w.cols + 8, w.bias[r]!, true)
  return out
}

/**
 * A weight named by reference, opened under modelRoot: a row whole, a norm as the chunk that
 * holds element `element` (the element the one step recomputes).
 */
export function openWeight(model: Model, ref: WeightRef, element?: number): WeightOpening {
  const leaf = weightLeafIndex(model.config, ref)
  const layer = (l: number) => model.layers[l]!
  const norm = (g: Int32Array) => {
    if (element === undefined) throw new TraceError(`${ref.tensor} is opened at an element`)
    return openNormChunk(model, leaf, g, element)
  }
  switch (ref.tensor) {
    case 'attn_norm':
      return norm(layer(ref.layer).attnNorm)
    case 'ffn_norm':
      return norm(layer(ref.layer).ffnNorm)
    case 'output_norm':
      return norm(model.outputNorm)
    default:
      return openWeightLeaf(model, leaf, weightRowBytes(model, matrixOf(model, ref), ref.row))
  }
}
