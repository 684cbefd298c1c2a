import { TraceError } from '../../errors/runtime.ts'
import { cosSin, toFixed } from '../fixed/bigmath.ts'
import { expQ30 } from '../fixed/exp.ts'
import {
  bitLength,
  floorDiv,
  isqrt,
  maxAbs,
  pow2,
  roundDiv,
  roundDivSym,
  roundShift,
  sat32,
} from '../fixed/int.ts'
import { ROPE_BITS } from '../fixed/rope.ts'
import { activationScale } from '../ops/quantize-activation.ts'
import { sigmoidQ16 } from '../ops/swiglu.ts'
import { adjustLogits, hasAdjustments } from '../sampler/adjust.ts'
import { Prng } from '../sampler/prng.ts'
import { type SamplingParams, sample } from '../sampler/sample.ts'
import { OpKind } from './ops.ts'

/**
 * The one-step reference: one output element of one op, from that op's inputs only, in plain
 * integer code that follows docs/DETERMINISM.md line by line. The on-chain one-step check mirrors
 * these functions; the tests check them against the fast forward pass on every op kind.
 */

/**
 * A weight row as committed in modelRoot: int8 values, the scale m * 2^-e, and for q, k, v rows
 * of a model with attention biases the row's Q16 bias (added to the projection's element).
 */
export type WeightRow = { q: Int8Array; m: number; e: number; bias?: number }

export type ElementInputs =
  | { kind: typeof OpKind.EMBED; row: WeightRow }
  | {
      kind: typeof OpKind.ATTN_NORM | typeof OpKind.FFN_NORM | typeof OpKind.FINAL_NORM
      x: Int32Array
      g: Int32Array
      epsQ: number
    }
  | {
      kind:
        | typeof OpKind.Q
        | typeof OpKind.K
        | typeof OpKind.V
        | typeof OpKind.ATTN_OUT
        | typeof OpKind.GATE
        | typeof OpKind.UP
        | typeof OpKind.DOWN
        | typeof OpKind.LOGITS
      /** The op's input vector (Q16); the element's index is the weight row's index. */
      x: Int32Array
      row: WeightRow
    }
  /** x: the pre-rotation vector (Q or K); invFreq: the model's RoPE inverse frequencies. */
  | {
      kind: typeof OpKind.Q_ROPE | typeof OpKind.K_ROPE
      x: Int32Array
      pos: number
      headDim: number
      ropeDim: number
      /** NEOX pairing (j, j + ropeDim/2) instead of (2i, 2i+1); absent means false. */
      neox?: boolean
      invFreq: readonly bigint[]
    }
  /** q: the head's rotated query; keys: the rotated keys of its KV head at positions 0..t. */
  | { kind: typeof OpKind.SCORES; q: Int32Array; keys: Int32Array[] }
  /** scores: the head's scores at positions 0..t. */
  | { kind: typeof OpKind.SOFTMAX; scores: Int32Array }
  /** probs: the head's probabilities; values: its KV head's value slices at positions 0..t. */
  | { kind: typeof OpKind.ATTN_MIX; probs: Int32Array; values: Int32Array[] }
  | { kind: typeof OpKind.RESID_ATTN | typeof OpKind.RESID_FFN; a: Int32Array; b: Int32Array }
  | { kind: typeof OpKind.SWIGLU; gate: Int32Array; up: Int32Array }
  /** logits at this position, the PRNG state before the draw, and the request's parameters. */
  | {
      kind: typeof OpKind.SAMPLE
      logits: Int32Array
      state: Uint32Array
      params: SamplingParams
      /** The output tokens sampled before this one (penalties count them). */
      prior?: readonly number[]
    }

/**
 * Element `e` of the op's output. For SCORES, SOFTMAX and ATTN_MIX the inputs are one head's and
 * `e` indexes within that head (position s, or dimension j).
 */
export function recomputeElement(inputs: ElementInputs, e: number): number {
  switch (inputs.kind) {
    case OpKind.EMBED: {
      const { row } = inputs
      return sat32(roundShift(row.q[e]! * row.m, row.e - 16))
    }
    case OpKind.ATTN_NORM:
    case OpKind.FFN_NORM:
    case OpKind.FINAL_NORM: {
      const { x, g, epsQ } = inputs
      const n = x.length
      const amax = maxAbs(x)
      if (amax === 0) return 0
      const sh = Math.max(bitLength(amax) - 20, -8)
      let ss = 0
      for (let j = 0; j < n; j++) ss += roundShift(x[j]!, sh) ** 2
      const ms = floorDiv(ss, n) + roundShift(epsQ, 8 + 2 * sh)
      const r = isqrt(ms * 4096)
      return sat32(roundDivSym(roundShift(x[e]!, sh) * g[e]! * 64, r))
    }
    case OpKind.Q:
    case OpKind.K:
    case OpKind.V:
    case OpKind.ATTN_OUT:
    case OpKind.GATE:
    case OpKind.UP:
    case OpKind.DOWN:
    case OpKind.LOGITS: {
      const { x, row } = inputs
      const bias = row.bias ?? 0
      const [mx, ex] = activationScale(maxAbs(x))
      if (mx === 0) return sat32(bias)
      let acc = 0
      for (let j = 0; j < x.length; j++) {
        const xq = ex >= 0 ? roundDivSym(x[j]! * pow2(ex), mx) : roundDivSym(x[j]!, mx * pow2(-ex))
        acc += row.q[j]! * xq
      }
      return sat32(roundShift(acc * (row.m * mx), row.e + ex) + bias)
    }
    case OpKind.Q_ROPE:
    case OpKind.K_ROPE: {
      const { x, pos, headDim, ropeDim, invFreq } = inputs
      const j = e % headDim
      if (j >= ropeDim) return x[e]!
      // The pair (a, b) that element j belongs to, pair index i, and whether j is its first.
      const half = ropeDim / 2
      const neox = inputs.neox === true
      const i = neox ? j % half : j >> 1
      const first = neox ? j < half : j % 2 === 0
      const ia = e - j + (neox ? i : 2 * i)
      const ib = ia + (neox ? half : 1)
      const [cb, sb] = cosSin(BigInt(pos) * invFreq[i]!)
      const c = toFixed(cb, BigInt(ROPE_BITS))
      const s = toFixed(sb, BigInt(ROPE_BITS))
      const a = x[ia]!
      const b = x[ib]!
      return sat32(roundShift(first ? a * c - b * s : a * s + b * c, ROPE_BITS))
    }
    case OpKind.SCORES: {
      const { q, keys } = inputs
      const d = q.length
      const key = keys[e]!
      const shq = Math.max(0, bitLength(maxAbs(q)) - 15)
      const shk = Math.max(0, bitLength(maxAbs(key)) - 15)
      let dot = 0
      for (let j = 0; j < d; j++) dot += roundShift(q[j]!, shq) * roundShift(key[j]!, shk)
      const c = roundDiv(2 ** 32, isqrt(d * 2 ** 32))
      return sat32(roundShift(dot * c, 32 - shq - shk))
    }
    case OpKind.SOFTMAX: {
      const { scores } = inputs
      let max = scores[0]!
      for (const s of scores) if (s > max) max = s
      let sum = 0
      for (const s of scores) sum += expQ30(s - max)
      return roundDiv(expQ30(scores[e]! - max) * 65536, sum)
    }
    case OpKind.ATTN_MIX: {
      const { probs, values } = inputs
      let acc = 0
      for (let s = 0; s < probs.length; s++) acc += probs[s]! * values[s]![e]!
      return sat32(roundShift(acc, 16))
    }
    case OpKind.RESID_ATTN:
    case OpKind.RESID_FFN:
      return sat32(inputs.a[e]! + inputs.b[e]!)
    case OpKind.SWIGLU: {
      const g = inputs.gate[e]!
      const u = inputs.up[e]!
      const silu = sat32(roundShift(g * sigmoidQ16(g), 16))
      const uh = Math.floor(u / 65536)
      return sat32(silu * uh + roundShift(silu * (u - uh * 65536), 16))
    }
    case OpKind.SAMPLE: {
      const { logits, state, params } = inputs
      const prng = new Prng(0)
      prng.s.set(state)
      const token = sample(
        samplerLogits(logits, params, inputs.prior ?? []),
        params,
        prng,
        new Int32Array(logits.length),
        new Float64Array(logits.length),
      )
      return e === 0 ? token : prng.s[e - 1]! | 0
    }
    default:
      throw new TraceError(`unknown op kind ${(inputs as { kind: number }).kind}`)
  }
}

/**
 * The logits the sampler sees at a sample entry: the model's, with the request's bias and
 * penalties applied (counts from the output tokens before it); the model's own without them.
 */
export function samplerLogits(
  logits: Int32Array,
  params: SamplingParams,
  prior: readonly number[],
): Int32Array {
  if (!hasAdjustments(params)) return logits
  const counts = new Uint32Array(logits.length)
  const seen: number[] = []
  for (const t of prior) if (t < logits.length && counts[t]!++ === 0) seen.push(t)
  return adjustLogits(logits, params, counts, seen, new Int32Array(logits.length))
}
