import { describe, expect, it } from 'vitest'
import { runPaymentsCampaign } from './payments-campaign.ts'

/**
 * A seeded sample of the payment channels' invariant campaign (src/chain/payments-campaign.ts):
 * each transaction's success predicted by a model, channel state equal to the model's, the
 * contract's VTY equal to the unpaid deposits and VTY conserved, after every action.
 * VERITY_PAYMENTS_RUNS overrides the sample size.
 */
const RUNS = Number(process.env.VERITY_PAYMENTS_RUNS ?? 25)

describe('payment channel invariants over random sequences', () => {
  it('hold after every action', async () => {
    const result = await runPaymentsCampaign({ runs: RUNS, seed: 7 })
    expect(result.runs).toBe(RUNS)
    // the sample reaches every outcome that matters
    for (const t of ['open', 'topUp', 'settle', 'replay', 'startClose', 'finishClose', 'reclaim'])
      expect(result.succeeded[t] ?? 0, `${t} succeeded`).toBeGreaterThan(0)
    for (const t of ['settle', 'replay', 'topUp', 'finishClose', 'reclaim', 'startClose'])
      expect(result.refused[t] ?? 0, `${t} refused`).toBeGreaterThan(0)
  }, 300_000)
})
