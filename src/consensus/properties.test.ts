import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { DEFAULT_YUMA_PARAMS } from './defaults.ts'
import { runEpoch } from './epoch.ts'
import { ONE } from './fixed.ts'
import type { EpochInput, SparseMatrix, YumaParams } from './types.ts'

const SEED = 424242
const RUNS = 60

const base: YumaParams = { ...DEFAULT_YUMA_PARAMS, tempo: 1 }

/** v validators (all permitted) then m miners, random stakes and dense random weights. */
const subnet = fc
  .record({
    v: fc.integer({ min: 1, max: 6 }),
    m: fc.integer({ min: 1, max: 6 }),
    yuma3: fc.boolean(),
    seedWeights: fc.array(fc.integer({ min: 0, max: 65535 }), { minLength: 36, maxLength: 36 }),
    stakes: fc.array(fc.bigInt({ min: 1n, max: 10n ** 15n }), { minLength: 6, maxLength: 6 }),
    emission: fc.bigInt({ min: 1n, max: 10n ** 12n }),
  })
  .map(({ v, m, yuma3, seedWeights, stakes, emission }): EpochInput => {
    const n = v + m
    const weights: SparseMatrix = Array.from({ length: n }, (_, i) =>
      i < v
        ? Array.from({ length: m }, (_, k): [number, number] => [v + k, seedWeights[i * 6 + k]!])
        : [],
    )
    return {
      block: 10,
      params: { ...base, yuma3, liquidAlpha: yuma3 },
      stake: Array.from({ length: n }, (_, i) => (i < v ? stakes[i]! : 0n)),
      lastUpdate: new Array(n).fill(9),
      blockAtRegistration: new Array(n).fill(1),
      validatorPermit: Array.from({ length: n }, (_, i) => i < v),
      weights,
      bonds: Array.from({ length: n }, () => []),
      emission,
    }
  })

const total = (xs: bigint[]) => xs.reduce((a, b) => a + b, 0n)
const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0)

describe('epoch properties (fast-check, fixed seed)', () => {
  it('emissions add up to the epoch emission within n + 2 rao (one floor per uid)', () => {
    fc.assert(
      fc.property(subnet, (input) => {
        const out = runEpoch(input)
        const n = input.stake.length
        const e = input.emission
        // Each share is truncated to I32F32 (error ≤ n·2^-32 of the total) and each amount floored.
        const slack = BigInt(n) + 2n + (e * BigInt(n)) / 2n ** 32n
        const combined = total(out.emission)
        expect(combined <= e).toBe(true)
        expect(e - combined <= slack).toBe(true)
        const split = total(out.serverEmission) + total(out.validatorEmission)
        expect(split <= e).toBe(true)
        expect(e - split <= 2n * slack).toBe(true)
      }),
      { seed: SEED, numRuns: RUNS },
    )
  })
  it('incentive and dividends are normalised (sum 1 within n·2^-32, or all 0)', () => {
    fc.assert(
      fc.property(subnet, (input) => {
        const out = runEpoch(input)
        const n = input.stake.length
        for (const v of [out.incentive, out.dividends]) {
          const s = sum(v)
          expect(s === 0 || (s <= ONE && ONE - s <= n)).toBe(true)
        }
      }),
      { seed: SEED, numRuns: RUNS },
    )
  })
  it('validators below kappa cannot raise a miner’s consensus weight', () => {
    fc.assert(
      fc.property(
        subnet,
        fc.integer({ min: 0, max: 5 }),
        fc.integer({ min: 0, max: 65535 }),
        (input, pick, boost) => {
          const v = input.validatorPermit.filter(Boolean).length
          const n = input.stake.length
          const target = v + (pick % (n - v))
          // A coalition holding < kappa of the stake: the smallest validators while their sum
          // stays below 32767/65535 of the total.
          const order = [...Array(v).keys()].sort((a, b) =>
            input.stake[a]! < input.stake[b]! ? -1 : input.stake[a]! > input.stake[b]! ? 1 : 0,
          )
          const totalStake = total(input.stake.slice())
          const coalition = new Set<number>()
          let held = 0n
          for (const i of order) {
            if ((held + input.stake[i]!) * 65535n >= totalStake * 32767n) break
            held += input.stake[i]!
            coalition.add(i)
          }
          // The coalition moves all its weight onto the target.
          const attack = (rows: SparseMatrix) =>
            rows.map((row, i) =>
              coalition.has(i)
                ? row.map(([j]): [number, number] => [j, j === target ? Math.max(boost, 1) : 0])
                : row,
            )
          // (a) The boosted consensus never exceeds the largest normalised weight an honest
          //     validator gives the target: the minority alone cannot reach kappa.
          const attacked = runEpoch({ ...input, weights: attack(input.weights) })
          let honestMax = 0
          input.weights.forEach((row, i) => {
            if (i >= v || coalition.has(i)) return
            const rowSum = row.reduce((acc, [, x]) => acc + x, 0)
            const w = row.find(([j]) => j === target)?.[1] ?? 0
            if (rowSum > 0) honestMax = Math.max(honestMax, (w / rowSum) * ONE)
          })
          expect(attacked.consensus[target]!).toBeLessThanOrEqual(Math.ceil(honestMax))
          // (b) When every honest validator gives the target 0, it stays at 0 consensus and 0
          //     incentive however hard the minority pushes.
          const shunned = input.weights.map((row) =>
            row.map(([j, x]): [number, number] => [j, j === target ? 0 : x]),
          )
          const out = runEpoch({ ...input, weights: attack(shunned) })
          expect(out.consensus[target]).toBe(0)
          expect(out.incentive[target]).toBe(0)
        },
      ),
      { seed: SEED, numRuns: RUNS },
    )
  })
})
