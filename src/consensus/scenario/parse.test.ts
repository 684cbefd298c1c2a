import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { ScenarioError } from '../../errors/consensus.ts'
import { parseScenario } from './parse.ts'

const good = JSON.parse(
  readFileSync(
    join(import.meta.dirname, '../../../vectors/yuma/classic_zero_weights.json'),
    'utf8',
  ),
)

// biome-ignore lint/suspicious/noExplicitAny: the tests break arbitrary fields of the JSON
function fieldOf(mutate: (s: any) => void): string {
  const s = structuredClone(good)
  mutate(s)
  try {
    parseScenario(s)
  } catch (error) {
    expect(error).toBeInstanceOf(ScenarioError)
    return (error as ScenarioError).field
  }
  return 'no error'
}

describe('scenario validation names the field', () => {
  it('accepts the public file', () => {
    expect(parseScenario(good).params.n).toBe(2)
  })
  it('rejects bad input', () => {
    expect(fieldOf((s) => (s.format = 'x'))).toBe('format')
    expect(fieldOf((s) => delete s.params.kappa)).toBe('params.kappa')
    expect(fieldOf((s) => (s.params.kappa = 70000))).toBe('params.kappa')
    expect(fieldOf((s) => s.neurons.pop())).toBe('neurons')
    expect(fieldOf((s) => (s.neurons[1].stake = '-5'))).toBe('neurons[1].stake')
    expect(fieldOf((s) => (s.events[1].uid = 7))).toBe('events[1].uid')
    expect(fieldOf((s) => (s.events[1].weights = [[1, 65536]]))).toBe('events[1].weights[0][1]')
    expect(fieldOf((s) => (s.events[1].weights = [[5, 1]]))).toBe('events[1].weights[0][0]')
    expect(fieldOf((s) => (s.events[2].block = 0))).toBe('events[2].block')
    expect(fieldOf((s) => s.expect.pop())).toBe('expect')
    expect(fieldOf((s) => (s.expect[0].emission = ['1']))).toBe('expect[0].emission')
  })
  it('gives a one-line message', () => {
    const s = structuredClone(good)
    s.params.bondsPenalty = 70000
    expect(() => parseScenario(s)).toThrow(
      'scenario: params.bondsPenalty: u16 overflow: 70000 is above 65535',
    )
  })
})
