import { sat32 } from './fixed/int.ts'
import { type Model, type QMatrix, ropeAt } from './model/load.ts'
import { headScores, invSqrtQ16, mixValues, reduce16, softmax } from './ops/attention.ts'
import { embedRow, requantize } from './ops/project.ts'
import { quantizeActivation } from './ops/quantize-activation.ts'
import { rmsnorm } from './ops/rmsnorm.ts'
import { applyRope } from './ops/rope.ts'
import { swiglu } from './ops/swiglu.ts'
import { NO_LAYER, OpKind, type TraceSink } from './trace/ops.ts'

/**
 * The state of one sequence: KV caches and every buffer the forward pass needs, allocated once.
 * Shapes are in comments as (dimension, ...).
 */
export class Sequence {
  readonly model: Model
  /** Next position to run. */
  pos = 0
  readonly vCache: Int32Array[] // per layer (ctx, kvDim)
  readonly k16: Int32Array[] // per layer (ctx, kvDim): keys reduced to 16 bits
  readonly kShift: Int32Array[] // per layer (ctx, nKvHeads): their shifts
  // Scratch, (dim) unless noted.
  readonly x: Int32Array
  readonly xn: Int32Array
  readonly q: Int32Array
  readonly q16: Int32Array
  readonly k: Int32Array // (kvDim)
  readonly v: Int32Array // (kvDim)
  readonly scores: Int32Array // (nHeads, ctx)
  readonly probs: Int32Array // (nHeads, ctx)
  readonly mix: Int32Array
  readonly proj: Int32Array
  readonly gate: Int32Array // (ffn)
  readonly up: Int32Array // (ffn)
  readonly hidden: Int32Array // (ffn)
  readonly logits: Int32Array // (vocab)
  readonly expTmp: Float64Array // (ctx)
  readonly mixAcc: Float64Array // (headDim)
  readonly invSqrt: number

  constructor(model: Model, maxPositions = model.config.contextLength) {
    const c = model.config
    const ctx = Math.min(maxPositions, c.contextLength)
    const kvDim = c.nKvHeads * c.headDim
    this.model = model
    this.vCache = Array.from({ length: c.nLayers }, () => new Int32Array(ctx * kvDim))
    this.k16 = Array.from({ length: c.nLayers }, () => new Int32Array(ctx * kvDim))
    this.kShift = Array.from({ length: c.nLayers }, () => new Int32Array(ctx * c.nKvHeads))
    this.x = new Int32Array(c.dim)
    this.xn = new Int32Array(c.dim)
    this.q = new Int32Array(c.dim)
    this.q16 = new Int32Array(c.dim)
    this.k = new Int32Array(kvDim)
    this.v = new Int32Array(kvDim)
    this.scores = new Int32Array(c.nHeads * ctx)
    this.probs = new Int32Array(c.nHeads * ctx)
    this.mix = new Int32Array(c.dim)
    this.proj = new Int32Array(c.dim)
    this.gate = new Int32Array(c.ffnDim)
    this.up = new Int32Array(c.ffnDim)
    this.hidden = new Int32Array(c.ffnDim)
    this.logits = new Int32Array(c.vocabSize)
    this.expTmp = new Float64Array(ctx)
    this.mixAcc = new Float64Array(c.headDim)
    this.invSqrt = invSqrtQ16(c.headDim)
  }

  get capacity(): number {
    return this.kShift[0]!.length / this.model.config.nKvHeads
  }
}

const noTrace: TraceSink = { record() {} }

/** y (rows) = W x, with x Q16 (cols): quantize x to int8, int8 matvec in the kernel, requantize. */
function project(model: Model, w: QMatrix, x: Int32Array, out: Int32Array): void {
  const { kernel, scratch } = model
  const [mx, ex] = quantizeActivation(x, 0, w.cols, kernel.i8, scratch.xq)
  if (mx !== 0) kernel.matvecI8(w.ptr, w.rows, w.cols, scratch.xq, scratch.acc)
  requantize(w, kernel.i32, scratch.acc >> 2, mx, ex, out, 0)
}

/** The three projections q, k, v share one quantized input. */
function projectShared(model: Model, ws: QMatrix[], x: Int32Array, outs: Int32Array[]): void {
  const { kernel, scratch } = model
  const [mx, ex] = quantizeActivation(x, 0, ws[0]!.cols, kernel.i8, scratch.xq)
  for (let i = 0; i < ws.length; i++) {
    const w = ws[i]!
    if (mx !== 0) kernel.matvecI8(w.ptr, w.rows, w.cols, scratch.xq, scratch.acc)
    requantize(w, kernel.i32, scratch.acc >> 2, mx, ex, outs[i]!, 0)
  }
}

/**
 * Runs one token at the sequence's next position, recording every op output to `sink` in
 * execution order. With `withLogits`, also the final norm and the logits (returned).
 */
export function forwardToken(
  seq: Sequence,
  token: number,
  withLogits: boolean,
  sink: TraceSink = noTrace,
): Int32Array | undefined {
  const model = seq.model
  const c = model.config
  const pos = seq.pos
  if (pos >= seq.capacity)
    throw new RangeError(`position ${pos} is beyond the sequence capacity ${seq.capacity}`)
  if (!Number.isInteger(token) || token < 0 || token >= c.vocabSize)
    throw new RangeError(`token ${token} out of range`)
  const { dim, headDim, nHeads, nKvHeads, ffnDim, ropeDim } = c
  const kvDim = nKvHeads * headDim
  const group = nHeads / nKvHeads
  const t = pos
  const n = t + 1
  const { x, xn, q, q16, k, v, scores, probs, mix, proj, gate, up, hidden } = seq
  const rope = ropeAt(model, pos)

  // --- embedding
  embedRow(model.embed, model.kernel.i8, token, x, 0)
  sink.record(pos, NO_LAYER, OpKind.EMBED, x, 0, dim)

  for (let l = 0; l < c.nLayers; l++) {
    const L = model.layers[l]!
    // --- attention
    rmsnorm(x, 0, dim, L.attnNorm, model.epsQ, xn, 0)
    sink.record(pos, l, OpKind.ATTN_NORM, xn, 0, dim)
    projectShared(model, [L.wq, L.wk, L.wv], xn, [q, k, v])
    sink.record(pos, l, OpKind.Q, q, 0, dim)
    sink.record(pos, l, OpKind.K, k, 0, kvDim)
    sink.record(pos, l, OpKind.V, v, 0, kvDim)
    applyRope(q, 0, nHeads, headDim, ropeDim, rope)
    sink.record(pos, l, OpKind.Q_ROPE, q, 0, dim)
    applyRope(k, 0, nKvHeads, headDim, ropeDim, rope)
    sink.record(pos, l, OpKind.K_ROPE, k, 0, kvDim)

    const k16 = seq.k16[l]!
    const kShift = seq.kShift[l]!
    seq.vCache[l]!.set(v, pos * kvDim)
    for (let g = 0; g < nKvHeads; g++) {
      kShift[pos * nKvHeads + g] = reduce16(k, g * headDim, headDim, k16, pos * kvDim + g * headDim)
    }
    for (let h = 0; h < nHeads; h++) {
      const g = Math.floor(h / group)
      const shq = reduce16(q, h * headDim, headDim, q16, h * headDim)
      headScores(
        q16,
        h * headDim,
        shq,
        k16,
        kShift,
        kvDim,
        g * headDim,
        nKvHeads,
        g,
        headDim,
        t,
        seq.invSqrt,
        scores,
        h * n,
      )
    }
    sink.record(pos, l, OpKind.SCORES, scores, 0, nHeads * n)
    for (let h = 0; h < nHeads; h++) softmax(scores, h * n, n, probs, seq.expTmp)
    sink.record(pos, l, OpKind.SOFTMAX, probs, 0, nHeads * n)
    for (let h = 0; h < nHeads; h++) {
      const g = Math.floor(h / group)
      mixValues(
        probs,
        h * n,
        seq.vCache[l]!,
        kvDim,
        g * headDim,
        headDim,
        t,
        mix,
        h * headDim,
        seq.mixAcc,
      )
    }
    sink.record(pos, l, OpKind.ATTN_MIX, mix, 0, dim)
    project(model, L.wo, mix, proj)
    sink.record(pos, l, OpKind.ATTN_OUT, proj, 0, dim)
    for (let j = 0; j < dim; j++) x[j] = sat32(x[j]! + proj[j]!)
    sink.record(pos, l, OpKind.RESID_ATTN, x, 0, dim)

    // --- feed-forward
    rmsnorm(x, 0, dim, L.ffnNorm, model.epsQ, xn, 0)
    sink.record(pos, l, OpKind.FFN_NORM, xn, 0, dim)
    projectShared(model, [L.wGate, L.wUp], xn, [gate, up])
    sink.record(pos, l, OpKind.GATE, gate, 0, ffnDim)
    sink.record(pos, l, OpKind.UP, up, 0, ffnDim)
    swiglu(gate, up, hidden, 0, ffnDim)
    sink.record(pos, l, OpKind.SWIGLU, hidden, 0, ffnDim)
    project(model, L.wDown, hidden, proj)
    sink.record(pos, l, OpKind.DOWN, proj, 0, dim)
    for (let j = 0; j < dim; j++) x[j] = sat32(x[j]! + proj[j]!)
    sink.record(pos, l, OpKind.RESID_FFN, x, 0, dim)
  }
  seq.pos = pos + 1
  if (!withLogits) return undefined

  // --- head
  rmsnorm(x, 0, dim, model.outputNorm, model.epsQ, xn, 0)
  sink.record(pos, NO_LAYER, OpKind.FINAL_NORM, xn, 0, dim)
  project(model, model.output, xn, seq.logits)
  sink.record(pos, NO_LAYER, OpKind.LOGITS, seq.logits, 0, c.vocabSize)
  return seq.logits
}
