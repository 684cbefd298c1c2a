import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { parseDeployment } from '../src/chain/deployment.ts'
import { runDevnetJson } from './devnet-json.ts'

/**
 * `verity devnet --vision --epochs 3 --json`, as the acceptance runs it: the vision subnet
 * (the next netuid) lists its two miners with task 'vision'; the honest one earns, the one sending
 * invalid proofs earns nothing in any epoch and has evidence against it at the validators; the
 * deployment manifest names the VisionSubnets contract.
 */
type VisionMiner = {
  uid: number
  hotkey: string
  task: string
  cheater: boolean
  emission: string
  emissionByEpoch: string[]
  validProofs: number
  invalidProofs: number
  evidence: number
}
type Report = {
  miners: { uid: number; emission: string }[]
  deployment: string
  vision: {
    netuid: number
    modelId: string
    contracts: { vision: string; answers: string }
    miners: VisionMiner[]
    gatewayAnswers: { served: number; failed: number; wrongLabel: number }
  }
}

const dir = mkdtempSync(join(tmpdir(), 'verity-vision-e2e-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

describe('verity devnet --vision', () => {
  it('pays the honest vision miner and nothing to the one sending invalid proofs', async () => {
    const started = Date.now()
    const report = await runDevnetJson<Report>([
      '--vision',
      '--epochs',
      '3',
      '--epoch-seconds',
      '1',
      '--miners',
      '1',
      '--validators',
      '1',
      '--json',
      '--deployment-out',
      join(dir, 'deployment.json'),
    ])
    console.log('vision', JSON.stringify(report.vision), `${Date.now() - started} ms`)
    const v = report.vision
    expect(v.netuid).toBe(2)
    expect(v.modelId).toMatch(/^0x[0-9a-f]{64}$/)
    // the inference subnet's report is still there
    expect(report.miners).toHaveLength(1)
    expect(v.miners).toHaveLength(2)
    const honest = v.miners.find((m) => !m.cheater)!
    const cheater = v.miners.find((m) => m.cheater)!
    for (const m of v.miners) expect(m.task).toBe('vision')
    expect(BigInt(honest.emission)).toBeGreaterThan(0n)
    expect(cheater.emission).toBe('0')
    expect(cheater.emissionByEpoch).toEqual(['0', '0', '0'])
    expect(honest.emissionByEpoch).toHaveLength(3)
    // 2 validators x 2 images x 3 epochs, less any call a loaded machine let time out
    expect(honest.validProofs).toBeGreaterThanOrEqual(10)
    expect(honest.validProofs).toBeLessThanOrEqual(12)
    expect(honest.invalidProofs).toBe(0)
    expect(cheater.validProofs).toBe(0)
    expect(cheater.invalidProofs).toBeGreaterThanOrEqual(10)
    expect(cheater.invalidProofs).toBeLessThanOrEqual(12)
    // every invalid answer was signed by the cheater: each is evidence
    expect(cheater.evidence).toBe(cheater.invalidProofs)
    expect(honest.evidence).toBe(0)
    const manifest = parseDeployment(readFileSync(report.deployment, 'utf8'), report.deployment)
    expect(manifest.contracts.vision).toBe(v.contracts.vision)
    // a user's PNG digits through the gateway: all answered (the cheater failed over), none wrong
    expect(v.gatewayAnswers).toEqual({ served: 6, failed: 0, wrongLabel: 0 })
  }, 120_000)
})
