import { TraceError } from '../../errors/runtime.ts'
import { applyFault, forwardBlockHeads, Sequence } from '../forward.ts'
import {
  fanOut,
  type GenerateRequest,
  generate,
  generateSteps,
  validateRequest,
} from '../generate.ts'
import type { Model } from '../model/load.ts'
import { Prng } from '../sampler/prng.ts'
import { sample } from '../sampler/sample.ts'
import type {
  BoundaryOpening,
  CheckpointOpening,
  PositionLeafOpening,
  TraceContext,
  VectorInput,
} from './checks.ts'
import { CheckpointHasher, PositionTraceHasher, vecRoot } from './hasher.ts'
import { tokenAt } from './inputs.ts'
import { MerkleTree } from './merkle.ts'
import { type MixFinalProof, type MixStepProof, mixPartialSums, mixSumsTree } from './mix.ts'
import {
  type OneStepContext,
  type OneStepProof,
  oneStepVectors,
  oneStepWeights,
} from './onestep.ts'
import { openElement, openWeight } from './open.ts'
import { kindMask, NO_LAYER, OpKind, opIdBytes, type TraceFault, type TraceSink } from './ops.ts'
import {
  boundaryIndexOf,
  boundaryOpAt,
  positionOpAt,
  positionOpIndex,
  shapeOf,
  type TraceShape,
} from './schedule.ts'

/**
 * The prover's side of the dispute game: re-runs a request (deterministic, so a miner keeps only
 * the request and its seed) and builds the openings the checks in checks.ts, onestep.ts and
 * mix.ts verify. `request.maxTokens` must be the number of tokens the receipt covers (a run
 * ended by a text stop sequence is the run with maxTokens = its token count).
 */

/** Copies of the boundary ops of every position (k_rope, v, sample), by (pos, boundary index). */
class BoundaryCapture implements TraceSink {
  readonly kinds = kindMask(OpKind.K_ROPE, OpKind.V, OpKind.SAMPLE)
  readonly anyOrder = true
  readonly vectors = new Map<string, Int32Array>()
  private readonly model: Model

  constructor(model: Model) {
    this.model = model
  }

  record(pos: number, layer: number, kind: number, vec: Int32Array, off: number, len: number) {
    const j = boundaryIndexOf(this.model.config, layer, kind)
    this.vectors.set(`${pos}/${j}`, vec.slice(off, off + len))
  }
}

/** Copies of every op output of one position, by index in R_p. */
class PositionCapture implements TraceSink {
  readonly anyOrder = true
  readonly vectors: Int32Array[] = []
  private readonly model: Model
  private readonly pos: number

  constructor(model: Model, pos: number) {
    this.model = model
    this.pos = pos
  }

  record(pos: number, layer: number, kind: number, vec: Int32Array, off: number, len: number) {
    if (pos !== this.pos) return
    this.vectors[positionOpIndex(this.model.config, layer, kind)] = vec.slice(off, off + len)
  }
}

export type ReplayOptions = {
  /** The position whose trace R_p (every op output) is rebuilt too. */
  position?: number
  /** Replays a cheater's run (see TraceFault). */
  fault?: TraceFault
}

/**
 * What a party knows of a run once it has re-run it: every checkpoint and boundary op, and, for
 * one position, every op output and R_p. Builds every opening the game asks of that party.
 */
export class TraceReplay {
  readonly model: Model
  readonly request: GenerateRequest
  readonly tokens: number[]
  readonly shape: TraceShape
  readonly traceRoot: Uint8Array
  /** The tree over c_0 .. c_{P-1}. */
  readonly checkpoints: MerkleTree
  private readonly boundaryLeaves: Uint8Array[]
  private readonly boundaryTrees = new Map<number, MerkleTree>()
  private readonly boundaryVectors: Map<string, Int32Array>
  /** The position rebuilt in full, its R_p tree and op outputs (by index). */
  readonly position: { pos: number; tree: MerkleTree; vectors: Int32Array[] } | undefined

  constructor(model: Model, request: GenerateRequest, options: ReplayOptions = {}) {
    this.model = model
    this.request = request
    const hasher = new CheckpointHasher(model)
    const boundary = new BoundaryCapture(model)
    const sinks: TraceSink[] = [hasher, boundary]
    const { position: pos } = options
    const positionHasher =
      pos === undefined ? undefined : new PositionTraceHasher(model, (p) => p === pos)
    const positionCapture = pos === undefined ? undefined : new PositionCapture(model, pos)
    if (positionHasher && positionCapture) sinks.push(positionHasher, positionCapture)
    const result = generate(
      model,
      request,
      options.fault
        ? { trace: false, sink: fanOut(sinks), fault: options.fault }
        : { trace: false, sink: fanOut(sinks) },
    )
    this.tokens = result.tokens
    this.shape = shapeOf(request.promptTokens.length, hasher.count)
    const cks = hasher.checkpoints()
    this.checkpoints = new MerkleTree(cks, hasher.count)
    this.traceRoot = this.checkpoints.root
    this.boundaryLeaves = Array.from({ length: hasher.count }, (_, p) => hasher.boundaryLeaves(p))
    this.boundaryVectors = boundary.vectors
    if (pos !== undefined && positionHasher && positionCapture) {
      if (!positionHasher.positions().includes(pos))
        throw new TraceError(`position ${pos} is outside the trace (${hasher.count} positions)`)
      const leaves = positionHasher.leaves(pos)
      this.position = {
        pos,
        tree: new MerkleTree(leaves, leaves.length / 32),
        vectors: positionCapture.vectors,
      }
    } else {
      this.position = undefined
    }
  }

  get positions(): number {
    return this.checkpoints.count
  }

  /** The context a verifier builds from this party's receipt (its traceRoot). */
  context(): TraceContext {
    return { config: this.model.config, shape: this.shape, traceRoot: this.traceRoot }
  }

  /** The one-step context with this party's R_p as the posted one. */
  oneStepContext(): OneStepContext {
    return {
      ...this.context(),
      modelRoot: this.model.modelRoot,
      positionRoot: this.full().tree.root,
      request: this.request,
    }
  }

  private boundaryTree(pos: number): MerkleTree {
    let tree = this.boundaryTrees.get(pos)
    if (!tree) {
      const leaves = this.boundaryLeaves[pos]
      if (!leaves) throw new TraceError(`position ${pos} is outside the trace`)
      tree = new MerkleTree(leaves, leaves.length / 32)
      this.boundaryTrees.set(pos, tree)
    }
    return tree
  }

  private full(): { pos: number; tree: MerkleTree; vectors: Int32Array[] } {
    if (!this.position) throw new TraceError('this replay rebuilt no position trace')
    return this.position
  }

  /** R_p of the rebuilt position. */
  get positionRoot(): Uint8Array {
    return this.full().tree.root
  }

  checkpoint(pos: number): CheckpointOpening {
    const tree = this.boundaryTree(pos)
    return {
      pos,
      boundaryCount: tree.count,
      boundaryRoot: tree.root,
      proof: this.checkpoints.proof(pos),
    }
  }

  boundaryVector(pos: number, j: number): Int32Array {
    const v = this.boundaryVectors.get(`${pos}/${j}`)
    if (!v) throw new TraceError(`no boundary leaf ${j} at position ${pos}`)
    return v
  }

  boundary(pos: number, j: number): BoundaryOpening {
    const op = boundaryOpAt(this.model.config, this.shape, pos, j)
    const tree = this.boundaryTree(pos)
    return {
      pos,
      index: j,
      opId: opIdBytes(pos, op.layer, op.kind, op.length),
      vecRoot: vecRoot(this.boundaryVector(pos, j)),
      proof: tree.proof(j),
      checkpoint: this.checkpoint(pos),
    }
  }

  /** Op `index` of the rebuilt position's trace. */
  positionVector(index: number): Int32Array {
    const v = this.full().vectors[index]
    if (!v) throw new TraceError(`op ${index} was not recorded`)
    return v
  }

  positionLeaf(index: number): PositionLeafOpening {
    const { pos, tree } = this.full()
    const op = positionOpAt(this.model.config, this.shape, pos, index)
    return {
      pos,
      index,
      opId: opIdBytes(pos, op.layer, op.kind, op.length),
      vecRoot: vecRoot(this.positionVector(index)),
      proof: tree.proof(index),
    }
  }

  /** The binding move for boundary leaf j of the rebuilt position. */
  binding(j: number): { boundary: BoundaryOpening; leaf: PositionLeafOpening } {
    const boundary = this.boundary(this.full().pos, j)
    const op = boundaryOpAt(this.model.config, this.shape, boundary.pos, j)
    return {
      boundary,
      leaf: this.positionLeaf(positionOpIndex(this.model.config, op.layer, op.kind)),
    }
  }

  /** An input vector as the one-step check takes it, proven where the schedule puts it. */
  vectorInput(pos: number, layer: number, kind: number): VectorInput {
    const { config } = this.model
    const full = this.full()
    if (pos === full.pos) {
      const index = positionOpIndex(config, layer, kind)
      return { vector: this.positionVector(index), proof: full.tree.proof(index) }
    }
    const j = boundaryIndexOf(config, layer, kind)
    return {
      vector: this.boundaryVector(pos, j),
      proof: this.boundaryTree(pos).proof(j),
      checkpoint: this.checkpoint(pos),
    }
  }

  /** Everything the one-step check of element `element` of op `index` needs. */
  oneStepProof(index: number, element: number): OneStepProof {
    const { config } = this.model
    const { pos, tree } = this.full()
    const op = positionOpAt(config, this.shape, pos, index)
    const refs = oneStepVectors(config, this.shape, pos, index, element)
    const vector = this.positionVector(index)
    const vectors = refs.map((r) => this.vectorInput(r.pos, r.layer, r.kind))
    const vectorAt = (p: number, l: number, k: number) => this.vectorInput(p, l, k).vector
    const token = op.kind === OpKind.EMBED ? tokenAt(this.request, vectorAt, pos) : 0
    const weights = oneStepWeights(op.kind, op.layer, element, token).map((ref) =>
      openWeight(this.model, ref, element),
    )
    return {
      pos,
      index,
      claim: openElement(vector, element),
      claimProof: tree.proof(index),
      vectors,
      weights,
    }
  }

  /** The honest partial sums of attn_mix element `element` at (rebuilt position, layer). */
  mixSums(layer: number, element: number): number[] {
    const { config } = this.model
    const pos = this.full().pos
    const n = pos + 1
    const h = Math.floor(element / config.headDim)
    const j = element % config.headDim
    const g = Math.floor(h / (config.nHeads / config.nKvHeads))
    const probs = this.vectorInput(pos, layer, OpKind.SOFTMAX).vector.subarray(h * n, (h + 1) * n)
    const values = Array.from(
      { length: n },
      (_, s) => this.vectorInput(s, layer, OpKind.V).vector[g * config.headDim + j]!,
    )
    return mixPartialSums(probs, values)
  }

  private mixClaim(layer: number, element: number) {
    const { pos, tree } = this.full()
    const index = positionOpIndex(this.model.config, layer, OpKind.ATTN_MIX)
    return {
      pos,
      layer,
      element,
      claim: openElement(this.positionVector(index), element),
      claimProof: tree.proof(index),
    }
  }

  /** The final check of the sub-trace, over `sums` (the honest ones by default). */
  mixFinalProof(
    layer: number,
    element: number,
    sums = this.mixSums(layer, element),
  ): MixFinalProof {
    const tree = mixSumsTree(sums)
    const s = sums.length - 1
    return {
      ...this.mixClaim(layer, element),
      accRoot: tree.root,
      last: { s, acc: sums[s]!, proof: tree.proof(s) },
    }
  }

  /** Step s of the sub-trace over `sums` (the honest ones by default). */
  mixStepProof(
    layer: number,
    element: number,
    s: number,
    sums = this.mixSums(layer, element),
  ): MixStepProof {
    const { config } = this.model
    const pos = this.full().pos
    const tree = mixSumsTree(sums)
    const h = Math.floor(element / config.headDim)
    const g = Math.floor(h / (config.nHeads / config.nKvHeads))
    const probs = this.vectorInput(pos, layer, OpKind.SOFTMAX)
    const values = this.vectorInput(s, layer, OpKind.V)
    const step: MixStepProof = {
      ...this.mixClaim(layer, element),
      s,
      current: { s, acc: sums[s]!, proof: tree.proof(s) },
      prob: { opening: openElement(probs.vector, h * (pos + 1) + s), proof: probs.proof },
      value: {
        opening: openElement(values.vector, g * config.headDim + (element % config.headDim)),
        proof: values.proof,
        ...(values.checkpoint ? { checkpoint: values.checkpoint } : {}),
      },
    }
    if (s > 0) step.previous = { s: s - 1, acc: sums[s - 1]!, proof: tree.proof(s - 1) }
    return step
  }
}

/** Re-runs a request and keeps what its openings need (see TraceReplay). */
export function replayTrace(
  model: Model,
  request: GenerateRequest,
  options: ReplayOptions = {},
): TraceReplay {
  return new TraceReplay(model, request, options)
}

/**
 * R_p alone, as a party computes it when the game reaches position p: the request re-run up to
 * p (untraced before it), every op output of p hashed. With `tokens` (the party's own output, which
 * it knows from answering or checking), positions are fed those tokens and run in blocks, each
 * with its logits where the trace has them, and the sampler checks each token as it goes: about
 * prefill speed instead of one decode step per generated token. Without, the request is generated
 * again up to p.
 */
export function positionTrace(
  model: Model,
  request: GenerateRequest,
  pos: number,
  options: { fault?: TraceFault; tokens?: readonly number[] } = {},
): { root: Uint8Array; leaves: Uint8Array } {
  validateRequest(model, request)
  const hasher = new PositionTraceHasher(model, (p) => p === pos)
  if (options.tokens) runKnownTokens(model, request, pos, options.tokens, hasher, options.fault)
  else {
    const steps = generateSteps(
      model,
      request,
      options.fault
        ? { trace: false, sink: hasher, fault: options.fault }
        : { trace: false, sink: hasher },
    )
    // Position p is complete once its sample is taken (or, before the last prompt position, once
    // the prompt has run, which the first sample follows).
    const samplesNeeded = Math.max(1, pos - request.promptTokens.length + 2)
    for (let taken = 0; taken < samplesNeeded; taken++) if (steps.next().done) break
  }
  if (!hasher.positions().includes(pos))
    throw new TraceError(`position ${pos} is outside the trace`)
  return { root: hasher.root(pos), leaves: hasher.leaves(pos) }
}

/**
 * Positions 0..last fed the prompt then `tokens`, in blocks with a head at every sampling
 * position, sampled in order as generate samples (same PRNG, same fault handling); every sampled
 * token must be the one given.
 */
function runKnownTokens(
  model: Model,
  request: GenerateRequest,
  last: number,
  tokens: readonly number[],
  sink: TraceSink,
  fault: TraceFault | undefined,
): void {
  // The known-token path samples without a mask; the dispute game refuses such requests anyway.
  if (request.responseFormat !== undefined)
    throw new TraceError('a constrained (response_format) run has no known-token position trace')
  const { vocabSize } = model.config
  const T = request.promptTokens.length
  const feed = [...request.promptTokens, ...tokens]
  if (!Number.isSafeInteger(last) || last < 0 || last >= feed.length - 1)
    throw new TraceError(`position ${last} is outside the trace (${feed.length - 1} positions)`)
  const seq = new Sequence(model, last + 1)
  seq.fault = fault
  const prng = new Prng(request.seed)
  const order = new Int32Array(vocabSize)
  const weights = new Float64Array(vocabSize)
  const sampled = new Int32Array(5)
  for (let start = 0; start <= last; start += seq.maxBlock) {
    const block = feed.slice(start, Math.min(start + seq.maxBlock, last + 1))
    const logits = forwardBlockHeads(seq, block, T - 1, sink)
    const firstHead = Math.max(start, T - 1)
    for (let q = firstHead; q < start + block.length; q++) {
      const row = logits.subarray((q - firstHead) * vocabSize, (q - firstHead + 1) * vocabSize)
      let token = sample(row, request.params, prng, order, weights)
      sampled[0] = token
      for (let i = 0; i < 4; i++) sampled[i + 1] = prng.s[i]! | 0
      if (fault?.kind === OpKind.SAMPLE && fault.pos === q) {
        applyFault(fault, sampled, 0, 5)
        token = sampled[0]!
        for (let i = 0; i < 4; i++) prng.s[i] = sampled[i + 1]! >>> 0
      }
      sink.record(q, NO_LAYER, OpKind.SAMPLE, sampled, 0, 5)
      if (token !== feed[q + 1])
        throw new TraceError(
          `the run samples token ${token} at position ${q}, not the ${feed[q + 1]} given`,
        )
    }
  }
}
