/**
 * The compute market's invariant campaign (src/chain/market-campaign.ts) from the command line:
 *
 *   npm run fuzz:market -- --runs 2000 [--seed 1515] [--max-actions 30]
 *
 * Prints progress every 100 sequences and one JSON line at the end (runs, actions, reverted
 * transactions, milliseconds, actions by kind, leases closed by reason). Exits 1 on the first
 * broken invariant, after fast-check has shrunk it to a minimal sequence.
 */
import { parseArgs } from 'node:util'
import { runMarketCampaign } from '../src/chain/market-campaign.ts'

const { values } = parseArgs({
  options: {
    runs: { type: 'string', default: '1000' },
    seed: { type: 'string', default: '1515' },
    'max-actions': { type: 'string', default: '30' },
  },
})
const runs = Number(values.runs)
const seed = Number(values.seed)
const maxActions = Number(values['max-actions'])
if (!Number.isSafeInteger(runs) || runs < 1) throw new Error('--runs: a positive integer')

try {
  const result = await runMarketCampaign({
    runs,
    seed,
    maxActions,
    every: 100,
    progress: (done, ms) => console.error(`${done} sequences in ${(ms / 1000).toFixed(0)} s`),
  })
  console.log(JSON.stringify({ seed, ...result }))
} catch (error) {
  console.error(error instanceof Error ? error.message : error)
  const cause = error instanceof Error ? error.cause : undefined
  if (cause) console.error(cause instanceof Error ? cause.message : cause)
  process.exit(1)
}
