import { describe, expect, it } from 'vitest'
import { bitFlips } from '../../../test/bit-flips.ts'
import { TraceError } from '../../errors/runtime.ts'
import { roundShift, sat32 } from '../fixed/int.ts'
import { generate } from '../generate.ts'
import { Prng } from '../sampler/prng.ts'
import { samplingParams } from '../sampler/sample.ts'
import { testModel } from '../test-model.ts'
import { verifyBinding } from './checks.ts'
import { bisect, bytesEqual, toHex } from './merkle.ts'
import { mixSumsTree, verifyMixFinal, verifyMixStep } from './mix.ts'
import { oneStep } from './onestep.ts'
import { NO_LAYER, OP_NAMES, OpKind, type TraceFault } from './ops.ts'
import { positionTrace, replayTrace, type TraceReplay } from './replay.ts'
import {
  boundaryCount,
  opLength,
  positionCount,
  positionOpAt,
  positionOpCount,
  positionOpIndex,
} from './schedule.ts'

/**
 * The dispute game played out on the trained test model: checkpoints, then R_p, then one element.
 * A cheater is a run with one element of one op output changed as it is computed (TraceFault):
 * everything after it follows from the lie, so the cheater's receipt is self-consistent.
 */
const model = testModel()
const { config } = model
const L = config.nLayers

describe('an honest miner against a lying challenger', () => {
  const request = {
    promptTokens: [1, 40, 90, 300, 7],
    maxTokens: 5,
    params: samplingParams({ temperature: 0.9, topK: 40 }),
    seed: 5,
  }
  const positions = replayTrace(model, request).positions
  const miners = Array.from({ length: positions }, (_, p) =>
    replayTrace(model, request, { position: p }),
  )

  it('every challenge at every op of every position ends with the one step upholding the miner', () => {
    expect(positions).toBe(9)
    let steps = 0
    for (const miner of miners) {
      const p = miner.position!.pos
      const ctx = miner.oneStepContext()
      for (let index = 0; index < positionOpCount(config, miner.shape, p); index++) {
        const n = miner.positionVector(index).length
        for (const e of new Set([0, n >> 1, n - 1, (index * 7919 + p) % n])) {
          const r = oneStep(ctx, miner.oneStepProof(index, e))
          const op = positionOpAt(config, miner.shape, p, index)
          expect(r.upheld, `${OP_NAMES[op.kind]} at ${p}/${op.layer}, element ${e}`).toBe(true)
          expect(r.claimed).toBe(miner.positionVector(index)[e])
          steps++
        }
      }
      // The binding move holds for every boundary leaf.
      for (let j = 0; j < boundaryCount(config, miner.shape, p); j++) {
        const { boundary, leaf } = miner.binding(j)
        expect(verifyBinding(miner.context(), miner.positionRoot, boundary, leaf)).toBe(true)
      }
    }
    // 5 prompt positions without a head (4 of them) or with, 4 fed back: about 4 elements per op.
    expect(steps).toBeGreaterThan(9 * (1 + 17 * L) * 3)
  })

  it('every element of every op of the last position is upheld', () => {
    const miner = miners[positions - 1]!
    const ctx = miner.oneStepContext()
    let steps = 0
    for (let index = 0; index < positionOpCount(config, miner.shape, positions - 1); index++) {
      const { kind } = positionOpAt(config, miner.shape, positions - 1, index)
      if (kind === OpKind.ATTN_MIX) continue // its sub-trace is checked below, element by element
      const n = miner.positionVector(index).length
      for (let e = 0; e < n; e++) {
        if (!oneStep(ctx, miner.oneStepProof(index, e)).upheld)
          throw new Error(`${OP_NAMES[kind]} op ${index}, element ${e} not upheld`)
        steps++
      }
    }
    expect(steps).toBeGreaterThan(10_000)
  })

  it('the attention-mix sub-trace: the final check and every step uphold the miner', () => {
    let steps = 0
    for (const miner of [miners[0]!, miners[6]!, miners[positions - 1]!]) {
      const p = miner.position!.pos
      const ctx = miner.oneStepContext()
      for (let l = 0; l < L; l++) {
        const index = positionOpIndex(config, l, OpKind.ATTN_MIX)
        const mix = miner.positionVector(index)
        for (const e of [0, 37, config.dim - 1]) {
          const sums = miner.mixSums(l, e)
          expect(sums).toHaveLength(p + 1)
          expect(sat32(roundShift(sums[p]!, 16))).toBe(mix[e])
          expect(verifyMixFinal(ctx, miner.mixFinalProof(l, e)).upheld).toBe(true)
          const accRoot = mixSumsTree(sums).root
          for (let s = 0; s <= p; s++) {
            const r = verifyMixStep(ctx, accRoot, miner.mixStepProof(l, e, s))
            expect(r.upheld, `layer ${l}, element ${e}, step ${s}`).toBe(true)
            steps++
          }
          // The direct check (every position's value) agrees.
          expect(oneStep(ctx, miner.oneStepProof(index, e)).upheld).toBe(true)
        }
      }
    }
    expect(steps).toBe(L * 3 * (1 + 7 + positions))
  })

  it('sub-trace proofs fail when any bit is flipped or a partial sum is moved', () => {
    const miner = miners[6]!
    const ctx = miner.oneStepContext()
    const sums = miner.mixSums(2, 45)
    const accRoot = mixSumsTree(sums).root
    let flips = 0
    // s = 3: an earlier position's value, under its checkpoint; s = 6: this position's, under R_p.
    for (const s of [3, 6]) {
      for (const [where, bad] of bitFlips(miner.mixStepProof(2, 45, s), 3)) {
        expect(() => verifyMixStep(ctx, accRoot, bad), where).toThrow(TraceError)
        flips++
      }
    }
    for (const [where, bad] of bitFlips(miner.mixFinalProof(2, 45), 3)) {
      expect(() => verifyMixFinal(ctx, bad), where).toThrow(TraceError)
      flips++
    }
    expect(flips).toBeGreaterThan(300)
    const step = miner.mixStepProof(2, 45, 3)
    expect(() =>
      verifyMixStep(ctx, accRoot, {
        ...step,
        current: { ...step.current, acc: step.current.acc + 1 },
      }),
    ).toThrow(/does not lead to accRoot/)
    expect(() => verifyMixStep(ctx, accRoot, { ...step, s: 4 })).toThrow(TraceError)
    const { previous: _, ...withoutPrevious } = step
    expect(() => verifyMixStep(ctx, accRoot, withoutPrevious)).toThrow(/s - 1/)
  })

  it('a challenger who names an impossible element or op is turned away', () => {
    const miner = miners[6]!
    const ctx = miner.oneStepContext()
    const index = positionOpIndex(config, 1, OpKind.GATE)
    expect(() => miner.oneStepProof(index, config.ffnDim)).toThrow(TraceError)
    expect(() => miner.oneStepProof(positionOpCount(config, miner.shape, 6), 0)).toThrow(
      /outside position 6/,
    )
    // Proofs for one element do not serve another.
    const proof = miner.oneStepProof(index, 3)
    expect(() => oneStep(ctx, { ...proof, index: index + 1 })).toThrow(TraceError)
    const other = miner.oneStepProof(positionOpIndex(config, 1, OpKind.UP), 3)
    expect(() => oneStep(ctx, { ...proof, weights: other.weights })).toThrow(/not modelRoot leaf/)
  })
})

describe('a subtle cheater: one element changed, everything after it consistent', () => {
  // 18 prompt tokens: a block of 16 and one of 2, so faults hit both block paths and decode.
  const request = {
    promptTokens: Array.from({ length: 18 }, (_, i) => 1 + ((i * 101) % 1500)),
    maxTokens: 5,
    params: samplingParams({ temperature: 0.8, topP: 0.95 }),
    seed: 11,
  }
  const honest = replayTrace(model, request)
  const P = honest.positions
  const honestAt = new Map<number, TraceReplay>()
  const challengerAt = (p: number) => {
    let r = honestAt.get(p)
    if (!r) {
      r = replayTrace(model, request, { position: p })
      honestAt.set(p, r)
    }
    return r
  }

  /** One fault of `kind` (or any kind) at a random place, with a change that matters. */
  function randomFault(prng: Prng, kind = prng.below(21)): TraceFault {
    const head = kind >= OpKind.FINAL_NORM
    const first = head ? request.promptTokens.length - 1 : 0
    const pos = first + prng.below(P - first)
    const layer = kind === OpKind.EMBED || head ? NO_LAYER : prng.below(L)
    const element = prng.below(opLength(config, pos, kind))
    if (kind === OpKind.SAMPLE && element === 0) {
      const token = honest.boundaryVector(pos, 2 * L)[0]!
      return {
        pos,
        layer,
        kind,
        element,
        value: (token + 1 + prng.below(config.vocabSize - 1)) % config.vocabSize,
      }
    }
    // A raised logit (or final-norm element) of 2^23 makes its token near certain: the sample
    // changes. Elsewhere any change up to 2^20 (16 in Q16), either way.
    if (head) return { pos, layer, kind, element, delta: 1 << 23 }
    const size = 1 + prng.below(1 << 20)
    return { pos, layer, kind, element, delta: prng.below(2) === 0 ? size : -size }
  }

  const prng = new Prng(2024)
  const faults = [
    ...Array.from({ length: 21 }, (_, kind) => randomFault(prng, kind)),
    ...Array.from({ length: 30 }, () => randomFault(prng)),
  ]

  it('the generation follows the fault: the same fault gives the same run, the honest run is untouched', () => {
    const fault = { pos: 18, layer: NO_LAYER, kind: OpKind.SAMPLE, element: 0, value: 77 }
    const a = generate(model, request, { fault })
    const b = generate(model, request, { fault })
    expect(a.tokens[1]).toBe(77)
    expect(toHex(a.traceRoot!)).toBe(toHex(b.traceRoot!))
    expect(toHex(a.traceRoot!)).not.toBe(toHex(honest.traceRoot))
    expect(toHex(generate(model, request).traceRoot!)).toBe(toHex(honest.traceRoot))
    expect(() =>
      generate(model, request, {
        fault: { ...fault, kind: OpKind.GATE, layer: 0, element: config.ffnDim },
      }),
    ).toThrow(/outside the op/)
  })

  it('is found at its position, its op and its element, and the one step refutes it', () => {
    const found = new Set<number>()
    let masked = 0
    for (const fault of faults) {
      const label = `${OP_NAMES[fault.kind]} at ${fault.pos}/${fault.layer}, element ${fault.element}`
      const cheat = replayTrace(model, request, { fault })
      expect(cheat.positions, label).toBe(P)
      if (bytesEqual(cheat.traceRoot, honest.traceRoot)) {
        // Nothing observable changed (a dead value, or a change rounded away): no dispute.
        expect(cheat.tokens, label).toEqual(honest.tokens)
        masked++
        continue
      }
      // Level 1: the first differing checkpoint is the fault's position.
      const p = bisect(cheat.checkpoints, honest.checkpoints)
      expect(p, label).toBe(fault.pos)
      // Level 2: both rebuild R_p; bisection stops at the faulted op.
      const miner = replayTrace(model, request, { fault, position: p })
      const challenger = challengerAt(p)
      const index = bisect(miner.position!.tree, challenger.position!.tree)
      expect(index, label).toBe(positionOpIndex(config, fault.layer, fault.kind))
      // Level 3: the one element that differs is the faulted one.
      const claimed = miner.positionVector(index)
      const right = challenger.positionVector(index)
      const differing = [...claimed.keys()].filter((e) => claimed[e] !== right[e])
      expect(differing, label).toEqual([fault.element])
      const e = fault.element
      const ctx = miner.oneStepContext()
      if (fault.kind === OpKind.ATTN_MIX) {
        // The miner's partial sums from the agreed inputs end at the right value, not its claim.
        const final = verifyMixFinal(ctx, miner.mixFinalProof(fault.layer, e))
        expect(final.upheld, label).toBe(false)
        expect(final.recomputed, label).toBe(right[e])
        // Sums bent to end at the claim differ from the challenger's at the last step.
        const sums = miner.mixSums(fault.layer, e)
        const bent = [...sums.slice(0, -1), claimed[e]! * 65536]
        expect(verifyMixFinal(ctx, miner.mixFinalProof(fault.layer, e, bent)).upheld).toBe(true)
        const s = bisect(mixSumsTree(bent), mixSumsTree(challenger.mixSums(fault.layer, e)))
        expect(s, label).toBe(p)
        const step = verifyMixStep(
          ctx,
          mixSumsTree(bent).root,
          miner.mixStepProof(fault.layer, e, s, bent),
        )
        expect(step.upheld, label).toBe(false)
        expect(step.recomputed).toBe(sums[p])
      }
      const r = oneStep(ctx, miner.oneStepProof(index, e))
      expect(r, label).toEqual({ claimed: claimed[e], recomputed: right[e], upheld: false })
      // A lazier cheater posts the honest R_p beside its checkpoint: the binding exposes it.
      let unbound = 0
      for (let j = 0; j < boundaryCount(config, miner.shape, p); j++) {
        const boundary = miner.boundary(p, j)
        const leaf = challenger.binding(j).leaf
        const same = bytesEqual(boundary.vecRoot, leaf.vecRoot)
        if (same)
          expect(verifyBinding(miner.context(), challenger.positionRoot, boundary, leaf)).toBe(true)
        else {
          expect(() =>
            verifyBinding(miner.context(), challenger.positionRoot, boundary, leaf),
          ).toThrow(/different outputs/)
          unbound++
        }
      }
      expect(unbound, label).toBeGreaterThan(0)
      found.add(fault.kind)
    }
    // Most faults matter, and every op kind was caught at least once.
    expect(masked).toBeLessThan(faults.length / 3)
    expect([...found].sort((a, b) => a - b)).toEqual(Array.from({ length: 21 }, (_, k) => k))
  })

  it('R_p rebuilt from the known tokens in blocks equals R_p regenerated, honest or not', () => {
    const fault = { pos: 17, layer: 2, kind: OpKind.SWIGLU, element: 40, delta: 1 << 19 }
    const cheat = replayTrace(model, request, { fault })
    for (const pos of [0, 15, 16, 17, 18, P - 1]) {
      const again = positionTrace(model, request, pos)
      expect(toHex(positionTrace(model, request, pos, { tokens: honest.tokens }).root)).toBe(
        toHex(again.root),
      )
      expect(toHex(again.root)).toBe(toHex(challengerAt(pos).positionRoot))
      const lie = positionTrace(model, request, pos, { fault })
      expect(toHex(positionTrace(model, request, pos, { fault, tokens: cheat.tokens }).root)).toBe(
        toHex(lie.root),
      )
      expect(bytesEqual(lie.root, again.root)).toBe(pos < 17)
    }
    // Tokens that are not this run's are refused.
    const wrong = honest.tokens.map((t, i) => (i === 2 ? (t + 1) % config.vocabSize : t))
    expect(() => positionTrace(model, request, P - 1, { tokens: wrong })).toThrow(/not the/)
    expect(() => positionTrace(model, request, P, { tokens: honest.tokens })).toThrow(
      /outside the trace/,
    )
  })

  it('a fault never shows up before its position', () => {
    // Faults at the first position and in the last block of the prompt, in every layer.
    for (const pos of [0, 16, 17, P - 1]) {
      for (let l = 0; l < L; l++) {
        const fault = { pos, layer: l, kind: OpKind.V, element: 3, delta: 5000 }
        const cheat = replayTrace(model, request, { fault })
        expect(bisect(cheat.checkpoints, honest.checkpoints)).toBe(pos)
        for (let s = 0; s < pos; s++)
          expect(cheat.checkpoints.leaf(s)).toEqual(honest.checkpoints.leaf(s))
      }
    }
    expect(positionCount(honest.shape)).toBe(P)
  })
})
