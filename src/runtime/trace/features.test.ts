import { describe, expect, it } from 'vitest'
import { loadModel, type Model } from '../model/load.ts'
import { buildSyntheticModel } from '../model/synthetic.ts'
import { samplingParams } from '../sampler/sample.ts'
import { syntheticLlamaVocab } from '../tokenizer/build-vocab.ts'
import { oneStep } from './onestep.ts'
import { OP_NAMES, OpKind } from './ops.ts'
import { replayTrace } from './replay.ts'
import { positionOpAt, positionOpCount, positionOpIndex } from './schedule.ts'

// The one step on the features folded into existing ops: qwen2's q/k/v biases (in the row's
// modelRoot leaf and the projection element), NEOX rope pairs and Llama 3.1 rope frequency
// factors (in the rope element). The schedule is llama's: 1 + 17 L ops per position.

function model(spec: 'qwen2' | 'llama-rope-freqs-bias'): Model {
  return loadModel(
    buildSyntheticModel({
      name: spec,
      vocab: syntheticLlamaVocab(512),
      dim: 64,
      nLayers: 2,
      nHeads: 4,
      nKvHeads: 2,
      ffnDim: 96,
      contextLength: 64,
      seed: 4,
      tensorType: 'Q8_0',
      ...(spec === 'qwen2'
        ? { arch: 'qwen2' as const, tiedOutput: true, ropeTheta: 1e6 }
        : { attnBias: true, ropeFreqFactors: [1, 1, 1.5, 2.25, 4, 7.5, 8, 8] }),
    }),
  )
}

const request = {
  promptTokens: [1, 40, 90, 300, 7],
  maxTokens: 4,
  params: samplingParams({ temperature: 0.9 }),
  seed: 3,
}

for (const spec of ['qwen2', 'llama-rope-freqs-bias'] as const) {
  describe(`the one step on ${spec}`, () => {
    const m = model(spec)
    const { config } = m

    it('upholds every element of every op of the last position, with the llama schedule', () => {
      const honest = replayTrace(m, request)
      const last = honest.positions - 1
      const miner = replayTrace(m, request, { position: last })
      const ctx = miner.oneStepContext()
      const count = positionOpCount(config, miner.shape, last)
      expect(count).toBe(1 + 17 * config.nLayers + 3)
      let steps = 0
      for (let index = 0; index < count; index++) {
        const { kind } = positionOpAt(config, miner.shape, last, index)
        if (kind === OpKind.ATTN_MIX) continue // its long sum has its own sub-trace (mix.ts)
        const n = miner.positionVector(index).length
        for (let e = 0; e < n; e++) {
          const r = oneStep(ctx, miner.oneStepProof(index, e))
          if (!r.upheld) throw new Error(`${OP_NAMES[kind]} op ${index}, element ${e} not upheld`)
          steps++
        }
      }
      expect(steps).toBeGreaterThan(1000)
    })

    for (const kind of [OpKind.K, OpKind.Q_ROPE, OpKind.K_ROPE] as const) {
      it(`refutes a cheater's ${OP_NAMES[kind]} element (bias / rope pairing in the recomputation)`, () => {
        // Element 1 of a head: its NEOX partner is element 1 + ropeDim/2, its NORM partner 0.
        const fault = { pos: 3, layer: 1, kind, element: 1, delta: 5000 }
        const miner = replayTrace(m, request, { fault, position: 3 })
        const index = positionOpIndex(config, 1, kind)
        const r = oneStep(miner.oneStepContext(), miner.oneStepProof(index, 1))
        expect(r.upheld).toBe(false)
        expect(r.claimed - r.recomputed).toBe(5000)
      })
    }
  })
}
