import { buildLlamaVocab } from '../tokenizer/build-vocab.ts'
import { trainSpmBpe } from '../tokenizer/train.ts'
import { DEFAULT_CORPUS } from './default-corpus.ts'
import { buildSyntheticModel, type SyntheticModelSpec } from './synthetic.ts'

/**
 * The default model until a trained one replaces it: llama architecture with grouped-query
 * attention, random weights from a fixed seed, and a 512-token vocab trained on a short built-in
 * English text. Small enough that a test generates with it in milliseconds.
 */
export const DEFAULT_MODEL_NAME = 'verity-tiny-random'

export function defaultModelSpec(): SyntheticModelSpec {
  return {
    name: DEFAULT_MODEL_NAME,
    vocab: buildLlamaVocab(trainSpmBpe(DEFAULT_CORPUS, 512)),
    dim: 64,
    nLayers: 2,
    nHeads: 4,
    nKvHeads: 2,
    ffnDim: 192,
    contextLength: 512,
    seed: 20261122,
    tensorType: 'F32',
  }
}

let cached: Uint8Array | undefined
/** The default model's GGUF bytes (built once per process; deterministic). */
export function defaultModelBytes(): Uint8Array {
  cached ??= buildSyntheticModel(defaultModelSpec())
  return cached
}
