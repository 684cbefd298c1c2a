import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { FINE_TUNED_MODEL_PATH } from '../src/cli/devnet-competition.ts'
import { noisyTinyBytes } from './competition-models.ts'
import { runDevnetJson } from './devnet-json.ts'
import { TRAINED_MODEL_PATH } from './trained-model.ts'

/**
 * `verity devnet --competition --epochs 2 --json`, as the acceptance runs it: the better
 * model earns the most, the default less (but something), the byte-identical copy published after
 * the first seed was fixed is not scored that epoch and earns nothing, and both competition
 * validators computed the same losses. Until models/verity-tiny-ft.gguf ships, the default model
 * plays "better" against a noisier copy of itself as "base".
 */
type Miner = {
  uid: number
  hotkey: string
  role: 'base' | 'better' | 'copy'
  modelRoot: string
  score: string | null
  reason?: string
  emission: string
  emissionByEpoch: string[]
}
type Report = {
  miners: { uid: number; emission: string }[]
  competition: {
    netuid: number
    seedBlock: string
    validatorsAgree: boolean
    miners: Miner[]
    validators: { hotkey: string; seedBlock: string; scores: Record<string, string | null> }[]
    epochs: { epoch: string; seedBlock: string; scored: number[]; pending: number[] }[]
    evalMsPerModel: number | null
  }
}

const dir = mkdtempSync(join(tmpdir(), 'verity-competition-e2e-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

function modelFlags(): string[] {
  if (existsSync(FINE_TUNED_MODEL_PATH)) return []
  const base = join(dir, 'base.gguf')
  writeFileSync(base, noisyTinyBytes(1))
  return ['--base-model', base, '--better-model', TRAINED_MODEL_PATH]
}

describe('verity devnet --competition', () => {
  it('pays the better model most, the base less, the later copy nothing; validators agree', async () => {
    const report = await runDevnetJson<Report>([
      '--competition',
      '--epochs',
      '2',
      '--epoch-seconds',
      '1',
      '--miners',
      '1',
      '--validators',
      '1',
      '--json',
      ...modelFlags(),
    ])
    console.log('competition', JSON.stringify(report.competition))
    const c = report.competition
    expect(c.netuid).toBe(2)
    // the inference subnet's report is still there
    expect(report.miners).toHaveLength(1)
    const role = (r: Miner['role']) => c.miners.find((m) => m.role === r)!
    const [base, better, copy] = [role('base'), role('better'), role('copy')]
    expect(BigInt(better.emission)).toBeGreaterThan(BigInt(base.emission))
    expect(BigInt(base.emission)).toBeGreaterThan(0n)
    expect(copy.emission).toBe('0')
    expect(copy.emissionByEpoch).toEqual(['0', '0'])
    // exact losses: the copy's is the better's, the base's is higher
    expect(better.score).toMatch(/^\d+$/)
    expect(copy.score).toBe(better.score)
    expect(BigInt(base.score!)).toBeGreaterThan(BigInt(better.score!))
    expect(copy.modelRoot).toBe(better.modelRoot)
    expect(base.modelRoot).not.toBe(better.modelRoot)
    // the copy was published after the first epoch's seed: not scored then, scored the next
    expect(c.epochs).toHaveLength(2)
    expect(c.epochs[0]!.pending).toEqual([copy.uid])
    expect(c.epochs[0]!.scored.sort()).toEqual([base.uid, better.uid].sort())
    expect(c.epochs[1]!.scored.sort()).toEqual([base.uid, better.uid, copy.uid].sort())
    expect(BigInt(c.epochs[1]!.seedBlock)).toBeGreaterThan(BigInt(c.epochs[0]!.seedBlock))
    // two validators, the same seed block and the same losses
    expect(c.validatorsAgree).toBe(true)
    expect(c.validators).toHaveLength(2)
    expect(c.validators[1]!.seedBlock).toBe(c.seedBlock)
    expect(c.validators[1]!.scores).toEqual(c.validators[0]!.scores)
    expect(c.validators[0]!.scores[String(better.uid)]).toBe(better.score)
    expect(c.evalMsPerModel).toBeGreaterThan(0)
  }, 240_000)
})
