import { afterAll, describe, expect, it } from 'vitest'
import { defaultModelBytes } from '../src/runtime/model/default.ts'
import { buildSyntheticModel } from '../src/runtime/model/synthetic.ts'
import { compareWithLlamaCpp, crosscheckModelSpec, crosscheckTokens } from './compare.ts'
import { disposeLlama } from './llamacpp.ts'

afterAll(disposeLlama)

// Random weights give near-flat logits whose top two often differ by less than int8 rounding, so
// top-1 is only a loose guard here (target 95% once the trained model lands, issue 6); the logit
// cosine is the accuracy check.
describe('runtime vs llama.cpp, teacher-forced over 256 positions', () => {
  for (const type of ['F32', 'Q8_0'] as const) {
    it(`${type}: logit cosine >= 0.99`, async () => {
      const spec = crosscheckModelSpec(type)
      const result = await compareWithLlamaCpp(
        buildSyntheticModel(spec),
        crosscheckTokens(256, 2048),
      )
      console.log(`crosscheck ${type}: ${JSON.stringify(result)}`)
      expect(result.positions).toBe(256)
      expect(result.meanCosine).toBeGreaterThanOrEqual(0.99)
      expect(result.minCosine).toBeGreaterThanOrEqual(0.98)
      expect(result.top1).toBeGreaterThanOrEqual(0.85)
    })
  }

  it('the default model agrees too', async () => {
    const result = await compareWithLlamaCpp(defaultModelBytes(), crosscheckTokens(200, 512, 3))
    console.log(`crosscheck default: ${JSON.stringify(result)}`)
    expect(result.meanCosine).toBeGreaterThanOrEqual(0.99)
  })
})
