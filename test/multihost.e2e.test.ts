import { spawn } from 'node:child_process'
import { readlinkSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'

const root = join(import.meta.dirname, '..')

/**
 * Runs test/multihost/scenario.ts inside a network namespace this test creates (`unshare --net`):
 * every process binds 127.0.0.x inside it, the firewall rule that cuts a miner lives and dies with
 * it, and nothing reaches the machine's own network. The bounded CI variant; the larger one is
 * `npm run test:multihost`.
 */
function scenario(
  args: string[],
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(
      'unshare',
      [
        '--net',
        '--',
        process.execPath,
        join(root, 'bin/run-ts.js'),
        'test/multihost/scenario.ts',
        ...args,
      ],
      {
        cwd: root,
        stdio: ['ignore', 'pipe', 'pipe'],
        env: { ...process.env, VERITY_OUTER_NETNS: readlinkSync('/proc/self/ns/net') },
      },
    )
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (d: Buffer) => {
      stdout += d
    })
    child.stderr.on('data', (d: Buffer) => {
      stderr += d
    })
    child.once('exit', (code) => resolve({ code, stdout, stderr }))
  })
}

describe('the network as separate hosts', () => {
  it('serves through a cut miner host, weighs it down, and takes it back once healed', async () => {
    const run = await scenario([
      '--epoch-seconds',
      '6',
      '--cut-seconds',
      '90',
      '--heal-seconds',
      '150',
    ])
    if (run.code !== 0) console.error(run.stderr.slice(-8000))
    expect(run.code).toBe(0)
    const report = JSON.parse(run.stdout.trim().split('\n').pop()!)
    console.log('multihost', JSON.stringify(report))
    // every host published its own address inside the namespace, nothing else
    for (const addrs of Object.values(report.published) as string[][]) {
      expect(addrs.length).toBeGreaterThan(0)
      for (const a of addrs) expect(a).toMatch(/^\/ip4\/127\.0\.0\.[2-8]\/tcp\/4001\/p2p\//)
    }
    expect(report.warm).toBe(true)
    const before = report.requests.beforeCut
    expect(before.ok / before.requests).toBeGreaterThanOrEqual(0.95)
    expect(before.byCutMiner).toBeGreaterThan(0)
    // the cut: users keep being served by the others, none by the cut miner
    const during = report.requests.duringCut
    expect(during.requests).toBeGreaterThan(5)
    expect(during.ok / during.requests).toBeGreaterThanOrEqual(0.9)
    expect(during.byCutMiner).toBe(0)
    expect(report.dropped).toBe(true)
    // healed: served again and weighed by both validators
    expect(report.recovered).toBe(true)
    expect(report.requests.afterHeal.byCutMiner).toBeGreaterThan(0)
    const after = report.requests.afterHeal
    expect(after.ok / after.requests).toBeGreaterThanOrEqual(0.95)
    // every answer's stream was closed on the miner: none linger to exhaust its stream limit
    expect(report.openStreams).toEqual({ miner0: 0, miner1: 0, miner2: 0 })
  }, 900_000)
})
