import { describe, expect, it } from 'vitest'
import { runMarketCampaign } from './market-campaign.ts'

/**
 * CI's bounded, seeded sample of the market's invariant campaign (src/chain/market-campaign.ts):
 * escrow conservation to the wei, no lease settled past its funds, no stranded deposit once
 * everything closes, unauthorised calls refused, after every action of random lifecycles. The
 * long run is `npm run fuzz:market -- --runs 2000` (docs/BENCHMARKS.md records its count and
 * time); VERITY_MARKET_RUNS overrides the sample size here.
 */
const RUNS = Number(process.env.VERITY_MARKET_RUNS ?? 300)

describe('market invariants over random lifecycles', () => {
  it('hold after every action and once everything is closed', async () => {
    const result = await runMarketCampaign({ runs: RUNS, seed: 1515 })
    expect(result.runs).toBe(RUNS)
    // the sample reaches every kind of action
    expect(Object.keys(result.counts).length).toBe(14)
    if (RUNS < 300) return
    // and every outcome that matters: leases made, paid and closed for every reason
    for (const t of ['order', 'bid', 'accept', 'deposit', 'withdraw', 'closeLease', 'closeBid'])
      expect(result.succeeded[t], t).toBeGreaterThan(0)
    for (const reason of ['TENANT', 'PROVIDER', 'INSUFFICIENT_FUNDS'])
      expect(result.closes[reason], reason).toBeGreaterThan(0)
  }, 600_000)
})
