import { describe, expect, it } from 'vitest'
import { parseSimulation } from './parse.ts'
import { SIMULATIONS } from './scenarios.ts'
import { simulate, summarize, toCsv } from './simulate.ts'
import { chartSvg } from './svg.ts'

const earned = (name: string, sim: string, epochs = 20) => {
  const r = simulate(SIMULATIONS[sim]!, epochs)
  const i = r.simulation.validators.findIndex((v) => v.name === name)
  return r.epochs.reduce((a, e) => a + e.validatorEmission[i]!, 0n)
}

describe('adversarial simulations', () => {
  it('commit-reveal takes most of a weight copier’s earnings away', () => {
    const free = earned('copier', 'weight-copying')
    const cr = earned('copier', 'weight-copying-cr')
    expect(cr * 10n).toBeLessThan(free * 7n)
  })
  it('a colluding minority below kappa earns ~nothing, above kappa it takes over', () => {
    expect(earned('colluder-a', 'collusion-below-kappa')).toBeLessThan(300_000_000n)
    expect(earned('colluder-a', 'collusion-above-kappa')).toBeGreaterThan(4_000_000_000n)
  })
  it('a lazy validator ends with zero dividends; a late switcher earns less than honest stake', () => {
    const r = simulate(SIMULATIONS['lazy-validator']!, 20)
    expect(r.epochs.at(-1)!.dividends[3]).toBe(0)
    expect(earned('late', 'late-switch', 30)).toBeLessThan(earned('honest-b', 'late-switch', 30))
  })
  it('writes a table, a chart and one summary line per actor', () => {
    const r = simulate(SIMULATIONS['weight-copying']!, 3)
    expect(toCsv(r).split('\n')[0]).toMatch(/^epoch,dividends:honest-a/)
    expect(summarize(r)).toHaveLength(8)
    const svg = chartSvg('t', [{ name: 'a', values: [0, 1] }], [{ name: 'b', values: [1, 0] }])
    expect(svg.startsWith('<svg')).toBe(true)
    expect(svg).toContain('<polyline')
  })
  it('parses simulation files and names bad fields', () => {
    const file = {
      format: 'verity-yuma-simulation/1',
      validators: [{ name: 'x', stake: 1, strategy: { kind: 'honest' } }],
      miners: [{ name: 'm' }],
    }
    expect(parseSimulation(file).epochs).toBe(40)
    expect(() =>
      parseSimulation({ ...file, validators: [{ stake: 1, strategy: { kind: 'evil' } }] }),
    ).toThrow('validators[0].strategy.kind')
  })
})
