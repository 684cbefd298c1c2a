import type { Hex } from 'viem'
import { expQ30 } from '../../runtime/fixed/exp.ts'
import { maxAbs, pow2, roundDiv, roundDivSym, roundShift, sat32 } from '../../runtime/fixed/int.ts'
import type { ModelConfig } from '../../runtime/model/config.ts'
import { activationScale } from '../../runtime/ops/quantize-activation.ts'
import { matrixOf, weightRow } from '../../runtime/trace/inputs.ts'
import { MerkleTree } from '../../runtime/trace/merkle.ts'
import { mixSumLeaf } from '../../runtime/trace/mix.ts'
import { OpKind } from '../../runtime/trace/ops.ts'
import { positionOpAt, projectionWeight } from '../../runtime/trace/schedule.ts'
import {
  isProjection,
  projectionInput,
  type SumOpeningsArg,
  type TraceData,
  vectorOf,
  vectorOpening,
  weightOpening,
} from './openings.ts'

/**
 * The long sums of the one step as the dispute game plays them (contracts/src/dispute/SumLib.sol):
 * which elements are sums, their terms and partial sums, the final check, and the openings of
 * the final check, of one term and of a maximum dispute.
 */
export const SumKind = { NONE: 0, MIX: 1, PROJECTION: 2, SOFTMAX: 3 } as const

/** The projection's input length (the row's). */
const projectionCols = (config: ModelConfig, kind: number) =>
  kind === OpKind.DOWN ? config.ffnDim : config.dim

/** How element e of op kind at position pos is played: a direct step (NONE) or a sum. */
export function sumKindOf(
  config: ModelConfig,
  pos: number,
  kind: number,
  partElements: number,
): number {
  if (kind === OpKind.ATTN_MIX) return SumKind.MIX
  if (isProjection(kind))
    return projectionCols(config, kind) > partElements ? SumKind.PROJECTION : SumKind.NONE
  if (kind === OpKind.SOFTMAX && pos + 1 > partElements) return SumKind.SOFTMAX
  return SumKind.NONE
}

/** The terms of element `element` of op `index` at the disputed position, and the sum's maximum. */
export type SumTerms = {
  sum: number
  terms: number[]
  /** amax (PROJECTION), the head's maximum score (SOFTMAX), 0 (MIX). */
  param: number
  /** Where the maximum is: an input element (PROJECTION) or an index in the head (SOFTMAX). */
  paramAt: number
}

export function sumTerms(
  data: TraceData,
  index: number,
  element: number,
  partElements: number,
): SumTerms {
  const { config } = data.model
  const pos = data.pos
  const { layer, kind } = positionOpAt(config, data.shape, pos, index)
  const sum = sumKindOf(config, pos, kind, partElements)
  const n = pos + 1
  if (sum === SumKind.MIX) {
    const hd = config.headDim
    const h = Math.floor(element / hd)
    const g = Math.floor(h / (config.nHeads / config.nKvHeads))
    const probs = vectorOf(data, pos, layer, OpKind.SOFTMAX)
    const terms = Array.from(
      { length: n },
      (_, s) => probs[h * n + s]! * vectorOf(data, s, layer, OpKind.V)[g * hd + (element % hd)]!,
    )
    return { sum, terms, param: 0, paramAt: 0 }
  }
  if (sum === SumKind.PROJECTION) {
    const [l, k] = projectionInput(layer, kind)
    const x = vectorOf(data, pos, l, k)
    const row = weightRow(
      data.model,
      matrixOf(data.model, projectionWeight(kind, layer, element)),
      element,
    ).q
    const amax = maxAbs(x)
    let at = 0
    while (Math.abs(x[at]!) !== amax) at++
    const [mx, ex] = amax === 0 ? [2048, 0] : activationScale(amax)
    const terms: number[] = []
    for (let from = 0; from < x.length; from += partElements) {
      let acc = 0
      for (let j = from; j < Math.min(x.length, from + partElements); j++) {
        const xq = ex >= 0 ? roundDivSym(x[j]! * pow2(ex), mx) : roundDivSym(x[j]!, mx * pow2(-ex))
        acc += row[j]! * xq
      }
      terms.push(acc + 0)
    }
    return { sum, terms, param: amax, paramAt: at }
  }
  if (sum === SumKind.SOFTMAX) {
    const h = Math.floor(element / n)
    const scores = vectorOf(data, pos, layer, OpKind.SCORES).subarray(h * n, (h + 1) * n)
    let at = 0
    for (let j = 1; j < n; j++) if (scores[j]! > scores[at]!) at = j
    const mx = scores[at]!
    const terms: number[] = []
    for (let from = 0; from < n; from += partElements) {
      let acc = 0
      for (let j = from; j < Math.min(n, from + partElements); j++) acc += expQ30(scores[j]! - mx)
      terms.push(acc)
    }
    return { sum, terms, param: mx, paramAt: at }
  }
  throw new RangeError(`element ${element} of op ${index} is not a sum`)
}

/** acc_s = term_0 + ... + term_s. */
export function partialSums(terms: readonly number[]): number[] {
  const out: number[] = []
  let acc = 0
  for (const t of terms) {
    acc += t
    out.push(acc)
  }
  return out
}

/** The tree over partial sums (leaf s = acc_s as a big-endian int256), as accRoot commits. */
export function sumsTree(sums: readonly number[]): MerkleTree {
  const leaves = new Uint8Array(sums.length * 32)
  sums.forEach((acc, s) => {
    leaves.set(mixSumLeaf(acc), 32 * s)
  })
  return new MerkleTree(leaves, sums.length)
}

/** The final check's value from the last partial sum (SumLib.final_). */
export function sumFinal(
  data: TraceData,
  index: number,
  element: number,
  t: SumTerms,
  last: number,
) {
  const { config } = data.model
  const { layer, kind } = positionOpAt(config, data.shape, data.pos, index)
  if (t.sum === SumKind.MIX) return sat32(roundShift(last, 16))
  if (t.sum === SumKind.PROJECTION) {
    const row = weightRow(
      data.model,
      matrixOf(data.model, projectionWeight(kind, layer, element)),
      element,
    )
    // The row's bias (q, k, v rows of a model with attention biases) is part of the element.
    const bias = row.bias ?? 0
    if (t.param === 0) return sat32(bias)
    const [mx, ex] = activationScale(t.param)
    return sat32(roundShift(last * (row.m * mx), row.e + ex) + bias)
  }
  const n = data.pos + 1
  const own = vectorOf(data, data.pos, layer, OpKind.SCORES)[element]!
  void n
  if (last <= 0) return Number.NaN
  return roundDiv(expQ30(own - t.param) * 65536, last)
}

/**
 * A last partial sum whose final check gives `claimed`, for a miner whose op output (its claim)
 * is not what its inputs give: the final is monotone in the last sum, so a binary search finds
 * one if any exists. Undefined when none does (the miner cannot make its post).
 */
export function bentLast(
  data: TraceData,
  index: number,
  element: number,
  t: SumTerms,
  claimed: number,
): number | undefined {
  if (t.sum === SumKind.MIX) return claimed * 65536
  const f = (acc: number) => sumFinal(data, index, element, t, acc)
  // PROJECTION: non-decreasing in acc; SOFTMAX: non-increasing in acc > 0.
  const up = t.sum === SumKind.PROJECTION
  let lo = up ? -(2 ** 45) : 1
  let hi = 2 ** 50
  while (lo < hi) {
    const mid = Math.floor((lo + hi) / 2)
    const v = f(mid)
    if (up ? v < claimed : v > claimed) lo = mid + 1
    else hi = mid
  }
  return f(lo) === claimed ? lo : undefined
}

/** The final check's openings (SumLib.final_). */
export function sumFinalOpenings(
  data: TraceData,
  index: number,
  element: number,
  t: SumTerms,
): SumOpeningsArg {
  const { config } = data.model
  const { layer, kind } = positionOpAt(config, data.shape, data.pos, index)
  if (t.sum === SumKind.MIX) return { vectors: [], weights: [], hint: 0n }
  if (t.sum === SumKind.PROJECTION) {
    const [l, k] = projectionInput(layer, kind)
    return {
      vectors: [vectorOpening(data, data.pos, l, k, t.paramAt, 1)],
      weights: [weightOpening(data.model, projectionWeight(kind, layer, element))],
      hint: BigInt(t.paramAt),
    }
  }
  const n = data.pos + 1
  const h = Math.floor(element / n)
  return {
    vectors: [
      vectorOpening(data, data.pos, layer, OpKind.SCORES, h * n + t.paramAt, 1),
      vectorOpening(data, data.pos, layer, OpKind.SCORES, element, 1),
    ],
    weights: [],
    hint: BigInt(t.paramAt),
  }
}

/** Term s's openings (SumLib.term). */
export function sumTermOpenings(
  data: TraceData,
  index: number,
  element: number,
  sum: number,
  s: number,
  partElements: number,
): SumOpeningsArg {
  const { config } = data.model
  const pos = data.pos
  const { layer, kind } = positionOpAt(config, data.shape, pos, index)
  const n = pos + 1
  if (sum === SumKind.MIX) {
    const hd = config.headDim
    const h = Math.floor(element / hd)
    const g = Math.floor(h / (config.nHeads / config.nKvHeads))
    return {
      vectors: [
        vectorOpening(data, pos, layer, OpKind.SOFTMAX, h * n + s, 1),
        vectorOpening(data, s, layer, OpKind.V, g * hd + (element % hd), 1),
      ],
      weights: [],
      hint: 0n,
    }
  }
  if (sum === SumKind.PROJECTION) {
    const [l, k] = projectionInput(layer, kind)
    const cols = projectionCols(config, kind)
    const from = s * partElements
    return {
      vectors: [vectorOpening(data, pos, l, k, from, Math.min(partElements, cols - from))],
      weights: [weightOpening(data.model, projectionWeight(kind, layer, element))],
      hint: 0n,
    }
  }
  const h = Math.floor(element / n)
  const from = s * partElements
  return {
    vectors: [
      vectorOpening(
        data,
        pos,
        layer,
        OpKind.SCORES,
        h * n + from,
        Math.min(partElements, n - from),
      ),
    ],
    weights: [],
    hint: 0n,
  }
}

/** The openings showing an input above the posted maximum (SumLib.maxBroken). */
export function sumMaxOpenings(
  data: TraceData,
  index: number,
  element: number,
  t: SumTerms,
): SumOpeningsArg {
  const { config } = data.model
  const { layer, kind } = positionOpAt(config, data.shape, data.pos, index)
  if (t.sum === SumKind.PROJECTION) {
    const [l, k] = projectionInput(layer, kind)
    return {
      vectors: [vectorOpening(data, data.pos, l, k, t.paramAt, 1)],
      weights: [],
      hint: BigInt(t.paramAt),
    }
  }
  const n = data.pos + 1
  const h = Math.floor(element / n)
  return {
    vectors: [vectorOpening(data, data.pos, layer, OpKind.SCORES, h * n + t.paramAt, 1)],
    weights: [],
    hint: BigInt(t.paramAt),
  }
}

/** A partial sum's leaf as the contract takes it (int256). */
export const sumValue = (acc: number): bigint => BigInt(acc)

export type { Hex }
