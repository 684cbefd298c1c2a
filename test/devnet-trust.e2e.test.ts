import { spawn } from 'node:child_process'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'

/**
 * `verity devnet --epochs E --json` under user load, as the acceptance runs it: honest
 * miners are never flagged and earn, a selective cheater (honest only to what it takes for a
 * validator's check) earns nothing by the last epoch. CI runs a short variant; the long one
 * (`npm run test:long`, VERITY_LONG=1) runs more load and longer epochs, and must check at least
 * 1,000 answers.
 */
const bin = join(import.meta.dirname, '..', 'bin/verity.js')
const long = process.env.VERITY_LONG === '1'
const epochs = 4
const load = long ? 16 : 6
const epochSeconds = long ? 45 : 8

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

function devnet(args: string[]): Promise<Report> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [bin, 'devnet', ...args, '--json'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let out = ''
    let err = ''
    child.stdout!.on('data', (d: Buffer) => {
      out += d
    })
    child.stderr!.on('data', (d: Buffer) => {
      err += d
    })
    child.once('exit', (code) => {
      if (code !== 0) return reject(new Error(`devnet exited ${code}:\n${err}\n${out}`))
      try {
        resolve(JSON.parse(out.trim().split('\n').pop()!))
      } catch (error) {
        reject(new Error(`not one JSON line: ${out}\n${err}`, { cause: error }))
      }
    })
  })
}

const common = ['--epochs', String(epochs), '--epoch-seconds', String(epochSeconds)]
// + the dispute game's installation (mining through a game change's delay, about a minute)
const timeout = (epochs * epochSeconds + 240) * 1000

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
