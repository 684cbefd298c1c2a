import { describe, expect, it } from 'vitest'
import { runInvariantCampaign } from './invariant-campaign.ts'

/**
 * CI's bounded, seeded sample of the invariant campaign (src/chain/invariant-campaign.ts): every
 * protocol invariant after every action of random sequences by random callers. The long run is
 * `npm run fuzz:chain -- --runs 10000` (docs/BENCHMARKS.md records its count and time);
 * VERITY_FC_RUNS overrides the sample size here.
 */
const RUNS = Number(process.env.VERITY_FC_RUNS ?? 250)

describe('protocol invariants over random action sequences', () => {
  it('hold after every action, and unauthorised calls change nothing', async () => {
    const result = await runInvariantCampaign({ runs: RUNS, seed: 4242 })
    expect(result.runs).toBe(RUNS)
    // the sample reaches every kind of action
    expect(Object.keys(result.counts).length).toBeGreaterThanOrEqual(20)
  }, 600_000)
})
