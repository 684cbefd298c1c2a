import { describe, expect, it } from 'vitest'
import { runDevnetJson } from './devnet-json.ts'

/**
 * `verity devnet --epochs 6 --cheaters 1 --cheat-mode subtle --json` as its own process: the
 * validators' re-executions catch the subtle cheater (one wrong value deep in its forward pass),
 * dispute its receipts on chain and win; its stake is slashed, no honest miner is, and no
 * challenger loses. Two miners (one honest, one cheater) and short epochs keep the work down; the
 * run still took about 6 minutes on the shared 2-core machine at load 5-6: about a minute is the
 * game's installation (mining through a game change's governance delay), then every node, the
 * re-executions and both sides' replays share one process.
 */

type Report = {
  miners: { hotkey: string; cheater: boolean; slashed: string; flags: number }[]
  disputes: { opened: number; minerLost: number; challengerLost: number; timedOut: number }
}

const devnet = (args: string[]) => runDevnetJson<Report>([...args])

describe('verity devnet with a subtle cheater', () => {
  it('the cheater loses disputes and is slashed; no honest miner is; no challenger loses', async () => {
    const report = await devnet([
      '--miners',
      '2',
      '--epochs',
      '6',
      '--cheaters',
      '1',
      '--cheat-mode',
      'subtle',
      '--epoch-seconds',
      '5',
      '--json',
    ])
    console.log(
      'devnet disputes',
      JSON.stringify({ miners: report.miners, disputes: report.disputes }),
    )
    const cheaters = report.miners.filter((m) => m.cheater)
    const honest = report.miners.filter((m) => !m.cheater)
    expect(cheaters).toHaveLength(1)
    expect(BigInt(cheaters[0]!.slashed)).toBeGreaterThan(0n)
    for (const m of honest) expect(m.slashed).toBe('0')
    expect(report.disputes.opened).toBeGreaterThanOrEqual(1)
    expect(report.disputes.minerLost).toBeGreaterThanOrEqual(1)
    expect(report.disputes.challengerLost).toBe(0)
  }, 600_000)
})
