import { trainedModelBytes } from '../../test/trained-model.ts'
import { generate } from './generate.ts'
import { defaultModelBytes, defaultModelSpec } from './model/default.ts'
import { loadModel } from './model/load.ts'
import { buildSyntheticModel } from './model/synthetic.ts'
import { samplingParams } from './sampler/sample.ts'
import { toHex } from './trace/merkle.ts'

export type RuntimeVector = {
  model: string
  modelRoot: string
  promptTokens: number[]
  params: { temperature: number; topP: number; topK: number }
  seed: number
  maxTokens: number
  tokens: number[]
  traceRoot: string
  traceLeaves: number
}

/**
 * The golden-vector models: the trained default model (models/verity-tiny.gguf), and the
 * synthetic random-weight model of `defaultModelBytes()` stored as F32, F16 and Q8_0.
 */
export function vectorModels(): Record<string, Uint8Array> {
  return {
    'verity-tiny-f32': trainedModelBytes(),
    'synthetic-f32': defaultModelBytes(),
    'synthetic-f16': buildSyntheticModel({ ...defaultModelSpec(), tensorType: 'F16' }),
    'synthetic-q8_0': buildSyntheticModel({ ...defaultModelSpec(), tensorType: 'Q8_0' }),
  }
}

const CASES = [
  {
    promptTokens: [1, 476, 394, 309],
    params: { temperature: 0, topP: 1, topK: 0 },
    seed: 0,
    maxTokens: 16,
  },
  {
    promptTokens: [1, 20, 300, 41, 7, 7, 7],
    params: { temperature: 1, topP: 1, topK: 0 },
    seed: 1,
    maxTokens: 24,
  },
  {
    promptTokens: [1],
    params: { temperature: 0.7, topP: 0.9, topK: 40 },
    seed: 123456789,
    maxTokens: 20,
  },
  {
    promptTokens: [1, 99, 98, 97, 96, 95],
    params: { temperature: 1.5, topP: 0.5, topK: 0 },
    seed: 2 ** 40 + 5,
    maxTokens: 12,
  },
]

/** Computes every vector afresh (the test compares this with the committed file). */
export function runtimeVectors(): RuntimeVector[] {
  const out: RuntimeVector[] = []
  for (const [name, bytes] of Object.entries(vectorModels())) {
    const model = loadModel(bytes)
    for (const c of CASES) {
      const result = generate(model, { ...c, params: samplingParams(c.params) })
      out.push({
        model: name,
        modelRoot: toHex(model.modelRoot),
        ...c,
        tokens: result.tokens,
        traceRoot: toHex(result.traceRoot!),
        traceLeaves: result.traceLeafCount!,
      })
    }
  }
  return out
}
