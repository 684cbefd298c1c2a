import { type Hex, hexToBytes, toHex } from 'viem'
import type { GetDisputeReturnType } from '../../chain/actions/getDispute.ts'
import type { DisputeLog } from '../../chain/actions/getDisputeLog.ts'
import { DisputePhase } from '../../chain/dispute.ts'
import type { GenerateRequest } from '../../runtime/generate.ts'
import type { Model } from '../../runtime/model/load.ts'
import { Prng } from '../../runtime/sampler/prng.ts'
import { traceLeaf, vecChunks, vecRoot } from '../../runtime/trace/hasher.ts'
import { bytesEqual, MerkleTree } from '../../runtime/trace/merkle.ts'
import type { TraceFault } from '../../runtime/trace/ops.ts'
import { replayTrace, type TraceReplay } from '../../runtime/trace/replay.ts'
import { boundaryCount, positionOpAt } from '../../runtime/trace/schedule.ts'
import type { SumOpeningsArg } from './openings.ts'
import { compactFromFull, type StepProofArg, stepProof, type TraceData } from './openings.ts'
import {
  chunkTree,
  compactProof,
  hexes,
  levelNodes,
  nodeKey,
  type TreeNodes,
  treeNodes,
  withRevealed,
} from './proofs.ts'
import {
  bentLast,
  partialSums,
  SumKind,
  type SumTerms,
  sumFinal,
  sumFinalOpenings,
  sumKindOf,
  sumMaxOpenings,
  sumsTree,
  sumTermOpenings,
  sumTerms,
} from './sums.ts'

/**
 * A dispute player: pure logic that, from a dispute's on-chain state (the `dispute` view and
 * its events, getDisputeLog), computes the next move of one side, miner or challenger. It keeps
 * no state of its own beyond caches of re-runs: a node that restarts builds a new player from
 * the request it kept and resumes from the chain. Moves are plain data (DisputeMove) that
 * `sendMove` turns into the chain actions.
 *
 * The miner answers from the run it signed (`fault` replays a cheater's run, for simulations);
 * the challenger plays its own honest run and, at every level, names the first part where the
 * miner's revealed data differs from it. A `liar` challenger (tests) picks at random instead.
 */

export type DisputeRole = 'miner' | 'challenger'

export type DisputeView = { dispute: GetDisputeReturnType; log: DisputeLog }

export type DisputeMove =
  | { kind: 'revealChildren'; nodes: Hex[] }
  | { kind: 'chooseChild'; index: bigint; child: Hex; proof: Hex[] }
  | { kind: 'postPosition'; positionRoot: Hex; boundaryLeaves: Hex[]; left: Hex; right: Hex }
  | { kind: 'challengeBinding'; j: bigint }
  | { kind: 'proveBinding'; leaf: Hex; boundaryProof: Hex[]; positionProof: Hex[] }
  | { kind: 'revealLeaf'; vecRoot: Hex; nodes: Hex[] }
  | { kind: 'oneStep'; proof: StepProofArg }
  | { kind: 'startSum'; lane: bigint }
  | {
      kind: 'postSum'
      accRoot: Hex
      last: bigint
      lastProof: Hex[]
      openings: SumOpeningsArg
      nodes: Hex[]
    }
  | { kind: 'sumStep'; previous: bigint; previousProof: Hex[]; openings: SumOpeningsArg }
  | { kind: 'disputeSumMax'; openings: SumOpeningsArg }
  | {
      kind: 'proveOutput'
      boundaryRoot: Hex
      checkpointProof: Hex[]
      sample: Hex
      boundaryProof: Hex[]
    }

export type PlayerOptions = {
  model: Model
  /** The request as the runtime runs it; maxTokens = the number of tokens the receipt covers. */
  request: GenerateRequest
  role: DisputeRole
  /** The game's `partElements`: parts of long projections and softmax rows. */
  partElements: number
  /** A cheater's run (the one it signed): one op output element changed as it is computed. */
  fault?: TraceFault
  /** A challenger that names random parts instead of differing ones (tests), seeded. */
  liar?: { seed: number }
  /**
   * A lazy cheater (tests): posts the honest R_p beside the checkpoint of its faulted run, which
   * the binding move exposes.
   */
  lazy?: boolean
}

/** Whether the miner moves in this state (DisputeGame `minerToMove`). */
export function minerToMove(d: { phase: number; revealed: boolean }): boolean {
  switch (d.phase) {
    case DisputePhase.BISECT:
    case DisputePhase.BISECT2:
    case DisputePhase.CHUNKS:
    case DisputePhase.SUM_BISECT:
      return !d.revealed
    case DisputePhase.POSITION:
    case DisputePhase.BINDING:
    case DisputePhase.LEAF:
    case DisputePhase.SUM_POST:
    case DisputePhase.OUTPUT:
      return true
    default:
      return false
  }
}

/** Levels one reveal covers in a phase (DisputeGame `fanOut`). */
export function fanOut(phase: number, height: number): number {
  const k = phase === DisputePhase.CHUNKS || phase === DisputePhase.SUM_BISECT ? 8 : 1
  return Math.min(height, k)
}

const bytes = (h: Hex) => hexToBytes(h)

export class DisputePlayer {
  readonly options: PlayerOptions
  private readonly replays = new Map<number, TraceReplay>()
  private whole: TraceReplay | undefined
  private readonly rng: Prng | undefined
  /** The partial sums this side computed for the dispute's sum (miner: possibly bent). */
  private sums: { key: string; tree: MerkleTree; terms: SumTerms } | undefined

  constructor(options: PlayerOptions) {
    this.options = options
    this.rng = options.liar ? new Prng(options.liar.seed) : undefined
  }

  /** The run without any position rebuilt: checkpoints, boundary ops, tokens. */
  run(): TraceReplay {
    if (!this.whole) {
      // Any rebuilt position of this side's own run has every checkpoint too.
      const first = [...this.replays].find(([p]) => p >= 0)?.[1]
      this.whole =
        first ??
        replayTrace(
          this.options.model,
          this.options.request,
          this.options.fault ? { fault: this.options.fault } : {},
        )
    }
    return this.whole
  }

  /** The run with position p's trace R_p rebuilt. */
  at(p: number): TraceReplay {
    let r = this.replays.get(p)
    if (!r) {
      const { model, request, fault } = this.options
      r = replayTrace(model, request, fault ? { fault, position: p } : { position: p })
      this.replays.set(p, r)
    }
    return r
  }

  /** The run whose R_p this side posts: its own, or a lazy cheater's honest one. */
  private positionRun(p: number): TraceReplay {
    if (!this.options.lazy) return this.at(p)
    const key = -1 - p
    let r = this.replays.get(key)
    if (!r) {
      r = replayTrace(this.options.model, this.options.request, { position: p })
      this.replays.set(key, r)
    }
    return r
  }

  /** The next move of this side, or undefined when it is not its turn or it has none. */
  nextMove(view: DisputeView): DisputeMove | undefined {
    const d = view.dispute
    if (d.phase === DisputePhase.NONE || d.phase === DisputePhase.DONE) return undefined
    const minerMoves = minerToMove(d)
    if (minerMoves !== (this.options.role === 'miner')) return undefined
    return minerMoves ? this.minerMove(view) : this.challengerMove(view)
  }

  /* MINER */

  private minerMove(view: DisputeView): DisputeMove | undefined {
    const d = view.dispute
    const h = d.height
    const i = Number(d.index)
    switch (d.phase) {
      case DisputePhase.BISECT:
        return { kind: 'revealChildren', nodes: children(treeNodes(this.run().checkpoints), h, i) }
      case DisputePhase.POSITION: {
        const r = this.at(d.pos)
        const tree = treeNodes(this.positionRun(d.pos).position!.tree)
        const [left, right] = children(tree, tree.height, 0) as [Hex, Hex]
        const n = boundaryCount(this.options.model.config, r.shape, d.pos)
        return {
          kind: 'postPosition',
          positionRoot: toHex(this.positionRun(d.pos).positionRoot),
          boundaryLeaves: Array.from({ length: n }, (_, j) => {
            const b = r.boundary(d.pos, j)
            return toHex(traceLeaf(b.opId, b.vecRoot))
          }),
          left,
          right,
        }
      }
      case DisputePhase.BISECT2:
        return {
          kind: 'revealChildren',
          nodes: children(treeNodes(this.positionRun(d.pos).position!.tree), h, i),
        }
      case DisputePhase.BINDING: {
        const r = this.at(d.pos)
        const boundary = r.binding(d.element).boundary
        const leaf = this.positionRun(d.pos).binding(d.element).leaf
        if (!bytesEqual(boundary.vecRoot, leaf.vecRoot)) return undefined // its c_p and R_p differ
        return {
          kind: 'proveBinding',
          leaf: toHex(traceLeaf(leaf.opId, leaf.vecRoot)),
          boundaryProof: hexes(
            compactFromFull(boundary.proof, d.element, boundary.checkpoint.boundaryCount),
          ),
          positionProof: hexes(compactFromFull(leaf.proof, leaf.index, r.position!.tree.count)),
        }
      }
      case DisputePhase.LEAF: {
        const vector = this.at(d.pos).positionVector(d.op)
        const tree = treeNodes(chunkTree(vector).tree)
        const k = Math.min(tree.height, 8)
        return {
          kind: 'revealLeaf',
          vecRoot: toHex(vecRoot(vector)),
          nodes: tree.height === 0 ? [] : levelNodes(tree, tree.height - k, 0, 2 ** k),
        }
      }
      case DisputePhase.CHUNKS: {
        const tree = treeNodes(chunkTree(this.at(d.pos).positionVector(d.op)).tree)
        return { kind: 'revealChildren', nodes: wideChildren(tree, h, i, fanOut(d.phase, h)) }
      }
      case DisputePhase.SUM_POST:
        return this.postSum(view)
      case DisputePhase.SUM_BISECT: {
        const sums = this.ownSums(view)
        if (!sums) return undefined
        return {
          kind: 'revealChildren',
          nodes: wideChildren(treeNodes(sums.tree), h, i, fanOut(d.phase, h)),
        }
      }
      case DisputePhase.OUTPUT:
        return this.proveOutput(view)
      default:
        return undefined
    }
  }

  /** The partial sums this side stands by: its own terms; a miner whose claim they do not give bends the last. */
  private ownSums(view: DisputeView): { tree: MerkleTree; terms: SumTerms } | undefined {
    const d = view.dispute
    const key = `${d.pos}/${d.op}/${d.element}`
    if (this.sums?.key === key) return this.sums
    const data = this.data(view)
    const terms = sumTerms(data, d.op, d.element, this.options.partElements)
    const sums = partialSums(terms.terms)
    if (this.options.role === 'miner') {
      const claimed = data.positionVector(d.op)[d.element]!
      if (sumFinal(data, d.op, d.element, terms, sums[sums.length - 1]!) !== claimed) {
        const last = bentLast(data, d.op, d.element, terms, claimed)
        if (last === undefined) return undefined
        sums[sums.length - 1] = last
      }
    }
    this.sums = { key, tree: sumsTree(sums), terms }
    return this.sums
  }

  private postSum(view: DisputeView): DisputeMove | undefined {
    const d = view.dispute
    const own = this.ownSums(view)
    if (!own) return undefined
    const tree = treeNodes(own.tree)
    const n = own.tree.count
    const last = sumAt(own.tree, n - 1)
    const k = Math.min(tree.height, 8)
    return {
      kind: 'postSum',
      accRoot: toHex(own.tree.root),
      last,
      lastProof: hexes(compactProof(tree, n - 1)),
      openings: sumFinalOpenings(this.data(view), d.op, d.element, own.terms),
      nodes: tree.height === 0 ? [] : levelNodes(tree, tree.height - k, 0, 2 ** k),
    }
  }

  private proveOutput(view: DisputeView): DisputeMove | undefined {
    const output = view.log.output
    if (!output) return undefined
    const { config } = this.options.model
    const r = this.run()
    const pos = this.options.request.promptTokens.length - 1 + Number(output.index)
    const j = 2 * config.nLayers
    const sample = r.boundaryVector(pos, j)
    if (sample[0] !== Number(output.token)) return undefined // its trace sampled another token
    const b = r.boundary(pos, j)
    return {
      kind: 'proveOutput',
      boundaryRoot: toHex(b.checkpoint.boundaryRoot),
      checkpointProof: hexes(compactFromFull(b.checkpoint.proof, pos, r.positions)),
      sample: toHex(vecChunks(sample)),
      boundaryProof: hexes(compactFromFull(b.proof, j, b.checkpoint.boundaryCount)),
    }
  }

  /* CHALLENGER */

  private challengerMove(view: DisputeView): DisputeMove | undefined {
    const d = view.dispute
    const h = d.height
    const i = Number(d.index)
    switch (d.phase) {
      case DisputePhase.BISECT: {
        const revealed = this.revealed(view, DisputePhase.BISECT)
        return this.choose(revealed, treeNodes(this.run().checkpoints), h, i, 1)
      }
      case DisputePhase.BISECT2: {
        const r = this.at(d.pos)
        const own = treeNodes(r.position!.tree)
        const atRoot = h === own.height && i === 0
        if (atRoot) {
          const binding = this.bindingIndex(view, r)
          if (binding !== undefined) return { kind: 'challengeBinding', j: BigInt(binding) }
        }
        return this.choose(this.revealed(view, DisputePhase.BISECT2), own, h, i, 1)
      }
      case DisputePhase.CHUNKS: {
        const own = treeNodes(chunkTree(this.at(d.pos).positionVector(d.op)).tree)
        return this.choose(this.revealed(view, DisputePhase.CHUNKS), own, h, i, fanOut(d.phase, h))
      }
      case DisputePhase.STEP:
        return this.step(view)
      case DisputePhase.SUM_BISECT: {
        const own = this.ownSums(view)
        if (!own) return undefined
        const broken = this.maxDispute(view, own.terms)
        if (broken) return broken
        return this.choose(
          this.revealed(view, DisputePhase.SUM_BISECT),
          treeNodes(own.tree),
          h,
          i,
          fanOut(d.phase, h),
        )
      }
      case DisputePhase.SUM_STEP:
        return this.sumStep(view)
      default:
        return undefined
    }
  }

  private revealed(view: DisputeView, phase: number): Map<string, Uint8Array> {
    const out = new Map<string, Uint8Array>()
    for (const [k, v] of view.log.revealed.get(phase) ?? []) out.set(k, bytes(v))
    return out
  }

  /**
   * At a revealed level: the first node that differs from this side's own tree (a liar: any
   * node over real leaves), with its siblings among the revealed nodes.
   */
  private choose(
    revealed: Map<string, Uint8Array>,
    own: TreeNodes,
    h: number,
    i: number,
    k: number,
  ): DisputeMove | undefined {
    const below = h - k
    const first = i * 2 ** k
    const nodes: Uint8Array[] = []
    for (let j = 0; j < 2 ** k; j++) {
      const n = revealed.get(nodeKey(below, first + j))
      if (!n) return undefined // not revealed yet
      nodes.push(n)
    }
    const real = nodes.map((_, j) => (first + j) * 2 ** below < own.count)
    let pick = -1
    if (this.rng) {
      const choices = real.flatMap((ok, j) => (ok ? [j] : []))
      pick = choices[this.rng.below(choices.length)]!
    } else {
      pick = nodes.findIndex((n, j) => real[j] && !bytesEqual(n, own.node(below, first + j)))
      if (pick < 0) return undefined // nothing differs: no valid claim
    }
    const level = new MerkleTree(concat(nodes), nodes.length)
    return {
      kind: 'chooseChild',
      index: BigInt(pick),
      child: toHex(nodes[pick]!),
      proof: hexes(level.proof(pick)),
    }
  }

  /** A boundary leaf the miner posted that its (honest) R_p cannot hold, if R_p is honest. */
  private bindingIndex(view: DisputeView, r: TraceReplay): number | undefined {
    const d = view.dispute
    const posted = view.log.boundaryLeaves ?? []
    if (this.rng) return this.rng.below(3) === 0 ? this.rng.below(posted.length) : undefined
    if (d.positionRoot.toLowerCase() !== toHex(r.positionRoot)) return undefined
    for (let j = 0; j < posted.length; j++) {
      const b = r.boundary(d.pos, j)
      if (posted[j]!.toLowerCase() !== toHex(traceLeaf(b.opId, b.vecRoot))) return j
    }
    return undefined
  }

  /** What this side proves with: its own run, under the miner's trees as revealed. */
  private data(view: DisputeView): TraceData {
    const d = view.dispute
    const r = this.at(d.pos)
    const miner = this.options.role === 'miner'
    const positionTree = miner
      ? treeNodes(r.position!.tree)
      : withRevealed(treeNodes(r.position!.tree), this.revealed(view, DisputePhase.BISECT2))
    const checkpointTree = miner
      ? treeNodes(r.checkpoints)
      : withRevealed(treeNodes(r.checkpoints), this.revealed(view, DisputePhase.BISECT))
    return {
      model: this.options.model,
      shape: r.shape,
      request: this.options.request,
      pos: d.pos,
      positionVector: (index) => r.positionVector(index),
      boundaryVector: (s, j) => r.boundaryVector(s, j),
      positionTree,
      checkpointTree,
      boundaryProof: (s, j) => {
        const b = r.boundary(s, j)
        return {
          root: b.checkpoint.boundaryRoot,
          proof: compactFromFull(b.proof, j, b.checkpoint.boundaryCount),
        }
      },
    }
  }

  private step(view: DisputeView): DisputeMove | undefined {
    const d = view.dispute
    const { config } = this.options.model
    const r = this.at(d.pos)
    const own = r.positionVector(d.op)
    const chunk = bytes(d.chunk)
    const base = Number(d.index) * 8
    const view32 = new DataView(chunk.buffer, chunk.byteOffset, 32)
    let lane = -1
    if (this.rng) lane = this.rng.below(8)
    else
      for (let l = 0; l < 8; l++) {
        const mine = base + l < own.length ? own[base + l]! : 0
        if (view32.getInt32(4 * l, true) !== mine) {
          lane = l
          break
        }
      }
    if (lane < 0) return undefined
    const element = base + lane
    const op = positionOpAt(config, r.shape, d.pos, d.op)
    if (element < op.length && sumKindOf(config, d.pos, op.kind, this.options.partElements) !== 0)
      return { kind: 'startSum', lane: BigInt(lane) }
    return { kind: 'oneStep', proof: stepProof(this.data(view), d.op, element) }
  }

  /** A projection or softmax sum whose posted maximum is not the input's: show the real one. */
  private maxDispute(view: DisputeView, terms: SumTerms): DisputeMove | undefined {
    const d = view.dispute
    if (terms.sum === SumKind.MIX || this.rng) return undefined
    if (BigInt(terms.param) === d.sumParam) return undefined
    return {
      kind: 'disputeSumMax',
      openings: sumMaxOpenings(this.data(view), d.op, d.element, terms),
    }
  }

  private sumStep(view: DisputeView): DisputeMove | undefined {
    const d = view.dispute
    const own = this.ownSums(view)
    if (!own) return undefined
    const broken = this.maxDispute(view, own.terms)
    if (broken) return broken
    const s = Number(d.index)
    const mine = withRevealed(treeNodes(own.tree), this.revealed(view, DisputePhase.SUM_BISECT))
    return {
      kind: 'sumStep',
      previous: s === 0 ? 0n : sumAt(own.tree, s - 1),
      previousProof: s === 0 ? [] : hexes(compactProof(mine, s - 1)),
      openings: sumTermOpenings(
        this.data(view),
        d.op,
        d.element,
        own.terms.sum,
        s,
        this.options.partElements,
      ),
    }
  }
}

/** The two children of node (h, i). */
function children(tree: TreeNodes, h: number, i: number): Hex[] {
  return levelNodes(tree, h - 1, 2 * i, 2)
}

/** The 2^k descendants of node (h, i) at height h - k. */
function wideChildren(tree: TreeNodes, h: number, i: number, k: number): Hex[] {
  return levelNodes(tree, h - k, i * 2 ** k, 2 ** k)
}

function concat(list: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(32 * list.length)
  list.forEach((b, j) => {
    out.set(b, 32 * j)
  })
  return out
}

/** Partial sum s of a sums tree, from its leaf (int256). */
function sumAt(tree: MerkleTree, s: number): bigint {
  return BigInt.asIntN(256, BigInt(toHex(tree.leaf(s))))
}
