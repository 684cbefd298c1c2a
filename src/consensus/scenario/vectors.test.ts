import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { compareScenario } from './compare.ts'
import { parseScenarioText } from './parse.ts'
import { runScenario } from './run.ts'

const DIR = join(import.meta.dirname, '../../../vectors/yuma')
const files = readdirSync(DIR).filter((f) => f.endsWith('.json'))

describe('public Yuma scenarios', () => {
  it('has all seven files', () => {
    expect(files.length).toBe(7)
  })
  for (const file of files) {
    it(`${file} matches within its tolerances`, () => {
      const scenario = parseScenarioText(readFileSync(join(DIR, file), 'utf8'))
      const results = runScenario(scenario)
      const cmp = compareScenario(scenario, results)
      expect(cmp.mismatches).toEqual([])
      expect(results.length).toBe(scenario.expect.length)
      // Integer fields are exact: no listed tolerance means max error 0.
      for (const [field, r] of Object.entries(cmp.fields)) {
        if (field.endsWith('U16') || field.toLowerCase().endsWith('emission'))
          expect(r.maxError).toBe(0)
      }
    })
  }
})
