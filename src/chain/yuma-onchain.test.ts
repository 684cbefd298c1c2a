import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { compareScenario } from '../consensus/scenario/compare.ts'
import { parseScenarioText } from '../consensus/scenario/parse.ts'
import { runScenario } from '../consensus/scenario/run.ts'
import { type Devnet, startDevnet } from './devnet.ts'
import { runScenarioOnchain } from './yuma-onchain.ts'

// The public scenarios, as copied into the repository (CI has no fixed path to shared/).
const dir = join(import.meta.dirname, '../../vectors/yuma')
const files = readdirSync(dir)
  .filter((f) => f.endsWith('.json'))
  .sort()

describe('verity yuma run --onchain: public scenarios', () => {
  let devnet: Devnet
  beforeAll(async () => {
    devnet = await startDevnet({ accounts: 2 })
  })
  afterAll(async () => {
    await devnet?.stop()
  })

  for (const file of files) {
    it(file, async () => {
      const scenario = parseScenarioText(readFileSync(join(dir, file), 'utf8'))
      const onchain = await runScenarioOnchain(scenario, { devnet })
      expect(onchain).toEqual(runScenario(scenario))
      const cmp = compareScenario(scenario, onchain)
      expect(cmp.mismatches).toEqual([])
      expect(cmp.matches).toBe(true)
    }, 600_000)
  }
})
