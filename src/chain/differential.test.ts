import fc from 'fast-check'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { runScenario } from '../consensus/scenario/run.ts'
import type { Scenario, ScenarioEvent } from '../consensus/scenario/types.ts'
import { type Devnet, startDevnet } from './devnet.ts'
import { runScenarioOnchain } from './yuma-onchain.ts'

/**
 * Differential test against src/consensus: random subnets (up to 64 uids, random stakes and
 * weights with explicit zeros and omitted uids, both bond modes, liquid alpha on and off, random
 * kappa and bonds penalty) over several epochs. The contracts' stored u16 values, bonds and
 * emissions must equal the TypeScript module's bit for bit. Fixed seed; VERITY_FC_RUNS raises the
 * number of subnets (default 6).
 */
const RUNS = Number(process.env.VERITY_FC_RUNS ?? 6)

const scenarioArb = fc
  .record({
    n: fc.integer({ min: 2, max: 64 }),
    validators: fc.integer({ min: 1, max: 16 }),
    yuma3: fc.boolean(),
    liquidAlpha: fc.boolean(),
    kappa: fc.constantFrom(32767, 0, 65535, 20000, 45000),
    bondsPenalty: fc.constantFrom(65535, 0, 30000),
    bondsMovingAverage: fc.constantFrom(900_000, 975_000, 500_000),
    epochs: fc.integer({ min: 2, max: 4 }),
    seed: fc.integer({ min: 0, max: 2 ** 31 - 1 }),
  })
  .map((p): Scenario => {
    let s = p.seed >>> 0
    const rnd = () => {
      s = (Math.imul(s, 1103515245) + 12345) >>> 0
      return s / 4294967296
    }
    const n = p.n
    const v = Math.min(p.validators, n)
    const neurons = Array.from({ length: n }, (_, uid) => ({
      uid,
      stake: uid < v || rnd() < 0.2 ? BigInt(Math.floor(rnd() * 1e12)) : 0n,
      registrationBlock: 1,
    }))
    const events: ScenarioEvent[] = []
    let block = 2
    for (let e = 0; e < p.epochs; e++) {
      for (let i = 0; i < n; i++) {
        if (rnd() < (i < v ? 0.8 : 0.1)) {
          const weights: Array<[number, number]> = []
          for (let j = 0; j < n; j++) {
            const x = rnd()
            if (x < 0.3) continue // omitted
            weights.push([j, x < 0.4 ? 0 : Math.floor(rnd() * 65536)]) // explicit zero or a value
          }
          events.push({ type: 'setWeights', block, uid: i, weights })
        }
      }
      if (rnd() < 0.3) {
        const uid = Math.floor(rnd() * n)
        events.push({ type: 'setStake', block, uid, stake: BigInt(Math.floor(rnd() * 1e12)) })
      }
      events.push({ type: 'epoch', block, emission: BigInt(1e9 + Math.floor(rnd() * 1e9)) })
      block += 1 + Math.floor(rnd() * 3)
    }
    return {
      name: `random-${p.seed}`,
      description: 'differential',
      params: {
        n,
        tempo: 1 + Math.floor(rnd() * 3),
        activityCutoff: 2 + Math.floor(rnd() * 8),
        kappa: p.kappa,
        bondsPenalty: p.bondsPenalty,
        bondsMovingAverage: p.bondsMovingAverage,
        yuma3: p.yuma3,
        liquidAlpha: p.liquidAlpha,
        alphaLow: 6553,
        alphaHigh: 58982,
        alphaSigmoidSteepness: 1000,
        maxAllowedValidators: Math.max(1, v),
        stakeThreshold: 0n,
        commitReveal: false,
        bondsResetOn: false,
        ownerUid: null,
      } as Scenario['params'],
      neurons,
      events,
      tolerance: {},
      expect: [],
    }
  })

describe('on-chain epoch equals src/consensus bit for bit', () => {
  let devnet: Devnet
  beforeAll(async () => {
    devnet = await startDevnet({ accounts: 2 })
  })
  afterAll(async () => {
    await devnet?.stop()
  })

  it('random subnets over several epochs, both bond modes', async () => {
    await fc.assert(
      fc.asyncProperty(scenarioArb, async (scenario) => {
        const onchain = await runScenarioOnchain(scenario, { devnet })
        expect(onchain).toEqual(runScenario(scenario))
      }),
      { seed: 20261122, numRuns: RUNS, endOnFailure: true },
    )
  }, 900_000)
})
