import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import {
  beats,
  type CompetitorScore,
  competitionWeights,
  competitionWinner,
  WEIGHT_SCALE,
} from './weights.ts'

const EPS = 5_000 // 0.5%
const w = (scores: CompetitorScore[], eps = EPS) =>
  Object.fromEntries(competitionWeights(scores, eps).map((x) => [x.uid, x.weight]))
const sum = (scores: CompetitorScore[], eps = EPS) =>
  competitionWeights(scores, eps).reduce((a, x) => a + x.weight, 0)

const scoreArb = fc
  .uniqueArray(
    fc.record({
      uid: fc.integer({ min: 0, max: 300 }),
      commitBlock: fc.integer({ min: 0, max: 50 }),
      loss: fc.option(fc.bigInt({ min: 0n, max: 10n ** 9n }), { nil: null }),
      copy: fc.boolean(),
    }),
    { selector: (s) => s.uid, minLength: 0, maxLength: 12 },
  )
  .map((a) => a as CompetitorScore[])

describe('the epsilon rule', () => {
  it('is exact at the boundary', () => {
    // 1,000,000 * 0.995 = 995,000: strictly below beats, equal does not.
    expect(beats(994_999n, 1_000_000n, EPS)).toBe(true)
    expect(beats(995_000n, 1_000_000n, EPS)).toBe(false)
    expect(beats(1_000_000n, 1_000_000n, 0)).toBe(false)
    expect(beats(999_999n, 1_000_000n, 0)).toBe(true)
  })
})

describe('competition weights', () => {
  it('the earlier of two equal models wins; a byte-identical copy earns nothing', () => {
    const scores = [
      { uid: 3, commitBlock: 10, loss: 1000n },
      { uid: 1, commitBlock: 20, loss: 1000n }, // the same model (same loss), later
      { uid: 2, commitBlock: 30, loss: 1000n, copy: true }, // flagged by the chain
    ]
    expect(competitionWinner(scores, EPS)?.uid).toBe(3)
    expect(w(scores)).toEqual({ 1: 0, 2: 0, 3: 65535 })
    expect(w(scores, 0)).toEqual(w(scores))
  })

  it('a later model better by more than epsilon takes the place; within epsilon the earlier keeps it', () => {
    const early = { uid: 0, commitBlock: 5, loss: 1_000_000n }
    expect(competitionWinner([early, { uid: 1, commitBlock: 9, loss: 994_999n }], EPS)?.uid).toBe(1)
    expect(competitionWinner([early, { uid: 1, commitBlock: 9, loss: 995_000n }], EPS)?.uid).toBe(0)
    // King of the hill in commit order: C beats A by more than epsilon, B never beat A.
    const walk = [
      early,
      { uid: 1, commitBlock: 6, loss: 997_000n },
      { uid: 2, commitBlock: 7, loss: 994_000n },
    ]
    expect(competitionWinner(walk, EPS)?.uid).toBe(2)
    // A earns a runner-up share (it beat everything before it); B did not improve on A: 0.
    expect(w(walk)).toEqual({ 0: 3276, 1: 0, 2: 65535 - 3276 })
    // The worse default, the better fine-tune, its copy: the devnet.
    const devnet = [
      { uid: 0, commitBlock: 10, loss: 3_500_000n },
      { uid: 1, commitBlock: 20, loss: 3_300_000n },
      { uid: 2, commitBlock: 30, loss: 3_300_000n },
    ]
    expect(w(devnet)).toEqual({ 0: 3276, 1: 65535 - 3276, 2: 0 })
  })

  it('same block: the lower uid is earlier', () => {
    const s = [
      { uid: 7, commitBlock: 4, loss: 100n },
      { uid: 2, commitBlock: 4, loss: 100n },
    ]
    expect(competitionWinner(s, EPS)?.uid).toBe(2)
  })

  it('gives unscored models 0, and all 0 when nothing is scored', () => {
    expect(w([{ uid: 1, commitBlock: 1, loss: null }])).toEqual({ 1: 0 })
    expect(w([])).toEqual({})
    expect(
      w([
        { uid: 1, commitBlock: 1, loss: null },
        { uid: 4, commitBlock: 9, loss: 5n },
      ]),
    ).toEqual({
      1: 0,
      4: WEIGHT_SCALE,
    })
  })

  it('refuses malformed input by name', () => {
    const ok = { uid: 1, commitBlock: 1, loss: 1n }
    expect(() => competitionWeights([ok, ok], EPS)).toThrow(/uid: 1 appears twice/)
    expect(() => competitionWeights([ok], -1)).toThrow(/epsilon/)
    expect(() => competitionWeights([ok], 1_000_000)).toThrow(/epsilon/)
    expect(() => competitionWeights([{ ...ok, loss: -1n }], EPS)).toThrow(/loss: uid 1/)
    expect(() => competitionWeights([{ ...ok, loss: 1 as unknown as bigint }], EPS)).toThrow(/loss/)
    expect(() => competitionWeights([{ ...ok, uid: 70000 }], EPS)).toThrow(/not a u16/)
    expect(() => competitionWeights([{ ...ok, commitBlock: 1.5 }], EPS)).toThrow(/commitBlock/)
  })
})

describe('competition weights, properties', () => {
  it('sum to the scale when anything is scored, else 0; one entry per uid', () => {
    fc.assert(
      fc.property(scoreArb, fc.integer({ min: 0, max: 999_999 }), (scores, eps) => {
        const any = scores.some((s) => s.loss !== null && !s.copy)
        expect(sum(scores, eps)).toBe(any ? WEIGHT_SCALE : 0)
        expect(competitionWeights(scores, eps).map((x) => x.uid)).toEqual(
          scores.map((s) => s.uid).sort((a, b) => a - b),
        )
      }),
    )
  })

  it('do not depend on the input order', () => {
    fc.assert(
      fc.property(
        scoreArb.chain((s) =>
          fc.tuple(fc.constant(s), fc.shuffledSubarray(s, { minLength: s.length })),
        ),
        ([scores, shuffled]) => {
          expect(competitionWeights(shuffled, EPS)).toEqual(competitionWeights(scores, EPS))
        },
      ),
    )
  })

  it('a later copy (same loss, flagged or not) earns nothing', () => {
    fc.assert(
      fc.property(
        scoreArb,
        fc.integer({ min: 1, max: 10 }),
        fc.boolean(),
        (scores, delay, flagged) => {
          const original = scores.find((s) => s.loss !== null && !s.copy)
          if (!original) return
          const uid = 1000
          const copy = {
            uid,
            commitBlock: original.commitBlock + delay,
            loss: original.loss,
            copy: flagged,
          }
          const weights = w([...scores, copy])
          expect(competitionWinner([...scores, copy], EPS)?.uid).not.toBe(uid)
          expect(weights[uid]).toBe(0)
        },
      ),
    )
  })

  it('a later model within epsilon of the winner changes nothing for the winner and earns nothing', () => {
    fc.assert(
      fc.property(scoreArb, fc.integer({ min: 0, max: 5_000 }), (scores, within) => {
        const winner = competitionWinner(scores, EPS)
        if (!winner) return
        // loss >= winner * (1 - eps): not beaten
        const loss = (winner.loss! * BigInt(1_000_000 - within) + 999_999n) / 1_000_000n
        const late = { uid: 3000, commitBlock: 10_000, loss }
        expect(competitionWinner([...scores, late], EPS)?.uid).toBe(winner.uid)
        expect(w([...scores, late])[3000]).toBe(0)
        expect(w([...scores, late])[winner.uid]).toBe(w(scores)[winner.uid])
      }),
    )
  })

  it('a later model better than everyone by more than epsilon wins; the winner gets at least 90%', () => {
    fc.assert(
      fc.property(scoreArb, (scores) => {
        const losses = scores.filter((s) => s.loss !== null && !s.copy).map((s) => s.loss!)
        const best = [...losses, 10n ** 9n].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))[0]!
        const better = { uid: 2000, commitBlock: 1000, loss: (best * 99n) / 100n - 1n }
        if (better.loss < 0n) return
        const weights = w([...scores, better])
        expect(competitionWinner([...scores, better], EPS)?.uid).toBe(2000)
        expect(weights[2000]!).toBeGreaterThanOrEqual(58_983)
      }),
    )
  })
})
