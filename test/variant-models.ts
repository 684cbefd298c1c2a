import { loadModel, type Model } from '../src/runtime/model/load.ts'
import { buildSyntheticModel } from '../src/runtime/model/synthetic.ts'
import { syntheticLlamaVocab } from '../src/runtime/tokenizer/build-vocab.ts'

/**
 * Small models of each architecture variant the one step folds into llama's ops (tests):
 * - `qwen2`: q/k/v biases, NEOX rope pairing, tied output, rope base 10^6;
 * - `llama-rope-freqs`: llama with Llama 3.1 rope frequency factors (`rope_freqs.weight`);
 * - `llama-rope-freqs-bias`: the same with q/k/v biases.
 * All have config v2 bytes ("verity/model/v2"), dim 64, 4 heads of 16 (ropeDim 16, so 8
 * factors), 2 KV heads, 2 layers, ffn 96, a 512-token vocabulary, Q8_0 weights.
 */
export type VariantSpec = 'qwen2' | 'llama-rope-freqs' | 'llama-rope-freqs-bias'

export const ROPE_FACTORS = [1, 1, 1.5, 2.25, 4, 7.5, 8, 8] as const

const cache = new Map<string, Model>()

export function variantModel(spec: VariantSpec, seed = 4): Model {
  const key = `${spec}/${seed}`
  let m = cache.get(key)
  if (!m) {
    m = loadModel(
      buildSyntheticModel({
        name: spec,
        vocab: syntheticLlamaVocab(512),
        dim: 64,
        nLayers: 2,
        nHeads: 4,
        nKvHeads: 2,
        ffnDim: 96,
        contextLength: 64,
        seed,
        tensorType: 'Q8_0',
        ...(spec === 'qwen2'
          ? { arch: 'qwen2' as const, tiedOutput: true, ropeTheta: 1e6 }
          : { ropeFreqFactors: ROPE_FACTORS, attnBias: spec === 'llama-rope-freqs-bias' }),
      }),
    )
    cache.set(key, m)
  }
  return m
}
