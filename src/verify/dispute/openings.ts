import { type Hex, toHex } from 'viem'
import { maxAbsIndex, maxIndex, orderBytes, samplerOrder } from '../../chain/onestep.ts'
import { configBytes, type ModelConfig } from '../../runtime/model/config.ts'
import type { Model } from '../../runtime/model/load.ts'
import type { RequestContext } from '../../runtime/trace/inputs.ts'
import { openWeight, openWeightLeaf } from '../../runtime/trace/open.ts'
import { NO_LAYER, OpKind } from '../../runtime/trace/ops.ts'
import {
  boundaryIndexOf,
  opLength,
  positionOpAt,
  positionOpIndex,
  projectionWeight,
  type TraceShape,
  type WeightRef,
} from '../../runtime/trace/schedule.ts'
import { chunkRange, compactProof, hexes, type TreeNodes } from './proofs.ts'

/**
 * The openings a party brings to the dispute game's checks (contracts/src/dispute/StepLib.sol,
 * SumLib.sol), built from what it knows of the run: every op output of the disputed position,
 * the boundary ops of earlier positions, the model's weights, and the trees the contract checks
 * them under as the other party committed them (TraceData). The input lists per op kind mirror
 * StepLib's and src/runtime/trace/onestep.ts `oneStepVectors`.
 */

export type VectorOpeningArg = {
  chunks: Hex
  firstChunk: bigint
  rangeProof: Hex[]
  leafProof: Hex[]
  boundaryRoot: Hex
  checkpointProof: Hex[]
}
export type WeightOpeningArg = { data: Hex; proof: Hex[] }
export type StepProofArg = {
  lane: bigint
  vectors: VectorOpeningArg[]
  weights: WeightOpeningArg[]
  hint: bigint
  order: Hex
}
export type SumOpeningsArg = {
  vectors: VectorOpeningArg[]
  weights: WeightOpeningArg[]
  hint: bigint
}

/** What the openings of one dispute are built from. */
export interface TraceData {
  readonly model: Model
  readonly shape: TraceShape
  readonly request: RequestContext
  /** The disputed position. */
  readonly pos: number
  /** Op `index` of the disputed position's trace. */
  positionVector(index: number): Int32Array
  /** Boundary leaf j's vector of an earlier position s. */
  boundaryVector(s: number, j: number): Int32Array
  /** R_p as the miner committed it (with the nodes it revealed). */
  readonly positionTree: TreeNodes
  /** The checkpoint tree as the miner committed it (with the nodes it revealed). */
  readonly checkpointTree: TreeNodes
  /** Boundary leaf j of an earlier (agreed) position s: its boundaryRoot and compact proof. */
  boundaryProof(s: number, j: number): { root: Uint8Array; proof: Uint8Array[] }
}

const ZERO32: Hex = `0x${'00'.repeat(32)}`

/** Elements [from, from + count) of op (layer, kind) of position s <= pos, with their proofs. */
export function vectorOpening(
  data: TraceData,
  s: number,
  layer: number,
  kind: number,
  from: number,
  count: number,
): VectorOpeningArg {
  const { config } = data.model
  if (s === data.pos) {
    const index = positionOpIndex(config, layer, kind)
    const range = chunkRange(data.positionVector(index), from, count)
    return {
      ...range,
      firstChunk: BigInt(range.firstChunk),
      leafProof: hexes(compactProof(data.positionTree, index)),
      boundaryRoot: ZERO32,
      checkpointProof: [],
    }
  }
  const j = boundaryIndexOf(config, layer, kind)
  const boundary = data.boundaryProof(s, j)
  const range = chunkRange(data.boundaryVector(s, j), from, count)
  return {
    ...range,
    firstChunk: BigInt(range.firstChunk),
    leafProof: hexes(boundary.proof),
    boundaryRoot: toHex(boundary.root),
    checkpointProof: hexes(compactProof(data.checkpointTree, s)),
  }
}

/** A whole op output of position s. */
export function wholeOpening(
  data: TraceData,
  s: number,
  layer: number,
  kind: number,
): VectorOpeningArg {
  return vectorOpening(data, s, layer, kind, 0, opLength(data.model.config, s, kind))
}

/** Prompt token p under the prompt's root (the vecRoot of the tokens as int32). */
export function promptOpening(data: TraceData, p: number): VectorOpeningArg {
  const range = chunkRange(promptVector(data.request), p, 1)
  return {
    ...range,
    firstChunk: BigInt(range.firstChunk),
    leafProof: [],
    boundaryRoot: ZERO32,
    checkpointProof: [],
  }
}

const promptVectors = new WeakMap<readonly number[], Int32Array>()
function promptVector(request: RequestContext): Int32Array {
  let v = promptVectors.get(request.promptTokens)
  if (!v) {
    v = Int32Array.from(request.promptTokens)
    promptVectors.set(request.promptTokens, v)
  }
  return v
}

/**
 * The elements [ia, ib] a rope element reads (StepLib `rope`): its pair (2i, 2i + 1) (NORM) or
 * (i, i + ropeDim / 2) (NEOX) within its head; an element past ropeDim alone.
 */
export function ropePair(config: ModelConfig, element: number): [number, number] {
  const j = element % config.headDim
  if (j >= config.ropeDim) return [element, element]
  const half = config.ropeDim / 2
  if (config.ropeType === 'neox') {
    const ia = element - j + (j % half)
    return [ia, ia + half]
  }
  const ia = element - j + 2 * (j >> 1)
  return [ia, ia + 1]
}

/** modelRoot leaf 0: the config bytes and the tokenizer digest (a rope step reads its factors). */
export function configLeafOpening(model: Model): WeightOpeningArg {
  const config = configBytes(model.config)
  const data = new Uint8Array(config.length + 32)
  data.set(config)
  data.set(model.tokenizerDigest, config.length)
  const o = openWeightLeaf(model, 0, data)
  return { data: toHex(o.data), proof: hexes(compactFromFull(o.proof, o.leafIndex, o.leafCount)) }
}

/**
 * A modelRoot leaf with its compact proof. A norm (opened at `element`) is one 32-byte chunk of
 * its values: its proof is the chunk's compact proof to the norm's vecRoot (the leaf), then the
 * leaf's compact proof to modelRoot (StepLib `rmsnorm` splits them by the chunk count).
 */
export function weightOpening(model: Model, ref: WeightRef, element?: number): WeightOpeningArg {
  const o = openWeight(model, ref, element)
  const leafProof = compactFromFull(o.proof, o.leafIndex, o.leafCount)
  const chunkProof = o.chunk ? compactFromFull(o.chunk.proof, o.chunk.index, o.chunk.count) : []
  return { data: toHex(o.data), proof: hexes([...chunkProof, ...leafProof]) }
}

/** A full proof (every sibling) in compact form: the siblings over padding alone dropped. */
export function compactFromFull(
  proof: readonly Uint8Array[],
  index: number,
  count: number,
): Uint8Array[] {
  return proof.filter((_, h) => (Math.floor(index / 2 ** h) ^ 1) * 2 ** h < count)
}

/** The vector (layer, kind) of position s, from the disputed position or a boundary. */
export function vectorOf(data: TraceData, s: number, layer: number, kind: number): Int32Array {
  const { config } = data.model
  return s === data.pos
    ? data.positionVector(positionOpIndex(config, layer, kind))
    : data.boundaryVector(s, boundaryIndexOf(config, layer, kind))
}

/** The rmsnorm's input (the residual stream entering the layer, or leaving the last one). */
export function normInput(nLayers: number, layer: number, kind: number): [number, number] {
  if (kind === OpKind.ATTN_NORM)
    return layer === 0 ? [NO_LAYER, OpKind.EMBED] : [layer - 1, OpKind.RESID_FFN]
  if (kind === OpKind.FFN_NORM) return [layer, OpKind.RESID_ATTN]
  return [nLayers - 1, OpKind.RESID_FFN]
}

/** The projection's input vector. */
export function projectionInput(layer: number, kind: number): [number, number] {
  switch (kind) {
    case OpKind.ATTN_OUT:
      return [layer, OpKind.ATTN_MIX]
    case OpKind.GATE:
    case OpKind.UP:
      return [layer, OpKind.FFN_NORM]
    case OpKind.DOWN:
      return [layer, OpKind.SWIGLU]
    case OpKind.LOGITS:
      return [NO_LAYER, OpKind.FINAL_NORM]
    default:
      return [layer, OpKind.ATTN_NORM]
  }
}

export const isProjection = (kind: number) =>
  kind === OpKind.Q ||
  kind === OpKind.K ||
  kind === OpKind.V ||
  kind === OpKind.ATTN_OUT ||
  kind === OpKind.GATE ||
  kind === OpKind.UP ||
  kind === OpKind.DOWN ||
  kind === OpKind.LOGITS

/**
 * The one-step proof of element `element` (lane `element % 8` of its chunk) of op `index` of the
 * disputed position: the inputs StepLib reads for the op's kind.
 */
export function stepProof(data: TraceData, index: number, element: number): StepProofArg {
  const { config } = data.model
  const pos = data.pos
  const { layer, kind, length } = positionOpAt(config, data.shape, pos, index)
  const lane = BigInt(element % 8)
  const proof = (
    vectors: VectorOpeningArg[],
    weights: WeightOpeningArg[] = [],
    hint = 0,
    order: Hex = '0x',
  ): StepProofArg => ({ lane, vectors, weights, hint: BigInt(hint), order })
  if (element >= length) return proof([])
  const T = data.shape.promptLength
  switch (kind) {
    case OpKind.EMBED: {
      const token =
        pos < T
          ? data.request.promptTokens[pos]!
          : vectorOf(data, pos - 1, NO_LAYER, OpKind.SAMPLE)[0]!
      const source =
        pos < T
          ? promptOpening(data, pos)
          : vectorOpening(data, pos - 1, NO_LAYER, OpKind.SAMPLE, 0, 1)
      return proof([source], [weightOpening(data.model, { tensor: 'embed', row: token })])
    }
    case OpKind.ATTN_NORM:
    case OpKind.FFN_NORM:
    case OpKind.FINAL_NORM: {
      const [l, k] = normInput(config.nLayers, layer, kind)
      const norm: WeightRef =
        kind === OpKind.FINAL_NORM
          ? { tensor: 'output_norm' }
          : { tensor: kind === OpKind.ATTN_NORM ? 'attn_norm' : 'ffn_norm', layer }
      return proof(
        [wholeOpening(data, pos, l, k)],
        [weightOpening(data.model, norm, element)],
        maxAbsIndex(vectorOf(data, pos, l, k)),
      )
    }
    case OpKind.Q_ROPE:
    case OpKind.K_ROPE: {
      const source = kind === OpKind.Q_ROPE ? OpKind.Q : OpKind.K
      const [ia, ib] = ropePair(config, element)
      const opening = vectorOpening(data, pos, layer, source, ia, ib - ia + 1)
      const rotates = element % config.headDim < config.ropeDim
      return proof(
        [opening],
        rotates && config.ropeFreqFactors ? [configLeafOpening(data.model)] : [],
      )
    }
    case OpKind.SCORES: {
      const n = pos + 1
      const h = Math.floor(element / n)
      const s = element % n
      const g = Math.floor(h / (config.nHeads / config.nKvHeads))
      const hd = config.headDim
      return proof([
        vectorOpening(data, pos, layer, OpKind.Q_ROPE, h * hd, hd),
        vectorOpening(data, s, layer, OpKind.K_ROPE, g * hd, hd),
      ])
    }
    case OpKind.SOFTMAX: {
      const n = pos + 1
      const h = Math.floor(element / n)
      const scores = vectorOf(data, pos, layer, OpKind.SCORES).subarray(h * n, (h + 1) * n)
      return proof([vectorOpening(data, pos, layer, OpKind.SCORES, h * n, n)], [], maxIndex(scores))
    }
    case OpKind.RESID_ATTN:
    case OpKind.RESID_FFN:
    case OpKind.SWIGLU: {
      const [la, ka] =
        kind === OpKind.RESID_ATTN
          ? normInput(config.nLayers, layer, OpKind.ATTN_NORM)
          : [layer, kind === OpKind.RESID_FFN ? OpKind.RESID_ATTN : OpKind.GATE]
      const kb =
        kind === OpKind.RESID_ATTN
          ? OpKind.ATTN_OUT
          : kind === OpKind.RESID_FFN
            ? OpKind.DOWN
            : OpKind.UP
      return proof([
        vectorOpening(data, pos, la, ka, element, 1),
        vectorOpening(data, pos, layer, kb, element, 1),
      ])
    }
    case OpKind.SAMPLE: {
      const logits = vectorOf(data, pos, NO_LAYER, OpKind.LOGITS)
      const vectors = [wholeOpening(data, pos, NO_LAYER, OpKind.LOGITS)]
      if (pos > T - 1) vectors.push(vectorOpening(data, pos - 1, NO_LAYER, OpKind.SAMPLE, 1, 4))
      return proof(vectors, [], 0, orderBytes(samplerOrder(logits, data.request.params)))
    }
    default: {
      if (!isProjection(kind)) throw new RangeError(`op kind ${kind} is played as a sum`)
      const [l, k] = projectionInput(layer, kind)
      return proof(
        [wholeOpening(data, pos, l, k)],
        [weightOpening(data.model, projectionWeight(kind, layer, element))],
        maxAbsIndex(vectorOf(data, pos, l, k)),
      )
    }
  }
}
