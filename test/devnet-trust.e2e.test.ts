import { describe, expect, it } from 'vitest'
import { runDevnetJson } from './devnet-json.ts'

/**
 * `verity devnet --epochs E --json` under user load, as the acceptance runs it: honest
 * miners are never flagged and earn, a selective cheater (honest only to what it takes for a
 * validator's check) earns nothing by the last epoch. CI runs a short variant; the long one
 * (`npm run test:long`, VERITY_LONG=1) runs more load and longer epochs, and must check at least
 * 1,000 answers.
 */
const long = process.env.VERITY_LONG === '1'
const epochs = 4
const load = long ? 16 : 6
const epochSeconds = long ? 90 : 8

type Report = {
  miners: {
    uid: number
    hotkey: string
    cheater: boolean
    cheatMode: string | null
    emission: string
    flags: number
  }[]
  checkedAnswers: number
  userRequests: { served: number; failed: number }
}

const devnet = (args: string[]) => runDevnetJson<Report>([...args, '--json'])

const common = ['--epochs', String(epochs), '--epoch-seconds', String(epochSeconds)]
// setup includes naming the dispute game, which mines through its governance delay (6,018 blocks)
const timeout = (epochs * epochSeconds + (long ? 900 : 240)) * 1000

describe(`verity devnet under load (${long ? 'long' : 'short'} variant)`, () => {
  it(
    `--load ${load}: every honest miner earns and is never flagged`,
    async () => {
      const report = await devnet([...common, '--load', String(load), '--sample-rate', '0.5'])
      console.log('honest run', JSON.stringify(report))
      expect(report.miners).toHaveLength(3)
      for (const m of report.miners) {
        expect(m.flags).toBe(0)
        expect(BigInt(m.emission)).toBeGreaterThan(0n)
      }
      expect(report.userRequests.served).toBeGreaterThan(0)
      expect(report.checkedAnswers).toBeGreaterThanOrEqual(long ? 1000 : 10)
    },
    timeout,
  )

  it(
    `--cheaters 1 --cheat-mode selective --load ${load}: the cheater earns nothing by the last epoch`,
    async () => {
      const report = await devnet([
        ...common,
        '--cheaters',
        '1',
        '--cheat-mode',
        'selective',
        '--load',
        String(load),
      ])
      console.log('selective cheater run', JSON.stringify(report))
      const cheater = report.miners.find((m) => m.cheater)!
      expect(cheater.cheatMode).toBe('selective')
      expect(cheater.emission).toBe('0')
      expect(cheater.flags).toBeGreaterThan(0)
      for (const m of report.miners.filter((m) => !m.cheater)) {
        expect(m.flags).toBe(0)
        expect(BigInt(m.emission)).toBeGreaterThan(0n)
      }
    },
    timeout,
  )
})
