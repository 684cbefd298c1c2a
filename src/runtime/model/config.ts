import { ModelError } from '../../errors/runtime.ts'

/** The llama-architecture hyper-parameters the runtime needs, as read from GGUF metadata. */
export type ModelConfig = {
  name: string
  vocabSize: number
  dim: number
  nLayers: number
  nHeads: number
  nKvHeads: number
  headDim: number
  ffnDim: number
  contextLength: number
  ropeDim: number
  ropeTheta: number
  normEps: number
  tiedOutput: boolean
}

/** Limits that keep every integer product of docs/DETERMINISM.md below 2^53. */
export const LIMITS = {
  /** RMSNorm sums n squares below 2^40: n <= 2^13. */
  maxDim: 8192,
  /** A projection accumulates n int8 products (< 2^14 each) times a 24-bit multiplier: n <= 2^14. */
  maxCols: 16384,
  /** Attention dot products: head dim <= 256 keeps dot * invSqrt below 2^50. */
  maxHeadDim: 256,
  /** The attention mix sums P * v over positions: < 2^21 positions keeps both halves exact. */
  maxContext: 1 << 20,
} as const

export function validateConfig(c: ModelConfig): ModelConfig {
  const fail = (what: string) => {
    throw new ModelError(`unsupported model: ${what}`)
  }
  for (const key of [
    'vocabSize',
    'dim',
    'nLayers',
    'nHeads',
    'nKvHeads',
    'ffnDim',
    'contextLength',
  ] as const) {
    if (!Number.isSafeInteger(c[key]) || c[key] < 1)
      fail(`${key} must be a positive integer, got ${c[key]}`)
  }
  if (c.dim > LIMITS.maxDim) fail(`embedding length ${c.dim} exceeds ${LIMITS.maxDim}`)
  if (c.ffnDim > LIMITS.maxCols) fail(`feed-forward length ${c.ffnDim} exceeds ${LIMITS.maxCols}`)
  if (c.dim % c.nHeads !== 0)
    fail(`embedding length ${c.dim} is not a multiple of head count ${c.nHeads}`)
  if (c.nHeads % c.nKvHeads !== 0)
    fail(`head count ${c.nHeads} is not a multiple of KV head count ${c.nKvHeads}`)
  if (c.headDim !== c.dim / c.nHeads) fail(`head dim ${c.headDim} != ${c.dim}/${c.nHeads}`)
  if (c.headDim > LIMITS.maxHeadDim) fail(`head dim ${c.headDim} exceeds ${LIMITS.maxHeadDim}`)
  if (c.ropeDim < 2 || c.ropeDim > c.headDim || c.ropeDim % 2 !== 0)
    fail(`rope dimension ${c.ropeDim} must be even and within the head dim ${c.headDim}`)
  if (c.contextLength > LIMITS.maxContext)
    fail(`context length ${c.contextLength} exceeds ${LIMITS.maxContext}`)
  if (!(c.ropeTheta > 0) || !Number.isFinite(c.ropeTheta))
    fail(`rope freq base ${c.ropeTheta} must be positive`)
  if (!(c.normEps > 0) || c.normEps > 1) fail(`rms norm epsilon ${c.normEps} must be in (0, 1]`)
  return c
}

/**
 * The config's canonical bytes, hashed into leaf 0 of modelRoot. Fixed layout, big-endian:
 * "verity/llama/v1" (15 bytes), then u32 vocabSize, dim, nLayers, nHeads, nKvHeads, headDim,
 * ffnDim, contextLength, ropeDim, u8 tiedOutput, f64 ropeTheta, f64 normEps. The name is not
 * part of the identity: renaming a file does not change its model.
 */
export function configBytes(c: ModelConfig): Uint8Array {
  const tag = new TextEncoder().encode('verity/llama/v1')
  const out = new Uint8Array(tag.length + 9 * 4 + 1 + 16)
  out.set(tag, 0)
  const view = new DataView(out.buffer)
  let o = tag.length
  for (const v of [
    c.vocabSize,
    c.dim,
    c.nLayers,
    c.nHeads,
    c.nKvHeads,
    c.headDim,
    c.ffnDim,
    c.contextLength,
    c.ropeDim,
  ]) {
    view.setUint32(o, v)
    o += 4
  }
  view.setUint8(o, c.tiedOutput ? 1 : 0)
  view.setFloat64(o + 1, c.ropeTheta)
  view.setFloat64(o + 9, c.normEps)
  return out
}
