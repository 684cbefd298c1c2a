import { formatEther } from 'viem'
import { describe, expect, it } from 'vitest'
import { DEVNET_DISPUTE_PARAMS } from '../../chain/devnet-dispute.ts'
import {
  DEVNET_SAMPLE_RATE,
  type DisputeEconomics,
  equilibrium,
  equilibriumTable,
  MAX_REWARD_BPS,
  MAX_SLASH_BPS,
  MIN_REWARD_BPS,
  MIN_SLASH_BPS,
  minimumStake,
  simulate,
  slashOf,
  withinBounds,
} from './equilibrium.ts'

const vty = (wei: bigint) => Number(formatEther(wei))

/** The devnet's parameters, a 1,000 VTY stake (test/dispute-core.e2e.test.ts), no emission. */
const devnet: DisputeEconomics = {
  slashBps: DEVNET_DISPUTE_PARAMS.slashBps,
  rewardBps: DEVNET_DISPUTE_PARAMS.rewardBps,
  slashMin: vty(DEVNET_DISPUTE_PARAMS.slashMin),
  bond: vty(DEVNET_DISPUTE_PARAMS.bond),
  stake: 1000,
  sampleRate: DEVNET_SAMPLE_RATE,
  reward: 0,
  cost: 0.01,
  collusion: 0.3,
}

/** The weakest parameters the bounds allow (10% slashed, 90% of it to the challenger): p* = 0.05. */
const weakest: DisputeEconomics = {
  slashBps: MIN_SLASH_BPS,
  rewardBps: MAX_REWARD_BPS,
  slashMin: 0,
  bond: 1,
  stake: 100,
  sampleRate: 0.05,
  reward: 0.1,
  cost: 0.055,
}

const RUN = { answers: 2000, trials: 100, seed: 7 }

describe('the PoS bound from the dispute parameters', () => {
  it("is SECURITY.md's example on the devnet's parameters: p* = 0.01 / (0.7 x 250)", () => {
    const b = equilibrium(devnet)
    expect(b.slash).toBe(500) // 50% of 1,000 VTY, above slashMin 5
    expect(b.effectiveSlash).toBe(250) // half of it burned: the sure loss
    expect(b.challengerGain).toBe(250)
    expect(b.threshold).toBeCloseTo(0.01 / 175, 15)
    expect(b.threshold).toBeCloseTo(5.714e-5, 8)
    // at the devnet's sample rate cheating loses 0.25 x 0.7 x 250 - 0.01 per answer
    expect(b.edge).toBeCloseTo(0.01 - 0.25 * 0.7 * 250, 10)
  })

  it('takes slashMin for a small stake, and never more than the stake', () => {
    expect(slashOf({ stake: 6, slashBps: 5000, slashMin: 5 })).toBe(5)
    expect(slashOf({ stake: 2, slashBps: 5000, slashMin: 5 })).toBe(2)
    expect(slashOf({ stake: 20, slashBps: 5000, slashMin: 5 })).toBe(10)
  })

  it('cheating pays less than honesty exactly when p > p*', () => {
    const star = equilibrium(weakest).threshold
    expect(star).toBeCloseTo(0.05, 12) // 0.055 / (0.1 + 0.1 x 0.1 x 100)
    for (const f of [0.5, 0.9, 0.99, 0.999, 1.001, 1.01, 1.1, 2, 10]) {
      const b = equilibrium({ ...weakest, sampleRate: star * f })
      expect(b.edge < 0, `p = ${f} p*`).toBe(f > 1)
      expect(b.edge).toBeCloseTo(0.055 * (1 - f), 12)
    }
    expect(Math.abs(equilibrium({ ...weakest, sampleRate: star }).edge)).toBeLessThan(1e-15)
  })

  it('colluding validators scale the bound by 1 / (1 - r)', () => {
    const r = equilibrium({ ...weakest, collusion: 0.5 })
    expect(r.threshold).toBeCloseTo(0.1, 12)
  })
})

describe('the Monte Carlo of a miner over many answers', () => {
  it('below p*: the cheater earns more than the honest miner, as expected', () => {
    const x = { ...weakest, sampleRate: 0.025 }
    const s = simulate(x, RUN)
    const b = equilibrium(x)
    expect(b.cheat).toBeCloseTo(0.1275, 12) // 0.1 + 0.055 - 0.025 x 1.1
    expect(s.honest).toBe(0.1)
    expect(s.cheat.mean).toBeGreaterThan(s.honest)
    expect(Math.abs(s.cheat.mean - b.cheat)).toBeLessThan(4 * s.cheat.stderr)
    expect(s.cheat.caughtRate).toBeCloseTo(0.025, 2)
    expect(s.cheatWins).toBeGreaterThan(0.95)
  })

  it('above p*: the cheater earns less than the honest miner, as expected', () => {
    const x = { ...weakest, sampleRate: 0.1 }
    const s = simulate(x, RUN)
    const b = equilibrium(x)
    expect(b.cheat).toBeCloseTo(0.045, 12) // 0.1 + 0.055 - 0.1 x 1.1
    expect(s.cheat.mean).toBeLessThan(s.honest)
    expect(Math.abs(s.cheat.mean - b.cheat)).toBeLessThan(4 * s.cheat.stderr)
    expect(s.cheat.caughtRate).toBeCloseTo(0.1, 2)
    expect(s.cheatWins).toBe(0)
  })

  it('counts only the honest validators: at r = 0.5 the catch rate halves', () => {
    const s = simulate({ ...weakest, sampleRate: 0.2, collusion: 0.5 }, RUN)
    expect(s.cheat.caughtRate).toBeCloseTo(0.1, 2)
  })

  it('is seeded: the same seed gives the same run, another seed another', () => {
    const a = simulate(weakest, RUN)
    expect(simulate(weakest, RUN)).toEqual(a)
    expect(simulate(weakest, { ...RUN, seed: 8 }).cheat.mean).not.toBe(a.cheat.mean)
  })

  it('a table flips from cheating to honesty at p*', () => {
    const rows = equilibriumTable(weakest, [0.01, 0.025, 0.1, 0.25], RUN)
    expect(rows.map((r) => r.honestPays)).toEqual([false, false, true, true])
    expect(rows.map((r) => r.simulated > r.honest)).toEqual([true, true, false, false])
  })

  it('refuses what is not a probability or an amount', () => {
    expect(() => equilibrium({ ...weakest, sampleRate: 1.5 })).toThrow(/sampleRate/)
    expect(() => equilibrium({ ...weakest, collusion: 1 })).toThrow(/collusion/)
    expect(() => equilibrium({ ...weakest, stake: -1 })).toThrow(/stake/)
    expect(() => simulate(weakest, { ...RUN, trials: 1 })).toThrow(/trials/)
  })
})

describe("the game's bounds keep p* below the devnet's sample rate 0.25", () => {
  it('for every slashBps and rewardBps within the bounds, at a 1,000 VTY stake', () => {
    let worst = 0
    for (let slashBps = MIN_SLASH_BPS; slashBps <= MAX_SLASH_BPS; slashBps += 500) {
      for (let rewardBps = MIN_REWARD_BPS; rewardBps <= MAX_REWARD_BPS; rewardBps += 500) {
        const b = equilibrium({ ...devnet, slashBps, rewardBps, slashMin: 0, collusion: 0 })
        worst = Math.max(worst, b.threshold)
      }
    }
    // the corner: 10% slashed, 90% of it paid out: S_eff = 1 VTY per 100 staked
    expect(worst).toBeCloseTo(0.01 / 10, 12)
    expect(worst).toBeLessThan(DEVNET_SAMPLE_RATE)
  })

  it('down to the least stake the corner needs (4 VTY for C = 0.01), not below it', () => {
    const corner = { slashBps: MIN_SLASH_BPS, rewardBps: MAX_REWARD_BPS }
    const least = minimumStake({ ...corner, sampleRate: DEVNET_SAMPLE_RATE, cost: 0.01, reward: 0 })
    expect(least).toBeCloseTo(4, 10)
    const at = (stake: number, bps = corner) =>
      equilibrium({ ...devnet, ...bps, stake, slashMin: 0, collusion: 0 }).threshold
    expect(at(4)).toBeCloseTo(0.25, 12)
    expect(at(4.4)).toBeLessThan(0.25)
    expect(at(3.6)).toBeGreaterThan(0.25)
    // parameters outside the bounds would not hold it at that stake
    const outside = { slashBps: MIN_SLASH_BPS - 200, rewardBps: MAX_REWARD_BPS + 500 }
    expect(withinBounds(outside)).toBe(false)
    expect(at(4.4, outside)).toBeGreaterThan(0.25)
    expect(withinBounds(corner)).toBe(true)
  })

  it('emission alone deters when R > C / p: no stake needed', () => {
    expect(
      minimumStake({ slashBps: 1000, rewardBps: 9000, sampleRate: 0.25, cost: 0.01, reward: 0.05 }),
    ).toBe(0)
  })
})
