import { ModelError } from '../../errors/runtime.ts'

/** The architectures the runtime runs: the same forward pass, differing only as the fields say. */
export type Architecture = 'llama' | 'qwen2'

/**
 * RoPE pairing: 'norm' rotates adjacent pairs (2i, 2i+1) (llama), 'neox' pairs (i, i + ropeDim/2)
 * (qwen2), as ggml's rope modes 0 and 2.
 */
export type RopeType = 'norm' | 'neox'

/** The llama-architecture hyper-parameters the runtime needs, as read from GGUF metadata. */
export type ModelConfig = {
  name: string
  /** Absent means 'llama' (configs written before qwen2 support). */
  arch?: Architecture
  /** Absent means 'norm'. */
  ropeType?: RopeType
  /** Whether q, k and v projections add a per-row bias (qwen2). */
  attnBias?: boolean
  /**
   * Per-pair RoPE frequency divisors (llama's `rope_freqs.weight`, Llama 3.1+ long-context
   * scaling), float32 values, ropeDim / 2 of them; the angle of pair i is pos * invFreq_i / f_i.
   */
  ropeFreqFactors?: readonly number[]
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
  const factors = c.ropeFreqFactors
  if (factors !== undefined) {
    if (factors.length !== c.ropeDim / 2)
      fail(
        `rope frequency factors: ${factors.length} values, expected ropeDim / 2 = ${c.ropeDim / 2}`,
      )
    factors.forEach((f, i) => {
      if (!(f > 0) || !Number.isFinite(f) || Math.fround(f) !== f)
        fail(`rope frequency factor ${i} is ${f}: it must be a positive finite float32`)
    })
  }
  return c
}

/** Whether the config uses nothing beyond the first (llama-only) layout. */
export function isPlainLlama(c: ModelConfig): boolean {
  return (
    (c.arch ?? 'llama') === 'llama' &&
    (c.ropeType ?? 'norm') === 'norm' &&
    !c.attnBias &&
    c.ropeFreqFactors === undefined
  )
}

/**
 * The config's canonical bytes, hashed into leaf 0 of modelRoot. Fixed layout, big-endian:
 * "verity/llama/v1" (15 bytes), then u32 vocabSize, dim, nLayers, nHeads, nKvHeads, headDim,
 * ffnDim, contextLength, ropeDim, u8 tiedOutput, f64 ropeTheta, f64 normEps. The name is not
 * part of the identity: renaming a file does not change its model.
 *
 * A config that uses anything beyond plain llama (another architecture, NEOX rope, attention
 * biases, rope frequency factors) has the tag "verity/model/v2" and, after the v1 fields: u8 arch
 * (0 llama, 1 qwen2), u8 rope type (ggml's mode: 0 norm, 2 neox), u8 attnBias, u32 n, then n f32
 * rope frequency factors (n = 0 without). Plain llama models keep the v1 bytes, so their
 * modelRoot does not change.
 */
export function configBytes(c: ModelConfig): Uint8Array {
  const plain = isPlainLlama(c)
  const tag = new TextEncoder().encode(plain ? 'verity/llama/v1' : 'verity/model/v2')
  const factors = c.ropeFreqFactors ?? []
  const extra = plain ? 0 : 3 + 4 + 4 * factors.length
  const out = new Uint8Array(tag.length + 9 * 4 + 1 + 16 + extra)
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
  if (plain) return out
  o += 17
  view.setUint8(o, (c.arch ?? 'llama') === 'qwen2' ? 1 : 0)
  view.setUint8(o + 1, c.ropeType === 'neox' ? 2 : 0)
  view.setUint8(o + 2, c.attnBias ? 1 : 0)
  view.setUint32(o + 3, factors.length)
  factors.forEach((f, i) => {
    view.setFloat32(o + 7 + 4 * i, f)
  })
  return out
}
