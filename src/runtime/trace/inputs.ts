import type { Model, QMatrix } from '../model/load.ts'
import { Prng } from '../sampler/prng.ts'
import type { SamplingParams } from '../sampler/sample.ts'
import type { TraceCapture } from './capture.ts'
import { NO_LAYER, OpKind } from './ops.ts'
import type { ElementInputs, WeightRow } from './recompute.ts'

export function weightRow(model: Model, w: QMatrix, r: number): WeightRow {
  const start = w.ptr + r * w.cols
  return { q: model.kernel.i8.slice(start, start + w.cols), m: w.scaleM[r]!, e: w.scaleE[r]! }
}

export type RequestContext = {
  promptTokens: readonly number[]
  seed: number
  params: SamplingParams
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
  const c = model.config
  const get = (p: number, l: number, k: number) => capture.get(p, l, k)
  const residualIn = (l: number) =>
    l === 0 ? get(pos, NO_LAYER, OpKind.EMBED) : get(pos, l - 1, OpKind.RESID_FFN)
  const L = layer === NO_LAYER ? undefined : model.layers[layer]
  const n = pos + 1
  const group = c.nHeads / c.nKvHeads
  const headSlice = (v: Int32Array, h: number) => v.subarray(h * c.headDim, (h + 1) * c.headDim)
  switch (kind) {
    case OpKind.EMBED: {
      const token =
        pos < request.promptTokens.length
          ? request.promptTokens[pos]!
          : get(pos - 1, NO_LAYER, OpKind.SAMPLE)[0]!
      return { inputs: { kind, row: weightRow(model, model.embed, token) }, element: e }
    }
    case OpKind.ATTN_NORM:
      return {
        inputs: { kind, x: residualIn(layer), g: L!.attnNorm, epsQ: model.epsQ },
        element: e,
      }
    case OpKind.Q:
    case OpKind.K:
    case OpKind.V: {
      const w = kind === OpKind.Q ? L!.wq : kind === OpKind.K ? L!.wk : L!.wv
      return {
        inputs: { kind, x: get(pos, layer, OpKind.ATTN_NORM), row: weightRow(model, w, e) },
        element: e,
      }
    }
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
          invFreq: model.ropeInvFreq,
        },
        element: e,
      }
    }
    case OpKind.SCORES: {
      const h = Math.floor(e / n)
      const g = Math.floor(h / group)
      const keys = Array.from({ length: n }, (_, s) => headSlice(get(s, layer, OpKind.K_ROPE), g))
      return {
        inputs: { kind, q: headSlice(get(pos, layer, OpKind.Q_ROPE), h), keys },
        element: e % n,
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
      return {
        inputs: { kind, x: get(pos, layer, OpKind.ATTN_MIX), row: weightRow(model, L!.wo, e) },
        element: e,
      }
    case OpKind.RESID_ATTN:
      return {
        inputs: { kind, a: residualIn(layer), b: get(pos, layer, OpKind.ATTN_OUT) },
        element: e,
      }
    case OpKind.FFN_NORM:
      return {
        inputs: { kind, x: get(pos, layer, OpKind.RESID_ATTN), g: L!.ffnNorm, epsQ: model.epsQ },
        element: e,
      }
    case OpKind.GATE:
    case OpKind.UP: {
      const w = kind === OpKind.GATE ? L!.wGate : L!.wUp
      return {
        inputs: { kind, x: get(pos, layer, OpKind.FFN_NORM), row: weightRow(model, w, e) },
        element: e,
      }
    }
    case OpKind.SWIGLU:
      return {
        inputs: { kind, gate: get(pos, layer, OpKind.GATE), up: get(pos, layer, OpKind.UP) },
        element: e,
      }
    case OpKind.DOWN:
      return {
        inputs: { kind, x: get(pos, layer, OpKind.SWIGLU), row: weightRow(model, L!.wDown, e) },
        element: e,
      }
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
          g: model.outputNorm,
          epsQ: model.epsQ,
        },
        element: e,
      }
    case OpKind.LOGITS:
      return {
        inputs: {
          kind,
          x: get(pos, NO_LAYER, OpKind.FINAL_NORM),
          row: weightRow(model, model.output, e),
        },
        element: e,
      }
    case OpKind.SAMPLE: {
      const previous = capture.has(pos - 1, NO_LAYER, OpKind.SAMPLE)
        ? get(pos - 1, NO_LAYER, OpKind.SAMPLE)
        : undefined
      const state = previous
        ? Uint32Array.from(previous.subarray(1, 5), (v) => v >>> 0)
        : new Prng(request.seed).s
      return {
        inputs: { kind, logits: get(pos, NO_LAYER, OpKind.LOGITS), state, params: request.params },
        element: e,
      }
    }
    default:
      throw new RangeError(`unknown op kind ${kind}`)
  }
}
