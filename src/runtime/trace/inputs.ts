import type { ModelConfig } from '../model/config.ts'
import type { Model, QMatrix } from '../model/load.ts'
import { Prng } from '../sampler/prng.ts'
import type { SamplingParams } from '../sampler/sample.ts'
import type { TraceCapture } from './capture.ts'
import { NO_LAYER, OpKind } from './ops.ts'
import type { ElementInputs, WeightRow } from './recompute.ts'
import { projectionWeight, type WeightRef } from './schedule.ts'

export function weightRow(model: Model, w: QMatrix, r: number): WeightRow {
  const start = w.ptr + r * w.cols
  const row: WeightRow = {
    q: model.kernel.i8.slice(start, start + w.cols),
    m: w.scaleM[r]!,
    e: w.scaleE[r]!,
  }
  if (w.bias) row.bias = w.bias[r]!
  return row
}

export type RequestContext = {
  promptTokens: readonly number[]
  seed: number
  params: SamplingParams
  /** The committed output tokens: penalties count those sampled before each position. */
  outputTokens?: readonly number[]
}

/** What the one-step arithmetic needs of the model besides weights, all derived from its config. */
export type ModelConstants = {
  config: ModelConfig
  /** RMSNorm epsilon in units of 2^-40. */
  epsQ: number
  /** RoPE inverse frequencies in 96-bit fixed point. */
  ropeInvFreq: readonly bigint[]
}

/** Where the inputs come from: earlier op outputs, and the model's weights. */
export type InputParts = {
  /** The output of op (pos, layer, kind). */
  vector(pos: number, layer: number, kind: number): Int32Array
  row(ref: WeightRef): WeightRow
  norm(ref: WeightRef): Int32Array
}

/** The token fed at position p: the prompt's, else the one sampled at p - 1. */
export function tokenAt(
  request: RequestContext,
  vector: InputParts['vector'],
  pos: number,
): number {
  return pos < request.promptTokens.length
    ? request.promptTokens[pos]!
    : vector(pos - 1, NO_LAYER, OpKind.SAMPLE)[0]!
}

/** The PRNG state before the sample at p: from the seed for the first sample, else p - 1's. */
export function stateBefore(
  request: RequestContext,
  vector: InputParts['vector'],
  pos: number,
): Uint32Array {
  if (pos === request.promptTokens.length - 1) return new Prng(request.seed).s
  const previous = vector(pos - 1, NO_LAYER, OpKind.SAMPLE)
  return Uint32Array.from(previous.subarray(1, 5), (v) => v >>> 0)
}

/**
 * The inputs of element `e` of op (pos, layer, kind), taken from `parts`: exactly what the dispute
 * game's one-step check receives. Returns the inputs and the element's index within them.
 */
export function buildElementInputs(
  constants: ModelConstants,
  request: RequestContext,
  pos: number,
  layer: number,
  kind: number,
  e: number,
  parts: InputParts,
): { inputs: ElementInputs; element: number } {
  const c = constants.config
  const { epsQ } = constants
  const get = (p: number, l: number, k: number) => parts.vector(p, l, k)
  const residualIn = (l: number) =>
    l === 0 ? get(pos, NO_LAYER, OpKind.EMBED) : get(pos, l - 1, OpKind.RESID_FFN)
  const n = pos + 1
  const group = c.nHeads / c.nKvHeads
  const headSlice = (v: Int32Array, h: number) => v.subarray(h * c.headDim, (h + 1) * c.headDim)
  const projection = (x: Int32Array) => ({
    inputs: { kind, x, row: parts.row(projectionWeight(kind, layer, e)) } as ElementInputs,
    element: e,
  })
  switch (kind) {
    case OpKind.EMBED: {
      const token = tokenAt(request, get, pos)
      return { inputs: { kind, row: parts.row({ tensor: 'embed', row: token }) }, element: e }
    }
    case OpKind.ATTN_NORM:
      return {
        inputs: { kind, x: residualIn(layer), g: parts.norm({ tensor: 'attn_norm', layer }), epsQ },
        element: e,
      }
    case OpKind.Q:
    case OpKind.K:
    case OpKind.V:
      return projection(get(pos, layer, OpKind.ATTN_NORM))
    case OpKind.Q_ROPE:
    case OpKind.K_ROPE: {
      const x = get(pos, layer, kind === OpKind.Q_ROPE ? OpKind.Q : OpKind.K)
      return {
        inputs: {
          kind,
          x,
          pos,
          headDim: c.headDim,
          ropeDim: c.ropeDim,
          neox: c.ropeType === 'neox',
          invFreq: constants.ropeInvFreq,
        },
        element: e,
      }
    }
    case OpKind.SCORES: {
      // Element h * (t + 1) + s needs the head's query and the one key at position s.
      const h = Math.floor(e / n)
      const s = e % n
      const g = Math.floor(h / group)
      const keys: Int32Array[] = []
      keys[s] = headSlice(get(s, layer, OpKind.K_ROPE), g)
      return {
        inputs: { kind, q: headSlice(get(pos, layer, OpKind.Q_ROPE), h), keys },
        element: s,
      }
    }
    case OpKind.SOFTMAX: {
      const h = Math.floor(e / n)
      return {
        inputs: { kind, scores: get(pos, layer, OpKind.SCORES).subarray(h * n, (h + 1) * n) },
        element: e % n,
      }
    }
    case OpKind.ATTN_MIX: {
      const h = Math.floor(e / c.headDim)
      const g = Math.floor(h / group)
      const probs = get(pos, layer, OpKind.SOFTMAX).subarray(h * n, (h + 1) * n)
      const values = Array.from({ length: n }, (_, s) => headSlice(get(s, layer, OpKind.V), g))
      return { inputs: { kind, probs, values }, element: e % c.headDim }
    }
    case OpKind.ATTN_OUT:
      return projection(get(pos, layer, OpKind.ATTN_MIX))
    case OpKind.RESID_ATTN:
      return {
        inputs: { kind, a: residualIn(layer), b: get(pos, layer, OpKind.ATTN_OUT) },
        element: e,
      }
    case OpKind.FFN_NORM:
      return {
        inputs: {
          kind,
          x: get(pos, layer, OpKind.RESID_ATTN),
          g: parts.norm({ tensor: 'ffn_norm', layer }),
          epsQ,
        },
        element: e,
      }
    case OpKind.GATE:
    case OpKind.UP:
      return projection(get(pos, layer, OpKind.FFN_NORM))
    case OpKind.SWIGLU:
      return {
        inputs: { kind, gate: get(pos, layer, OpKind.GATE), up: get(pos, layer, OpKind.UP) },
        element: e,
      }
    case OpKind.DOWN:
      return projection(get(pos, layer, OpKind.SWIGLU))
    case OpKind.RESID_FFN:
      return {
        inputs: { kind, a: get(pos, layer, OpKind.RESID_ATTN), b: get(pos, layer, OpKind.DOWN) },
        element: e,
      }
    case OpKind.FINAL_NORM:
      return {
        inputs: {
          kind,
          x: get(pos, c.nLayers - 1, OpKind.RESID_FFN),
          g: parts.norm({ tensor: 'output_norm' }),
          epsQ,
        },
        element: e,
      }
    case OpKind.LOGITS:
      return projection(get(pos, NO_LAYER, OpKind.FINAL_NORM))
    case OpKind.SAMPLE:
      return {
        inputs: {
          kind,
          logits: get(pos, NO_LAYER, OpKind.LOGITS),
          state: stateBefore(request, get, pos),
          params: request.params,
          prior: (request.outputTokens ?? []).slice(0, pos + 1 - request.promptTokens.length),
        },
        element: e,
      }
    default:
      throw new RangeError(`unknown op kind ${kind}`)
  }
}

/** The model's constants (its own, computed at load). */
export function modelConstants(model: Model): ModelConstants {
  return { config: model.config, epsQ: model.epsQ, ropeInvFreq: model.ropeInvFreq }
}

/** The loaded matrix a weight row belongs to. */
export function matrixOf(model: Model, ref: WeightRef): QMatrix {
  const layer = (l: number) => {
    const w = model.layers[l]
    if (!w) throw new RangeError(`layer ${l} does not exist`)
    return w
  }
  switch (ref.tensor) {
    case 'embed':
      return model.embed
    case 'output':
      return model.output
    case 'q':
      return layer(ref.layer).wq
    case 'k':
      return layer(ref.layer).wk
    case 'v':
      return layer(ref.layer).wv
    case 'o':
      return layer(ref.layer).wo
    case 'gate':
      return layer(ref.layer).wGate
    case 'up':
      return layer(ref.layer).wUp
    case 'down':
      return layer(ref.layer).wDown
    default:
      throw new RangeError(`${ref.tensor} is not a matrix`)
  }
}

/** Weight rows and norms read straight from a loaded model. */
export function modelWeights(model: Model): Pick<InputParts, 'row' | 'norm'> {
  return {
    row: (ref) => {
      if (!('row' in ref)) throw new RangeError(`${ref.tensor} is not a matrix`)
      return weightRow(model, matrixOf(model, ref), ref.row)
    },
    norm: (ref) => {
      if (ref.tensor === 'attn_norm') return model.layers[ref.layer]!.attnNorm
      if (ref.tensor === 'ffn_norm') return model.layers[ref.layer]!.ffnNorm
      if (ref.tensor === 'output_norm') return model.outputNorm
      throw new RangeError(`${ref.tensor} is not a norm`)
    },
  }
}

/**
 * Gathers, from a full capture of the trace, the inputs of element `e` of entry (pos, layer,
 * kind): earlier entries and weight rows, exactly what the dispute game's one-step check receives.
 * Returns the inputs and the element's index within them.
 */
export function elementInputs(
  model: Model,
  capture: TraceCapture,
  request: RequestContext,
  pos: number,
  layer: number,
  kind: number,
  e: number,
): { inputs: ElementInputs; element: number } {
  return buildElementInputs(modelConstants(model), request, pos, layer, kind, e, {
    vector: (p, l, k) => capture.get(p, l, k),
    ...modelWeights(model),
  })
}
