import { TraceError } from '../../errors/runtime.ts'
import type { ModelConfig } from '../model/config.ts'
import { LAYER_OPS, NO_LAYER, type OpId, OpKind } from './ops.ts'

/**
 * The trace's schedule (docs/DETERMINISM.md, "Trace"): which op sits where, as a pure function of
 * the config and the request's shape, so that a verifier (the dispute contract) can check any
 * claimed op id without running anything.
 */

/** What fixes a trace's layout: the prompt's length and the number of tokens sampled. */
export type TraceShape = { promptLength: number; generated: number }

function checkShape(shape: TraceShape): void {
  const { promptLength, generated } = shape
  if (!Number.isSafeInteger(promptLength) || promptLength < 1)
    throw new TraceError(`prompt length ${promptLength} must be a positive integer`)
  if (!Number.isSafeInteger(generated) || generated < 1)
    throw new TraceError(`generated token count ${generated} must be a positive integer`)
}

/**
 * Positions run through the forward pass: the prompt's, then every sampled token but the last
 * (it is never fed back). This is the number of checkpoints, the receipt's `traceLeaves`.
 */
export function positionCount(shape: TraceShape): number {
  checkShape(shape)
  return shape.promptLength + shape.generated - 1
}

/** The shape of a trace of `positions` checkpoints over a prompt of `promptLength` tokens. */
export function shapeOf(promptLength: number, positions: number): TraceShape {
  const shape = { promptLength, generated: positions - promptLength + 1 }
  checkShape(shape)
  return shape
}

function checkPosition(shape: TraceShape, pos: number): void {
  const count = positionCount(shape)
  if (!Number.isSafeInteger(pos) || pos < 0 || pos >= count)
    throw new TraceError(`position ${pos} is outside the trace (${count} positions)`)
}

/** Whether position p samples a token (the last prompt position and every fed-back one). */
export function samplesAt(shape: TraceShape, pos: number): boolean {
  checkPosition(shape, pos)
  return pos >= shape.promptLength - 1
}

/** Leaves of position p's trace R_p: embed, 17 per layer, then final_norm, logits, sample. */
export function positionOpCount(config: ModelConfig, shape: TraceShape, pos: number): number {
  return 1 + config.nLayers * LAYER_OPS + (samplesAt(shape, pos) ? 3 : 0)
}

/** The index in R_p of op (layer, kind), the same at every position that has it. */
export function positionOpIndex(config: ModelConfig, layer: number, kind: number): number {
  const L = config.nLayers
  if (kind === OpKind.EMBED && layer === NO_LAYER) return 0
  if (kind >= OpKind.ATTN_NORM && kind <= OpKind.RESID_FFN && layer >= 0 && layer < L)
    return layer * LAYER_OPS + kind
  if (kind >= OpKind.FINAL_NORM && kind <= OpKind.SAMPLE && layer === NO_LAYER)
    return 1 + L * LAYER_OPS + (kind - OpKind.FINAL_NORM)
  throw new TraceError(`no op of kind ${kind} at layer ${layer}`)
}

/** The element count of op `kind` at position p (scores and softmax grow with the position). */
export function opLength(config: ModelConfig, pos: number, kind: number): number {
  const kvDim = config.nKvHeads * config.headDim
  switch (kind) {
    case OpKind.K:
    case OpKind.V:
    case OpKind.K_ROPE:
      return kvDim
    case OpKind.SCORES:
    case OpKind.SOFTMAX:
      return config.nHeads * (pos + 1)
    case OpKind.GATE:
    case OpKind.UP:
    case OpKind.SWIGLU:
      return config.ffnDim
    case OpKind.LOGITS:
      return config.vocabSize
    case OpKind.SAMPLE:
      return 5
    default:
      return config.dim
  }
}

/** The op at index `index` of R_p: what a claimed op id there must be. */
export function positionOpAt(
  config: ModelConfig,
  shape: TraceShape,
  pos: number,
  index: number,
): OpId {
  const count = positionOpCount(config, shape, pos)
  if (!Number.isSafeInteger(index) || index < 0 || index >= count)
    throw new TraceError(`op ${index} is outside position ${pos}'s trace (${count} ops)`)
  const head = 1 + config.nLayers * LAYER_OPS
  let layer: number
  let kind: number
  if (index === 0) [layer, kind] = [NO_LAYER, OpKind.EMBED]
  else if (index < head)
    [layer, kind] = [Math.floor((index - 1) / LAYER_OPS), 1 + ((index - 1) % LAYER_OPS)]
  else [layer, kind] = [NO_LAYER, OpKind.FINAL_NORM + (index - head)]
  return { pos, layer, kind, length: opLength(config, pos, kind) }
}

/** Boundary leaves of position p: k_rope and v of each layer, then sample if p samples. */
export function boundaryCount(config: ModelConfig, shape: TraceShape, pos: number): number {
  return 2 * config.nLayers + (samplesAt(shape, pos) ? 1 : 0)
}

/** The boundary index of op (layer, kind), or -1 for an op that is not on the boundary. */
export function boundaryIndexOf(config: ModelConfig, layer: number, kind: number): number {
  if (kind === OpKind.SAMPLE && layer === NO_LAYER) return 2 * config.nLayers
  if ((kind === OpKind.K_ROPE || kind === OpKind.V) && layer >= 0 && layer < config.nLayers)
    return 2 * layer + (kind === OpKind.V ? 1 : 0)
  return -1
}

/** The op behind boundary leaf j of position p. */
export function boundaryOpAt(config: ModelConfig, shape: TraceShape, pos: number, j: number): OpId {
  const count = boundaryCount(config, shape, pos)
  if (!Number.isSafeInteger(j) || j < 0 || j >= count)
    throw new TraceError(
      `boundary leaf ${j} is outside position ${pos}'s boundary (${count} leaves)`,
    )
  const kind = j === 2 * config.nLayers ? OpKind.SAMPLE : j % 2 === 0 ? OpKind.K_ROPE : OpKind.V
  const layer = kind === OpKind.SAMPLE ? NO_LAYER : j >> 1
  return { pos, layer, kind, length: opLength(config, pos, kind) }
}

/** The binding map: boundary leaf j of a position is leaf `boundaryToPositionIndex(j)` of its R_p. */
export function boundaryToPositionIndex(config: ModelConfig, j: number): number {
  const L = config.nLayers
  if (!Number.isSafeInteger(j) || j < 0 || j > 2 * L)
    throw new TraceError(`boundary leaf ${j} does not exist (${2 * L + 1} at most)`)
  if (j === 2 * L) return positionOpIndex(config, NO_LAYER, OpKind.SAMPLE)
  return positionOpIndex(config, j >> 1, j % 2 === 0 ? OpKind.K_ROPE : OpKind.V)
}

/** A weight the one-step check reads: a matrix row or a norm vector of the model. */
export type WeightRef =
  | { tensor: 'embed' | 'output'; row: number }
  | { tensor: 'q' | 'k' | 'v' | 'o' | 'gate' | 'up' | 'down'; layer: number; row: number }
  | { tensor: 'attn_norm' | 'ffn_norm'; layer: number }
  | { tensor: 'output_norm' }

/**
 * The modelRoot leaf of a weight (docs/DETERMINISM.md, "modelRoot"): leaf 0 is the config, then
 * the embedding rows, then per layer attn_norm, q, k, v, o rows, ffn_norm, gate, up, down rows,
 * then output_norm and the output rows (the embedding rows when the model ties them).
 */
export function weightLeafIndex(config: ModelConfig, ref: WeightRef): number {
  const { vocabSize, dim, ffnDim, nLayers } = config
  const kvDim = config.nKvHeads * config.headDim
  const perLayer = 2 + 2 * dim + 2 * kvDim + 2 * ffnDim + dim
  const layerBase = (l: number) => {
    if (!Number.isSafeInteger(l) || l < 0 || l >= nLayers)
      throw new TraceError(`layer ${l} does not exist`)
    return 1 + vocabSize + l * perLayer
  }
  const row = (r: number, rows: number) => {
    if (!Number.isSafeInteger(r) || r < 0 || r >= rows)
      throw new TraceError(`row ${r} is outside ${ref.tensor} (${rows} rows)`)
    return r
  }
  const outputNorm = 1 + vocabSize + nLayers * perLayer
  switch (ref.tensor) {
    case 'embed':
      return 1 + row(ref.row, vocabSize)
    case 'output':
      return config.tiedOutput
        ? 1 + row(ref.row, vocabSize)
        : outputNorm + 1 + row(ref.row, vocabSize)
    case 'attn_norm':
      return layerBase(ref.layer)
    case 'q':
      return layerBase(ref.layer) + 1 + row(ref.row, dim)
    case 'k':
      return layerBase(ref.layer) + 1 + dim + row(ref.row, kvDim)
    case 'v':
      return layerBase(ref.layer) + 1 + dim + kvDim + row(ref.row, kvDim)
    case 'o':
      return layerBase(ref.layer) + 1 + dim + 2 * kvDim + row(ref.row, dim)
    case 'ffn_norm':
      return layerBase(ref.layer) + 1 + 2 * dim + 2 * kvDim
    case 'gate':
      return layerBase(ref.layer) + 2 + 2 * dim + 2 * kvDim + row(ref.row, ffnDim)
    case 'up':
      return layerBase(ref.layer) + 2 + 2 * dim + 2 * kvDim + ffnDim + row(ref.row, ffnDim)
    case 'down':
      return layerBase(ref.layer) + 2 + 2 * dim + 2 * kvDim + 2 * ffnDim + row(ref.row, dim)
    case 'output_norm':
      return outputNorm
  }
}

/** The weight row read by a projection op's element `row`. */
export function projectionWeight(kind: number, layer: number, row: number): WeightRef {
  switch (kind) {
    case OpKind.Q:
      return { tensor: 'q', layer, row }
    case OpKind.K:
      return { tensor: 'k', layer, row }
    case OpKind.V:
      return { tensor: 'v', layer, row }
    case OpKind.ATTN_OUT:
      return { tensor: 'o', layer, row }
    case OpKind.GATE:
      return { tensor: 'gate', layer, row }
    case OpKind.UP:
      return { tensor: 'up', layer, row }
    case OpKind.DOWN:
      return { tensor: 'down', layer, row }
    case OpKind.LOGITS:
      return { tensor: 'output', row }
    default:
      throw new TraceError(`op kind ${kind} is not a projection`)
  }
}

/** The number of modelRoot leaves (every weight opening's proof length follows from it). */
export function weightLeafCount(config: ModelConfig): number {
  const { vocabSize, dim, ffnDim, nLayers } = config
  const kvDim = config.nKvHeads * config.headDim
  return (
    1 +
    vocabSize +
    nLayers * (2 + 2 * dim + 2 * kvDim + 2 * ffnDim + dim) +
    1 +
    (config.tiedOutput ? 0 : vocabSize)
  )
}
