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
export { type ByteSource, bytesSource, readGguf, writeGguf } from './gguf/index.ts'
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
export {
  type BoundaryOpening,
  type CheckpointOpening,
  checkpointHash,
  type ElementOpening,
  type NormChunk,
  type PositionLeafOpening,
  type TraceContext,
  type VectorInput,
  verifyBinding,
  verifyBoundaryOpening,
  verifyBoundaryVector,
  verifyCheckpointOpening,
  verifyElementOpening,
  verifyPositionLeafOpening,
  verifyPositionVector,
  verifyScheduledOpId,
  verifyWeightOpening,
  type WeightOpening,
  weightOpeningLeaf,
} from './trace/checks.ts'
export {
  CheckpointHasher,
  LeafStager,
  PositionTraceHasher,
  traceLeaf,
  vecChunks,
  vecRoot,
} from './trace/hasher.ts'
export { elementInputs, weightRow } from './trace/inputs.ts'
export {
  bisect,
  bytesEqual,
  fromHex,
  MerkleTree,
  merkleProof,
  merkleRoot,
  proofLength,
  rootFromProof,
  toHex,
} from './trace/merkle.ts'
export {
  type MixClaim,
  type MixFinalProof,
  type MixStepProof,
  type MixSumOpening,
  mixPartialSums,
  mixSumLeaf,
  mixSumsTree,
  verifyMixFinal,
  verifyMixStep,
  verifyMixSumOpening,
} from './trace/mix.ts'
export {
  configConstants,
  type InputRef,
  type OneStepContext,
  type OneStepProof,
  type OneStepResult,
  oneStep,
  oneStepVectors,
  oneStepWeights,
} from './trace/onestep.ts'
export {
  openElement,
  openNormChunk,
  openWeight,
  openWeightLeaf,
  weightRowBytes,
} from './trace/open.ts'
export {
  ALL_KINDS,
  CHECKPOINT_KIND,
  kindMask,
  LAYER_OPS,
  NO_LAYER,
  OP_NAMES,
  OpKind,
  opIdBytes,
  parseOpId,
  positionTag,
  type TraceFault,
  type TraceSink,
} from './trace/ops.ts'
export { type ElementInputs, recomputeElement, type WeightRow } from './trace/recompute.ts'
export {
  positionTrace,
  type ReplayOptions,
  replayTrace,
  TraceReplay,
} from './trace/replay.ts'
export {
  boundaryCount,
  boundaryIndexOf,
  boundaryOpAt,
  boundaryToPositionIndex,
  opLength,
  positionCount,
  positionOpAt,
  positionOpCount,
  positionOpIndex,
  samplesAt,
  shapeOf,
  type TraceShape,
  type WeightRef,
  weightLeafCount,
  weightLeafIndex,
} from './trace/schedule.ts'
