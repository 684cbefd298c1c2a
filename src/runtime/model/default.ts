import { buildLlamaVocab } from '../tokenizer/build-vocab.ts'
import { trainSpmBpe } from '../tokenizer/train.ts'
import { DEFAULT_CORPUS } from './default-corpus.ts'
import { buildSyntheticModel, type SyntheticModelSpec } from './synthetic.ts'

/**
 * The synthetic tiny model: llama architecture with grouped-query attention, random weights from
 * a fixed seed, and a 512-token vocab trained on a short built-in English text. It is built in
 * memory by pure code, so the runtime's own tests and vectors need no file. The default model of
 * the CLI, the devnet and most tests is the trained verity-tiny (models/verity-tiny.gguf,
 * docs/MODEL.md), which the CLI reads from disk (src/cli/model-file.ts).
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
/** The synthetic tiny model's GGUF bytes (built once per process; deterministic). */
export function defaultModelBytes(): Uint8Array {
  cached ??= buildSyntheticModel(defaultModelSpec())
  return cached
}
