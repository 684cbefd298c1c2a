import { sat32 } from './fixed/int.ts'
import { type Model, type QMatrix, ropeAt } from './model/load.ts'
import { headScores, invSqrtQ16, mixValues, reduce16, softmax } from './ops/attention.ts'
import { embedRow, requantize } from './ops/project.ts'
import { quantizeActivation } from './ops/quantize-activation.ts'
import { rmsnorm } from './ops/rmsnorm.ts'
import { applyRope } from './ops/rope.ts'
import { swiglu } from './ops/swiglu.ts'
import { ALL_KINDS, NO_LAYER, OpKind, type TraceFault, type TraceSink } from './trace/ops.ts'

/**
 * The state of one sequence: KV caches and every buffer the forward pass needs, allocated once.
 * Shapes are in comments as (dimension, ...); B is the largest block of positions run at once.
 */
export class Sequence {
  readonly model: Model
  /** Next position to run. */
  pos = 0
  readonly maxBlock: number
  readonly vCache: Int32Array[] // per layer (ctx, kvDim)
  readonly k16: Int32Array[] // per layer (ctx, kvDim): keys reduced to 16 bits
  readonly kShift: Int32Array[] // per layer (ctx, nKvHeads): their shifts
  readonly x: Int32Array // (B, dim): the residual stream
  readonly xn: Int32Array // (B, dim)
  readonly q: Int32Array // (B, dim)
  readonly q16: Int32Array // (dim)
  readonly k: Int32Array // (B, kvDim)
  readonly v: Int32Array // (B, kvDim)
  readonly scores: Int32Array // (nHeads, ctx)
  readonly probs: Int32Array // (nHeads, ctx)
  readonly mix: Int32Array // (B, dim)
  readonly proj: Int32Array // (B, dim)
  readonly gate: Int32Array // (B, ffn)
  readonly up: Int32Array // (B, ffn)
  readonly hidden: Int32Array // (B, ffn)
  readonly logits: Int32Array // (vocab)
  private blockLogits: Int32Array | undefined // (B, vocab), for blocks with several heads
  readonly scaleM: Int32Array // (B): activation scales of a block's rows
  readonly scaleE: Int32Array // (B)
  readonly scale: Int32Array // (2): one row's [m, e] from the kernel's quantizeActivation
  readonly expTmp: Float64Array // (ctx)
  readonly mixAcc: Float64Array // (headDim)
  readonly invSqrt: number
  /** A fault to inject (cheater simulations); undefined on every honest run. */
  fault: TraceFault | undefined = undefined

  constructor(model: Model, maxPositions = model.config.contextLength) {
    const c = model.config
    const ctx = Math.min(maxPositions, c.contextLength)
    const kvDim = c.nKvHeads * c.headDim
    const B = model.scratch.maxBatch
    this.model = model
    this.maxBlock = B
    this.vCache = Array.from({ length: c.nLayers }, () => new Int32Array(ctx * kvDim))
    this.k16 = Array.from({ length: c.nLayers }, () => new Int32Array(ctx * kvDim))
    this.kShift = Array.from({ length: c.nLayers }, () => new Int32Array(ctx * c.nKvHeads))
    this.x = new Int32Array(B * c.dim)
    this.xn = new Int32Array(B * c.dim)
    this.q = new Int32Array(B * c.dim)
    this.q16 = new Int32Array(c.dim)
    this.k = new Int32Array(B * kvDim)
    this.v = new Int32Array(B * kvDim)
    this.scores = new Int32Array(c.nHeads * ctx)
    this.probs = new Int32Array(c.nHeads * ctx)
    this.mix = new Int32Array(B * c.dim)
    this.proj = new Int32Array(B * c.dim)
    this.gate = new Int32Array(B * c.ffnDim)
    this.up = new Int32Array(B * c.ffnDim)
    this.hidden = new Int32Array(B * c.ffnDim)
    this.logits = new Int32Array(c.vocabSize)
    this.scaleM = new Int32Array(B)
    this.scaleE = new Int32Array(B)
    this.scale = new Int32Array(2)
    this.expTmp = new Float64Array(ctx)
    this.mixAcc = new Float64Array(c.headDim)
    this.invSqrt = invSqrtQ16(c.headDim)
  }

  /** Logits of a block with several heads (see forwardBlockHeads), allocated on first use. */
  get headLogits(): Int32Array {
    this.blockLogits ??= new Int32Array(this.maxBlock * this.model.config.vocabSize)
    return this.blockLogits
  }

  get capacity(): number {
    return this.kShift[0]!.length / this.model.config.nKvHeads
  }
}

const noTrace: TraceSink = { kinds: 0, record() {} }

/** Sets or moves the faulted element in place (see TraceFault). */
export function applyFault(fault: TraceFault, vec: Int32Array, off: number, len: number): void {
  const { element, value, delta } = fault
  if (!Number.isInteger(element) || element < 0 || element >= len)
    throw new RangeError(`fault element ${element} is outside the op's ${len} elements`)
  vec[off + element] = value ?? sat32(vec[off + element]! + (delta ?? 0))
}

/**
 * Keeps a block's op outputs and hands them on in the trace's order (position by position),
 * since a block computes layer by layer across its positions. Only for sinks that need that order.
 */
class BlockSink implements TraceSink {
  readonly kinds: number
  private readonly first: number
  private readonly lists: { layer: number; kind: number; vec: Int32Array }[][]

  constructor(first: number, count: number, kinds: number) {
    this.first = first
    this.kinds = kinds
    this.lists = Array.from({ length: count }, () => [])
  }

  record(
    pos: number,
    layer: number,
    kind: number,
    vec: Int32Array,
    off: number,
    len: number,
  ): void {
    this.lists[pos - this.first]!.push({ layer, kind, vec: vec.slice(off, off + len) })
  }

  replay(sink: TraceSink): void {
    this.lists.forEach((list, i) => {
      for (const e of list) sink.record(this.first + i, e.layer, e.kind, e.vec, 0, e.vec.length)
    })
  }
}

/**
 * outs[i] (B, rows_i) = W_i x for each of the B rows of x (B, cols), the matrices sharing one
 * quantized input: each row quantized to int8 with its own scale, one int8 matvec (B = 1) or
 * matmul (B > 1, each weight row read once for the block) in the kernel, then requantized.
 */
function project(seq: Sequence, ws: QMatrix[], x: Int32Array, B: number, outs: Int32Array[]): void {
  const { kernel, scratch } = seq.model
  const ops = kernel.ops
  const cols = ws[0]!.cols
  let any = false
  for (let b = 0; b < B; b++) {
    if (ops) {
      ops.quantizeActivation(x, b * cols, cols, kernel.i8, scratch.xq + b * cols, seq.scale)
      seq.scaleM[b] = seq.scale[0]!
      seq.scaleE[b] = seq.scale[1]!
    } else {
      const [m, e] = quantizeActivation(x, b * cols, cols, kernel.i8, scratch.xq + b * cols)
      seq.scaleM[b] = m
      seq.scaleE[b] = e
    }
    any ||= seq.scaleM[b] !== 0
  }
  for (let i = 0; i < ws.length; i++) {
    const w = ws[i]!
    if (any) {
      if (B === 1) kernel.matvecI8(w.ptr, w.rows, cols, scratch.xq, scratch.acc)
      else kernel.matmulI8(w.ptr, w.rows, cols, scratch.xq, B, scratch.acc)
    }
    for (let b = 0; b < B; b++) {
      const accOff = (scratch.acc >> 2) + b * w.rows
      if (ops)
        ops.requantize(
          kernel.i32,
          accOff,
          w.rows,
          w.scaleM,
          w.scaleE,
          w.bias ?? null,
          seq.scaleM[b]!,
          seq.scaleE[b]!,
          outs[i]!,
          b * w.rows,
        )
      else requantize(w, kernel.i32, accOff, seq.scaleM[b]!, seq.scaleE[b]!, outs[i]!, b * w.rows)
    }
  }
}

/** RMSNorm with the kernel's op where it has one (the same bits). */
function norm(
  seq: Sequence,
  x: Int32Array,
  off: number,
  g: Int32Array,
  out: Int32Array,
  outOff: number,
): void {
  const { model } = seq
  const n = model.config.dim
  if (model.kernel.ops) model.kernel.ops.rmsnorm(x, off, n, g, model.epsQ, out, outOff)
  else rmsnorm(x, off, n, g, model.epsQ, out, outOff)
}

/** Runs one token at the sequence's next position; see forwardBlock. */
export function forwardToken(
  seq: Sequence,
  token: number,
  withLogits: boolean,
  sink: TraceSink = noTrace,
): Int32Array | undefined {
  return forwardBlock(seq, [token], withLogits, sink)
}

/**
 * Runs a block of tokens at the sequence's next positions (at most seq.maxBlock), layer by layer
 * across the block, and records every op output to `sink` in the trace's order: position by
 * position, in execution order within each. Integer results do not depend on the blocking, so a
 * block gives the same bits as one position at a time. With `withLogits`, also the final norm and
 * the logits of the block's last position (returned).
 */
export function forwardBlock(
  seq: Sequence,
  tokens: readonly number[],
  withLogits: boolean,
  sink: TraceSink = noTrace,
): Int32Array | undefined {
  runBlock(seq, tokens, withLogits ? seq.pos + tokens.length - 1 : Number.POSITIVE_INFINITY, sink)
  return withLogits ? seq.logits : undefined
}

/**
 * A block whose positions from `headsFrom` on all get the final norm and logits (one int8 matmul
 * over the output rows for all of them): a run with known tokens (rebuilding a position's trace)
 * runs generated positions as blocks too. Returns the logits, one row of vocab per head position,
 * in position order. The sink must not need the trace's order (samples come after the block).
 */
export function forwardBlockHeads(
  seq: Sequence,
  tokens: readonly number[],
  headsFrom: number,
  sink: TraceSink = noTrace,
): Int32Array {
  if (sink.kinds !== 0 && !sink.anyOrder)
    throw new RangeError('a block with several heads needs a sink that takes any order')
  const heads = runBlock(seq, tokens, headsFrom, sink)
  return heads === 1 ? seq.logits : seq.headLogits.subarray(0, heads * seq.model.config.vocabSize)
}

/** The forward pass of a block with heads at positions >= headsFrom; returns the head count. */
function runBlock(
  seq: Sequence,
  tokens: readonly number[],
  headsFrom: number,
  sink: TraceSink,
): number {
  const model = seq.model
  const c = model.config
  const B = tokens.length
  const pos0 = seq.pos
  if (B < 1 || B > seq.maxBlock)
    throw new RangeError(`a block holds 1 to ${seq.maxBlock} tokens, got ${B}`)
  if (pos0 + B > seq.capacity)
    throw new RangeError(`position ${pos0 + B - 1} is beyond the sequence capacity ${seq.capacity}`)
  for (const token of tokens) {
    if (!Number.isInteger(token) || token < 0 || token >= c.vocabSize)
      throw new RangeError(`token ${token} out of range`)
  }
  const { dim, headDim, nHeads, nKvHeads, ffnDim, ropeDim } = c
  const kvDim = nKvHeads * headDim
  const group = nHeads / nKvHeads
  const neox = c.ropeType === 'neox'
  const { x, xn, q, q16, k, v, scores, probs, mix, proj, gate, up, hidden } = seq
  const kinds = sink.kinds ?? ALL_KINDS
  const block = B > 1 && kinds !== 0 && !sink.anyOrder ? new BlockSink(pos0, B, kinds) : undefined
  const rec = block ?? sink
  const fault = seq.fault
  // The kernel's element-wise ops where it has them (native): the same bits as the ops here.
  const ops = model.kernel.ops
  // Every op output passes here once computed and before any later op reads it: the place to
  // inject a fault, and to skip the kinds the sink does not want.
  const out = (
    pos: number,
    layer: number,
    kind: number,
    v: Int32Array,
    off: number,
    len: number,
  ) => {
    if (fault !== undefined && fault.pos === pos && fault.layer === layer && fault.kind === kind)
      applyFault(fault, v, off, len)
    if ((kinds >>> kind) & 1) rec.record(pos, layer, kind, v, off, len)
  }

  // --- embedding
  for (let b = 0; b < B; b++) {
    embedRow(model.embed, model.kernel.i8, tokens[b]!, x, b * dim)
    out(pos0 + b, NO_LAYER, OpKind.EMBED, x, b * dim, dim)
  }

  for (let l = 0; l < c.nLayers; l++) {
    const L = model.layers[l]!
    const k16 = seq.k16[l]!
    const kShift = seq.kShift[l]!
    const vCache = seq.vCache[l]!
    // --- attention
    for (let b = 0; b < B; b++) {
      norm(seq, x, b * dim, L.attnNorm, xn, b * dim)
      out(pos0 + b, l, OpKind.ATTN_NORM, xn, b * dim, dim)
    }
    project(seq, [L.wq, L.wk, L.wv], xn, B, [q, k, v])
    for (let b = 0; b < B; b++) {
      const pos = pos0 + b
      out(pos, l, OpKind.Q, q, b * dim, dim)
      out(pos, l, OpKind.K, k, b * kvDim, kvDim)
      out(pos, l, OpKind.V, v, b * kvDim, kvDim)
      const rope = ropeAt(model, pos)
      applyRope(q, b * dim, nHeads, headDim, ropeDim, rope, neox)
      out(pos, l, OpKind.Q_ROPE, q, b * dim, dim)
      applyRope(k, b * kvDim, nKvHeads, headDim, ropeDim, rope, neox)
      out(pos, l, OpKind.K_ROPE, k, b * kvDim, kvDim)
      // The cache takes this position's key (reduced to 16 bits) and value; positions attend
      // only to keys at or before them, so later keys of the block are never read early.
      vCache.set(v.subarray(b * kvDim, (b + 1) * kvDim), pos * kvDim)
      for (let g = 0; g < nKvHeads; g++) {
        kShift[pos * nKvHeads + g] = reduce16(
          k,
          b * kvDim + g * headDim,
          headDim,
          k16,
          pos * kvDim + g * headDim,
        )
      }
    }
    for (let b = 0; b < B; b++) {
      const t = pos0 + b
      const n = t + 1
      if (ops) {
        ops.attentionScores(
          q,
          b * dim,
          k16,
          kShift,
          t,
          nHeads,
          nKvHeads,
          headDim,
          seq.invSqrt,
          scores,
        )
        out(t, l, OpKind.SCORES, scores, 0, nHeads * n)
        ops.softmaxRows(scores, nHeads, n, probs)
        out(t, l, OpKind.SOFTMAX, probs, 0, nHeads * n)
        ops.attentionMix(probs, vCache, t, nHeads, nKvHeads, headDim, mix, b * dim)
        out(t, l, OpKind.ATTN_MIX, mix, b * dim, dim)
        continue
      }
      for (let h = 0; h < nHeads; h++) {
        const g = Math.floor(h / group)
        const shq = reduce16(q, b * dim + h * headDim, headDim, q16, h * headDim)
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
      out(t, l, OpKind.SCORES, scores, 0, nHeads * n)
      for (let h = 0; h < nHeads; h++) softmax(scores, h * n, n, probs, seq.expTmp)
      out(t, l, OpKind.SOFTMAX, probs, 0, nHeads * n)
      for (let h = 0; h < nHeads; h++) {
        const g = Math.floor(h / group)
        mixValues(
          probs,
          h * n,
          vCache,
          kvDim,
          g * headDim,
          headDim,
          t,
          mix,
          b * dim + h * headDim,
          seq.mixAcc,
        )
      }
      out(t, l, OpKind.ATTN_MIX, mix, b * dim, dim)
    }
    project(seq, [L.wo], mix, B, [proj])
    for (let b = 0; b < B; b++) {
      out(pos0 + b, l, OpKind.ATTN_OUT, proj, b * dim, dim)
      for (let j = b * dim; j < (b + 1) * dim; j++) x[j] = sat32(x[j]! + proj[j]!)
      out(pos0 + b, l, OpKind.RESID_ATTN, x, b * dim, dim)
      // --- feed-forward
      norm(seq, x, b * dim, L.ffnNorm, xn, b * dim)
      out(pos0 + b, l, OpKind.FFN_NORM, xn, b * dim, dim)
    }
    project(seq, [L.wGate, L.wUp], xn, B, [gate, up])
    for (let b = 0; b < B; b++) {
      out(pos0 + b, l, OpKind.GATE, gate, b * ffnDim, ffnDim)
      out(pos0 + b, l, OpKind.UP, up, b * ffnDim, ffnDim)
      if (ops) ops.swiglu(gate, up, hidden, b * ffnDim, ffnDim)
      else swiglu(gate, up, hidden, b * ffnDim, ffnDim)
      out(pos0 + b, l, OpKind.SWIGLU, hidden, b * ffnDim, ffnDim)
    }
    project(seq, [L.wDown], hidden, B, [proj])
    for (let b = 0; b < B; b++) {
      out(pos0 + b, l, OpKind.DOWN, proj, b * dim, dim)
      for (let j = b * dim; j < (b + 1) * dim; j++) x[j] = sat32(x[j]! + proj[j]!)
      out(pos0 + b, l, OpKind.RESID_FFN, x, b * dim, dim)
    }
  }
  seq.pos = pos0 + B

  // --- head, for the block's positions from headsFrom on
  const first = Math.max(0, headsFrom - pos0)
  const heads = Math.max(0, B - first)
  if (heads > 0) {
    for (let i = 0; i < heads; i++) {
      norm(seq, x, (first + i) * dim, model.outputNorm, xn, i * dim)
      out(pos0 + first + i, NO_LAYER, OpKind.FINAL_NORM, xn, i * dim, dim)
    }
    const logits = heads === 1 ? seq.logits : seq.headLogits
    project(seq, [model.output], xn, heads, [logits])
    for (let i = 0; i < heads; i++)
      out(pos0 + first + i, NO_LAYER, OpKind.LOGITS, logits, i * c.vocabSize, c.vocabSize)
  }
  block?.replay(sink)
  return heads
}
