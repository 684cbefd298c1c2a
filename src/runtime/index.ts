/**
 * The deterministic inference runtime: integer-only llama models from GGUF, seeded sampling,
 * trace commitments and their openings. Pure: no I/O, no clocks, no ambient randomness.
 */

export { forwardToken, Sequence } from './forward.ts'
export {
  type GenerateOptions,
  type GenerateRequest,
  type GenerateResult,
  generate,
  generateSteps,
  validateRequest,
} from './generate.ts'
export { readGguf, writeGguf } from './gguf/index.ts'
export { createKernel, type Kernel, type KernelKind } from './kernels/index.ts'
export { configBytes, LIMITS, type ModelConfig } from './model/config.ts'
export { DEFAULT_MODEL_NAME, defaultModelBytes, defaultModelSpec } from './model/default.ts'
export {
  type LayerWeights,
  type LoadModelOptions,
  loadModel,
  type Model,
  type QMatrix,
  readConfig,
} from './model/load.ts'
export { buildSyntheticModel, type SyntheticModelSpec } from './model/synthetic.ts'
export { Prng } from './sampler/prng.ts'
export { argmax, type SamplingParams, sample, samplingParams } from './sampler/sample.ts'
export { type Tokenizer, tokenizerFromGguf } from './tokenizer/index.ts'
export { TraceCapture } from './trace/capture.ts'
export { TraceHasher, traceLeaf, vecChunks, vecRoot } from './trace/hasher.ts'
export { elementInputs, weightRow } from './trace/inputs.ts'
export {
  bytesEqual,
  fromHex,
  merkleProof,
  merkleRoot,
  rootFromProof,
  toHex,
} from './trace/merkle.ts'
export {
  leafHashes,
  openTraceElement,
  openWeightLeaf,
  type TraceOpening,
  verifyTraceOpening,
  verifyWeightOpening,
  type WeightOpening,
  weightRowBytes,
} from './trace/open.ts'
export {
  LAYER_OPS,
  NO_LAYER,
  OP_NAMES,
  OpKind,
  opIdBytes,
  parseOpId,
  type TraceSink,
} from './trace/ops.ts'
export { type ElementInputs, recomputeElement, type WeightRow } from './trace/recompute.ts'
