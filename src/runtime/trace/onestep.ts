import { TraceError } from '../../errors/runtime.ts'
import { ropeInverseFrequencies } from '../fixed/rope.ts'
import type { ModelConfig } from '../model/config.ts'
import { epsQ40 } from '../model/quantize.ts'
import {
  type ElementOpening,
  type TraceContext,
  type VectorInput,
  verifyBoundaryVector,
  verifyElementOpening,
  verifyPositionLeafOpening,
  verifyPositionVector,
  verifyWeightOpening,
  type WeightOpening,
} from './checks.ts'
import {
  buildElementInputs,
  type InputParts,
  type ModelConstants,
  type RequestContext,
  tokenAt,
} from './inputs.ts'
import { NO_LAYER, OpKind, opIdBytes } from './ops.ts'
import { recomputeElement, type WeightRow } from './recompute.ts'
import {
  boundaryIndexOf,
  positionOpAt,
  positionOpIndex,
  projectionWeight,
  type TraceShape,
  type WeightRef,
  weightLeafCount,
  weightLeafIndex,
} from './schedule.ts'

/**
 * The one-step check: element e of op `index` of R_p, recomputed from its proven inputs and
 * compared with the value the miner opened. Which inputs an element needs is a pure function of
 * the schedule (oneStepVectors, oneStepWeights): earlier ops of position p under R_p, boundary ops
 * of earlier positions under their checkpoints, weights under modelRoot.
 */

/** An op output named by (pos, layer, kind). */
export type InputRef = { pos: number; layer: number; kind: number }

/** The receipt, the request and the R_p the miner posted for the disputed position. */
export type OneStepContext = TraceContext & {
  modelRoot: Uint8Array
  positionRoot: Uint8Array
  request: RequestContext
}

export type OneStepProof = {
  pos: number
  /** The disputed op: leaf `index` of R_pos. */
  index: number
  /** The miner's element, under the op's vecRoot. */
  claim: ElementOpening
  /** Siblings from the op's leaf up to R_pos. */
  claimProof: Uint8Array[]
  /** The input vectors, in the order oneStepVectors lists them. */
  vectors: VectorInput[]
  /** The weights, in the order oneStepWeights lists them. */
  weights: WeightOpening[]
}

export type OneStepResult = { claimed: number; recomputed: number; upheld: boolean }

/**
 * The op outputs element `element` of op `index` of R_pos reads. Each is either an earlier op of
 * the same position (proven under R_pos) or a boundary op of an earlier position (k_rope, v,
 * sample; proven under its checkpoint). An attention-mix element reads every earlier position's
 * values: the long-sum sub-trace (mix.ts) replaces that list in the game.
 */
export function oneStepVectors(
  config: ModelConfig,
  shape: TraceShape,
  pos: number,
  index: number,
  element: number,
): InputRef[] {
  const { layer, kind, length } = positionOpAt(config, shape, pos, index)
  if (!Number.isSafeInteger(element) || element < 0 || element >= length)
    throw new TraceError(`element ${element} is outside the op (${length} elements)`)
  const at = (k: number, l = layer, p = pos): InputRef => ({ pos: p, layer: l, kind: k })
  const residualIn = layer === 0 ? at(OpKind.EMBED, NO_LAYER) : at(OpKind.RESID_FFN, layer - 1)
  const previousSample = at(OpKind.SAMPLE, NO_LAYER, pos - 1)
  switch (kind) {
    case OpKind.EMBED:
      return pos < shape.promptLength ? [] : [previousSample]
    case OpKind.ATTN_NORM:
      return [residualIn]
    case OpKind.Q:
    case OpKind.K:
    case OpKind.V:
      return [at(OpKind.ATTN_NORM)]
    case OpKind.Q_ROPE:
      return [at(OpKind.Q)]
    case OpKind.K_ROPE:
      return [at(OpKind.K)]
    case OpKind.SCORES:
      return [at(OpKind.Q_ROPE), at(OpKind.K_ROPE, layer, element % (pos + 1))]
    case OpKind.SOFTMAX:
      return [at(OpKind.SCORES)]
    case OpKind.ATTN_MIX:
      return [
        at(OpKind.SOFTMAX),
        ...Array.from({ length: pos + 1 }, (_, s) => at(OpKind.V, layer, s)),
      ]
    case OpKind.ATTN_OUT:
      return [at(OpKind.ATTN_MIX)]
    case OpKind.RESID_ATTN:
      return [residualIn, at(OpKind.ATTN_OUT)]
    case OpKind.FFN_NORM:
      return [at(OpKind.RESID_ATTN)]
    case OpKind.GATE:
    case OpKind.UP:
      return [at(OpKind.FFN_NORM)]
    case OpKind.SWIGLU:
      return [at(OpKind.GATE), at(OpKind.UP)]
    case OpKind.DOWN:
      return [at(OpKind.SWIGLU)]
    case OpKind.RESID_FFN:
      return [at(OpKind.RESID_ATTN), at(OpKind.DOWN)]
    case OpKind.FINAL_NORM:
      return [at(OpKind.RESID_FFN, config.nLayers - 1)]
    case OpKind.LOGITS:
      return [at(OpKind.FINAL_NORM, NO_LAYER)]
    case OpKind.SAMPLE:
      return pos === shape.promptLength - 1
        ? [at(OpKind.LOGITS, NO_LAYER)]
        : [at(OpKind.LOGITS, NO_LAYER), previousSample]
    default:
      throw new TraceError(`unknown op kind ${kind}`)
  }
}

/** The weights element `element` of op (layer, kind) reads; `token` is the one fed (embed). */
export function oneStepWeights(
  kind: number,
  layer: number,
  element: number,
  token: number,
): WeightRef[] {
  switch (kind) {
    case OpKind.EMBED:
      return [{ tensor: 'embed', row: token }]
    case OpKind.ATTN_NORM:
      return [{ tensor: 'attn_norm', layer }]
    case OpKind.FFN_NORM:
      return [{ tensor: 'ffn_norm', layer }]
    case OpKind.FINAL_NORM:
      return [{ tensor: 'output_norm' }]
    case OpKind.Q:
    case OpKind.K:
    case OpKind.V:
    case OpKind.ATTN_OUT:
    case OpKind.GATE:
    case OpKind.UP:
    case OpKind.DOWN:
    case OpKind.LOGITS:
      return [projectionWeight(kind, layer, element)]
    default:
      return []
  }
}

const constantsCache = new WeakMap<ModelConfig, ModelConstants>()

/** epsQ and the RoPE frequencies, from the config alone (as a contract derives them). */
export function configConstants(config: ModelConfig): ModelConstants {
  let c = constantsCache.get(config)
  if (!c) {
    c = {
      config,
      epsQ: epsQ40(config.normEps),
      ropeInvFreq: ropeInverseFrequencies(config.ropeTheta, config.ropeDim, config.ropeFreqFactors),
    }
    constantsCache.set(config, c)
  }
  return c
}

const key = (pos: number, layer: number, kind: number) => `${pos}/${layer}/${kind}`

/**
 * Decodes a weight leaf's data: a row (int8 values, int32le m, int32le e, and int32le bias for
 * q, k, v rows of a model with attention biases).
 */
function decodeRow(data: Uint8Array, cols: number, hasBias: boolean): WeightRow {
  const size = cols + (hasBias ? 12 : 8)
  if (data.length !== size) throw new TraceError(`a weight row is ${size} bytes`)
  const view = new DataView(data.buffer, data.byteOffset, data.length)
  const row: WeightRow = {
    q: new Int8Array(data.slice(0, cols).buffer),
    m: view.getInt32(cols, true),
    e: view.getInt32(cols + 4, true),
  }
  if (hasBias) row.bias = view.getInt32(cols + 8, true)
  return row
}

/**
 * A norm as far as its opening shows it: the opened chunk's eight values in place, zero elsewhere
 * (an rmsnorm element reads g_e alone, and the chunk is the one that holds e).
 */
function decodeNormChunk(data: Uint8Array, chunk: number, dim: number): Int32Array {
  const view = new DataView(data.buffer, data.byteOffset, data.length)
  const g = new Int32Array(dim)
  for (let i = 0; i < 8 && 8 * chunk + i < dim; i++) g[8 * chunk + i] = view.getInt32(4 * i, true)
  return g
}

const isNorm = (ref: WeightRef) =>
  ref.tensor === 'attn_norm' || ref.tensor === 'ffn_norm' || ref.tensor === 'output_norm'

/**
 * The one-step check. Verifies the claim (the element under its op's vecRoot, the op's leaf under
 * R_p with its op id as scheduled), every input vector and weight at the place the schedule
 * names, then recomputes the element. `upheld`: the miner's value is the recomputed one.
 */
export function oneStep(ctx: OneStepContext, proof: OneStepProof): OneStepResult {
  const { config, shape } = ctx
  const { pos, index, claim } = proof
  if (ctx.request.promptTokens.length !== shape.promptLength)
    throw new TraceError('the request and the trace shape disagree on the prompt length')
  const op = positionOpAt(config, shape, pos, index)
  verifyElementOpening(op.length, claim)
  verifyPositionLeafOpening(config, shape, ctx.positionRoot, {
    pos,
    index,
    opId: opIdBytes(pos, op.layer, op.kind, op.length),
    vecRoot: claim.vecRoot,
    proof: proof.claimProof,
  })

  const refs = oneStepVectors(config, shape, pos, index, claim.element)
  if (proof.vectors.length !== refs.length)
    throw new TraceError(`the element needs ${refs.length} input vectors`)
  const vectors = new Map<string, Int32Array>()
  refs.forEach((ref, i) => {
    const input = proof.vectors[i]!
    if (ref.pos === pos) {
      // An earlier op of the same position: agreed, since the bisection stopped after it.
      verifyPositionVector(
        config,
        shape,
        ctx.positionRoot,
        pos,
        positionOpIndex(config, ref.layer, ref.kind),
        input,
      )
    } else {
      verifyBoundaryVector(ctx, ref.pos, boundaryIndexOf(config, ref.layer, ref.kind), input)
    }
    vectors.set(key(ref.pos, ref.layer, ref.kind), input.vector)
  })
  const vector = (p: number, l: number, k: number) => {
    const v = vectors.get(key(p, l, k))
    if (!v) throw new TraceError(`internal: input ${key(p, l, k)} was not listed`)
    return v
  }

  const token = op.kind === OpKind.EMBED ? tokenAt(ctx.request, vector, pos) : 0
  if (!Number.isSafeInteger(token) || token < 0 || token >= config.vocabSize)
    throw new TraceError(`token ${token} is outside the vocabulary`)
  const weightRefs = oneStepWeights(op.kind, op.layer, claim.element, token)
  if (proof.weights.length !== weightRefs.length)
    throw new TraceError(`the element needs ${weightRefs.length} weights`)
  const weights = new Map<number, Uint8Array>()
  const leafCount = weightLeafCount(config)
  const normChunks = Math.max(1, Math.ceil(config.dim / 8))
  weightRefs.forEach((ref, i) => {
    const opening = proof.weights[i]!
    const leafIndex = weightLeafIndex(config, ref)
    if (opening.leafIndex !== leafIndex || opening.leafCount !== leafCount)
      throw new TraceError(`weight ${i} is not modelRoot leaf ${leafIndex}`)
    // A norm is opened as the chunk of its vecRoot that holds the element; a row whole.
    const chunk = opening.chunk
    if (
      isNorm(ref) &&
      (!chunk || chunk.index !== Math.floor(claim.element / 8) || chunk.count !== normChunks)
    )
      throw new TraceError(`weight ${i} is not the chunk of ${ref.tensor} that holds the element`)
    if (!isNorm(ref) && chunk) throw new TraceError(`weight ${i} is a row, not a chunk`)
    verifyWeightOpening(ctx.modelRoot, opening)
    weights.set(leafIndex, opening.data)
  })
  const weight = (ref: WeightRef) => {
    const data = weights.get(weightLeafIndex(config, ref))
    if (!data) throw new TraceError(`internal: weight ${ref.tensor} was not listed`)
    return data
  }
  const parts: InputParts = {
    vector,
    row: (ref) =>
      decodeRow(
        weight(ref),
        ref.tensor === 'down' ? config.ffnDim : config.dim,
        config.attnBias === true &&
          (ref.tensor === 'q' || ref.tensor === 'k' || ref.tensor === 'v'),
      ),
    norm: (ref) => decodeNormChunk(weight(ref), Math.floor(claim.element / 8), config.dim),
  }

  const { inputs, element } = buildElementInputs(
    configConstants(config),
    ctx.request,
    pos,
    op.layer,
    op.kind,
    claim.element,
    parts,
  )
  const recomputed = recomputeElement(inputs, element)
  return { claimed: claim.value, recomputed, upheld: recomputed === claim.value }
}
