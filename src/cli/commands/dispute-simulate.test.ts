import { afterEach, describe, expect, it, vi } from 'vitest'
import { main } from '../main.ts'

/** `verity dispute simulate` through the CLI's entry point, stdout captured. */
async function verity(...argv: string[]) {
  const out: string[] = []
  const err: string[] = []
  vi.spyOn(console, 'log').mockImplementation((...a) => void out.push(a.join(' ')))
  vi.spyOn(console, 'error').mockImplementation((...a) => void err.push(a.join(' ')))
  const code = await main(argv)
  return { code, stdout: out.join('\n'), stderr: err.join('\n') }
}

afterEach(() => {
  vi.restoreAllMocks()
})

describe('verity dispute simulate', () => {
  it('--json: the bound from the parameters and a row per sample rate', async () => {
    const r = await verity(
      'dispute',
      'simulate',
      '--sample-rate',
      '0.025,0.1',
      '--stake',
      '100',
      '--slash-bps',
      '1000',
      '--reward-bps',
      '9000',
      '--slash-min',
      '0',
      '--reward',
      '0.1',
      '--cost',
      '0.055',
      '--answers',
      '2000',
      '--trials',
      '50',
      '--json',
    )
    expect(r.code).toBe(0)
    const out = JSON.parse(r.stdout)
    expect(out.slash).toBe(10)
    expect(out.effectiveSlash).toBeCloseTo(1, 12)
    expect(out.threshold).toBeCloseTo(0.05, 12)
    expect(out.inBounds).toBe(true)
    expect(out.rows.map((x: { honestPays: boolean }) => x.honestPays)).toEqual([false, true])
    const [below, above] = out.rows as { simulated: number; honest: number }[]
    expect(below!.simulated).toBeGreaterThan(below!.honest)
    expect(above!.simulated).toBeLessThan(above!.honest)
  })

  it('prints a table by default, flagging parameters outside the bounds', async () => {
    const r = await verity('dispute', 'simulate', '--slash-bps', '500', '--answers', '100')
    expect(r.code).toBe(0)
    expect(r.stdout).toMatch(/^S = 50\.0000 VTY slashed/)
    expect(r.stdout).toMatch(/OUTSIDE the game's bounds/)
    expect(r.stdout).toMatch(/^0\.2500 +0\.0000 .* yes$/m)
  })

  it('refuses a sample rate that is not a probability, with one clear line', async () => {
    const r = await verity('dispute', 'simulate', '--sample-rate', '1.5')
    expect(r.code).toBe(2)
    expect(r.stderr).toMatch(/^error: --sample-rate must be a number between 0 and 1/)
    expect((await verity('dispute', 'open')).code).toBe(2)
  })
})
