import { describe, expect, it } from 'vitest'
import { runInvariantCampaign } from './invariant-campaign.ts'

/**
 * CI's bounded, seeded sample of the invariant campaign (src/chain/invariant-campaign.ts, with the
 * real dispute game: src/chain/campaign-disputes.ts): every protocol invariant after every action
 * of random sequences by random callers, and every dispute decision checked exactly (the slash
 * recomputed from the pool and its withdrawals, the burn, every balance). The long run is
 * `npm run fuzz:chain -- --runs 10000` (docs/BENCHMARKS.md records its count and time);
 * VERITY_FC_RUNS overrides the sample size here.
 */
const RUNS = Number(process.env.VERITY_FC_RUNS ?? 250)

describe('protocol invariants over random action sequences', () => {
  it('hold after every action, and unauthorised calls change nothing', async () => {
    const result = await runInvariantCampaign({ runs: RUNS, seed: 4242 })
    expect(result.runs).toBe(RUNS)
    // the sample reaches every kind of action
    expect(Object.keys(result.counts).length).toBeGreaterThanOrEqual(30)
    if (RUNS < 250) return
    // and the dispute game's every path: what seed 4242 reaches in 250 sequences
    const d = result.disputes
    expect(d.opened).toBeGreaterThanOrEqual(100)
    expect(d.decidedAtOpen).toBeGreaterThan(0)
    expect(d.secondChallengers).toBeGreaterThan(0)
    expect(d.moves).toBeGreaterThanOrEqual(300)
    expect(d.minerLost).toBeGreaterThan(0)
    expect(d.challengerLost).toBeGreaterThan(0)
    expect(d.timeouts).toBeGreaterThan(0)
    expect(d.lateMoves).toBeGreaterThan(0)
    expect(d.slashes).toBeGreaterThan(20)
    // slashes that reached withdrawals in their delay, and losses on a receipt already slashed
    expect(d.withdrawalsSlashed).toBeGreaterThan(0)
    expect(d.notSlashedAgain).toBeGreaterThan(0)
    // a cheater lost by the one step; an honest miner only ever by a timeout (checked per decision)
    expect(d.byReason['miner lost: ONE_STEP']).toBeGreaterThan(0)
    expect(d.byReason['challenger lost: ONE_STEP']).toBeGreaterThan(0)
    expect(Object.keys(d.refused).sort()).toEqual([
      'hotkey not registered',
      'no allowance',
      'no bond',
      'receipt already slashed',
      'receipt expired',
      "the challenger's second open",
      "the miner's own root",
    ])
  }, 900_000)
})
