import { TraceError } from '../../errors/runtime.ts'
import { roundShift, sat32 } from '../fixed/int.ts'
import {
  type CheckpointOpening,
  type ElementOpening,
  verifyBoundaryOpening,
  verifyElementOpening,
  verifyPositionLeafOpening,
} from './checks.ts'
import { bytesEqual, MerkleTree, proofLength, rootFromProof } from './merkle.ts'
import type { OneStepContext, OneStepResult } from './onestep.ts'
import { OpKind, opIdBytes } from './ops.ts'
import { boundaryIndexOf, opLength, positionOpIndex } from './schedule.ts'

/**
 * The long-sum sub-trace of one attention-mix element (docs/DETERMINISM.md, "Trace"). Element
 * e = h * headDim + j of attn_mix at (p, l) is sat32(roundShift(acc_p, 16)) with
 * acc_s = acc_{s-1} + P_s * v_sj (acc_{-1} = 0): P_s the head's probability of position s
 * (softmax at (p, l), element h * (p + 1) + s), v_sj element g * headDim + j of v at (s, l), g the
 * head's KV head. Checking it directly needs v of every position; instead the miner commits to its
 * partial sums, accRoot = the Merkle root over p + 1 leaves, leaf s = acc_s as a 32-byte
 * big-endian two's complement integer (int256). The game checks the last one against the claimed
 * element (verifyMixFinal), bisects over s between the two parties' roots, and the one step
 * (verifyMixStep) needs one P_s and one v_sj.
 */

/** The exact partial sums acc_0 .. acc_t (each below 2^51 in magnitude). */
export function mixPartialSums(probs: ArrayLike<number>, values: ArrayLike<number>): number[] {
  const out: number[] = []
  let acc = 0
  for (let s = 0; s < probs.length; s++) {
    acc += probs[s]! * values[s]!
    out.push(acc)
  }
  return out
}

/** A partial sum's leaf: int256, big-endian two's complement. */
export function mixSumLeaf(acc: number): Uint8Array {
  if (!Number.isSafeInteger(acc)) throw new TraceError(`partial sum ${acc} is not a safe integer`)
  let v = BigInt.asUintN(256, BigInt(acc))
  const out = new Uint8Array(32)
  for (let i = 31; i >= 0; i--) {
    out[i] = Number(v & 0xffn)
    v >>= 8n
  }
  return out
}

export function mixSumsTree(sums: readonly number[]): MerkleTree {
  const leaves = new Uint8Array(sums.length * 32)
  for (let s = 0; s < sums.length; s++) leaves.set(mixSumLeaf(sums[s]!), 32 * s)
  return new MerkleTree(leaves, sums.length)
}

/** Partial sum `s` under accRoot. */
export type MixSumOpening = { s: number; acc: number; proof: Uint8Array[] }

/** Element `element` of attn_mix at (pos, layer), under R_pos: the value the sub-trace is about. */
export type MixClaim = {
  pos: number
  layer: number
  element: number
  claim: ElementOpening
  /** Siblings from the attn_mix leaf up to R_pos. */
  claimProof: Uint8Array[]
}

export type MixFinalProof = MixClaim & { accRoot: Uint8Array; last: MixSumOpening }

export type MixStepProof = MixClaim & {
  s: number
  /** acc_{s-1} (absent for s = 0, where it is 0). */
  previous?: MixSumOpening
  current: MixSumOpening
  /** P_s: an element of softmax at (pos, layer), under R_pos. */
  prob: { opening: ElementOpening; proof: Uint8Array[] }
  /**
   * v_sj: an element of v at (s, layer); its leaf under R_pos when s = pos, else under
   * boundaryRoot_s (with the checkpoint of s).
   */
  value: { opening: ElementOpening; proof: Uint8Array[]; checkpoint?: CheckpointOpening }
}

export function verifyMixSumOpening(accRoot: Uint8Array, count: number, o: MixSumOpening): true {
  if (!Number.isSafeInteger(o.s) || o.s < 0 || o.s >= count)
    throw new TraceError(`partial sum ${o.s} is outside the sub-trace (${count} sums)`)
  if (o.proof.length !== proofLength(count))
    throw new TraceError('the partial sum proof has the wrong length')
  if (!bytesEqual(rootFromProof(mixSumLeaf(o.acc), o.s, o.proof), accRoot))
    throw new TraceError('the partial sum proof does not lead to accRoot')
  return true
}

/** The attn_mix element itself, opened under R_pos. */
function verifyMixClaim(ctx: OneStepContext, c: MixClaim): void {
  const { config, shape } = ctx
  const index = positionOpIndex(config, c.layer, OpKind.ATTN_MIX)
  const length = opLength(config, c.pos, OpKind.ATTN_MIX)
  if (c.claim.element !== c.element) throw new TraceError('the claim is of another element')
  verifyElementOpening(length, c.claim)
  verifyPositionLeafOpening(config, shape, ctx.positionRoot, {
    pos: c.pos,
    index,
    opId: opIdBytes(c.pos, c.layer, OpKind.ATTN_MIX, length),
    vecRoot: c.claim.vecRoot,
    proof: c.claimProof,
  })
}

/** The claim against the last partial sum: upheld iff value = sat32(roundShift(acc_pos, 16)). */
export function verifyMixFinal(ctx: OneStepContext, proof: MixFinalProof): OneStepResult {
  verifyMixClaim(ctx, proof)
  const count = proof.pos + 1
  if (proof.last.s !== count - 1) throw new TraceError('the final check opens the last sum')
  verifyMixSumOpening(proof.accRoot, count, proof.last)
  const recomputed = sat32(roundShift(proof.last.acc, 16))
  return { claimed: proof.claim.value, recomputed, upheld: recomputed === proof.claim.value }
}

/**
 * One step of the sub-trace, at the first s where the parties' partial sums differ: upheld iff
 * acc_s = acc_{s-1} + P_s * v_sj, with P_s and v_sj proven in the trace.
 */
export function verifyMixStep(
  ctx: OneStepContext,
  accRoot: Uint8Array,
  proof: MixStepProof,
): OneStepResult {
  const { config, shape } = ctx
  const { pos, layer, element, s } = proof
  verifyMixClaim(ctx, proof)
  const count = pos + 1
  if (proof.current.s !== s) throw new TraceError('the step opens another partial sum')
  verifyMixSumOpening(accRoot, count, proof.current)
  let before = 0
  if (s > 0) {
    if (!proof.previous || proof.previous.s !== s - 1)
      throw new TraceError('the step needs partial sum s - 1')
    verifyMixSumOpening(accRoot, count, proof.previous)
    before = proof.previous.acc
  } else if (proof.previous) {
    throw new TraceError('the first step starts from 0')
  }

  const h = Math.floor(element / config.headDim)
  const j = element % config.headDim
  const g = Math.floor(h / (config.nHeads / config.nKvHeads))
  // P_s: element h * (pos + 1) + s of softmax at (pos, layer).
  const probs = proof.prob.opening
  const probsLength = opLength(config, pos, OpKind.SOFTMAX)
  if (probs.element !== h * count + s) throw new TraceError('the probability is of another element')
  verifyElementOpening(probsLength, probs)
  verifyPositionLeafOpening(config, shape, ctx.positionRoot, {
    pos,
    index: positionOpIndex(config, layer, OpKind.SOFTMAX),
    opId: opIdBytes(pos, layer, OpKind.SOFTMAX, probsLength),
    vecRoot: probs.vecRoot,
    proof: proof.prob.proof,
  })
  // v_sj: element g * headDim + j of v at (s, layer).
  const value = proof.value.opening
  const vLength = opLength(config, s, OpKind.V)
  if (value.element !== g * config.headDim + j)
    throw new TraceError('the value is of another element')
  verifyElementOpening(vLength, value)
  const vOpId = opIdBytes(s, layer, OpKind.V, vLength)
  if (s === pos) {
    verifyPositionLeafOpening(config, shape, ctx.positionRoot, {
      pos,
      index: positionOpIndex(config, layer, OpKind.V),
      opId: vOpId,
      vecRoot: value.vecRoot,
      proof: proof.value.proof,
    })
  } else {
    if (!proof.value.checkpoint) throw new TraceError('an earlier value needs its checkpoint')
    verifyBoundaryOpening(ctx, {
      pos: s,
      index: boundaryIndexOf(config, layer, OpKind.V),
      opId: vOpId,
      vecRoot: value.vecRoot,
      proof: proof.value.proof,
      checkpoint: proof.value.checkpoint,
    })
  }
  const recomputed = before + probs.value * value.value
  return { claimed: proof.current.acc, recomputed, upheld: recomputed === proof.current.acc }
}
