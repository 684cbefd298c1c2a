import { isqrt } from '../fixed/int.ts'
import { GgmlType, type GgmlTypeName } from '../gguf/types.ts'
import { type GgufWriteSpec, type GgufWriteValue, gguf, writeGguf } from '../gguf/write.ts'
import { Prng } from '../sampler/prng.ts'
import type { MetadataEntry } from '../tokenizer/build-vocab.ts'

/** The shape and seed of a model with random weights, written as GGUF by the project's writer. */
export type SyntheticModelSpec = {
  name: string
  /** Tokenizer metadata (and any other keys to write), typed as the writer takes them. */
  vocab: ReadonlyArray<readonly [string, GgufWriteValue | MetadataEntry[1]]>
  dim: number
  nLayers: number
  nHeads: number
  nKvHeads: number
  ffnDim: number
  contextLength: number
  seed: number
  /** The matrices' type; norms (and biases, rope factors) stay F32 as llama.cpp's converters write them. */
  tensorType: GgmlTypeName
  /** 'llama' (default) or 'qwen2' (q, k, v biases, NEOX rope, its own metadata namespace). */
  arch?: 'llama' | 'qwen2'
  /** Llama 3.1-style per-pair RoPE divisors, written as `rope_freqs.weight` (llama only). */
  ropeFreqFactors?: readonly number[]
  /** Random q, k, v biases on a llama model too (llama.cpp reads them when present). */
  attnBias?: boolean
  tiedOutput?: boolean
  /**
   * Scales the output matrix (the embedding when tied; RMSNorm undoes the scale on the input
   * side) so that logits are peaked as a trained model's are: a cross-check then has clear top-1
   * margins to compare.
   */
  outputScale?: number
  ropeTheta?: number
  normEps?: number
  chatTemplate?: string
}

/**
 * Weights uniform in (-1, 1) / isqrt(cols) from the project's PRNG, norms 1: deterministic on every
 * engine (only exact float operations), so the same spec gives the same bytes everywhere.
 */
export function buildSyntheticModel(spec: SyntheticModelSpec): Uint8Array {
  const prng = new Prng(spec.seed)
  const random = (rows: number, cols: number) => {
    const data = new Float32Array(rows * cols)
    const scale = 1 / isqrt(cols)
    for (let i = 0; i < data.length; i++) data[i] = ((prng.next() / 2 ** 31 - 1) * scale) as number
    return data
  }
  const ones = (n: number) => new Float32Array(n).fill(1)
  const { dim, ffnDim, nLayers, nHeads, nKvHeads } = spec
  const headDim = dim / nHeads
  const kvDim = nKvHeads * headDim
  const tokens = spec.vocab.find(([k]) => k === 'tokenizer.ggml.tokens')?.[1]
  const vocabSize =
    tokens && 'value' in tokens && Array.isArray(tokens.value) ? tokens.value.length : 0
  if (vocabSize === 0) throw new RangeError('the vocab has no tokenizer.ggml.tokens')
  const type = GgmlType[spec.tensorType]
  const matrix = (name: string, rows: number, cols: number) => ({
    name,
    dims: [cols, rows],
    type,
    data: random(rows, cols),
  })
  // Norm weights stay F32, as llama.cpp's converters write them.
  const norm = (name: string) => ({ name, dims: [dim], type: GgmlType.F32, data: ones(dim) })

  const scaled = (m: ReturnType<typeof matrix>) => {
    if (spec.outputScale !== undefined)
      for (let i = 0; i < m.data.length; i++) m.data[i]! *= spec.outputScale
    return m
  }
  const embd = matrix('token_embd.weight', vocabSize, dim)
  const tensors: GgufWriteSpec['tensors'] = [spec.tiedOutput ? scaled(embd) : embd]
  for (let l = 0; l < nLayers; l++) {
    tensors.push(
      norm(`blk.${l}.attn_norm.weight`),
      matrix(`blk.${l}.attn_q.weight`, dim, dim),
      matrix(`blk.${l}.attn_k.weight`, kvDim, dim),
      matrix(`blk.${l}.attn_v.weight`, kvDim, dim),
      matrix(`blk.${l}.attn_output.weight`, dim, dim),
      norm(`blk.${l}.ffn_norm.weight`),
      matrix(`blk.${l}.ffn_gate.weight`, ffnDim, dim),
      matrix(`blk.${l}.ffn_up.weight`, ffnDim, dim),
      matrix(`blk.${l}.ffn_down.weight`, dim, ffnDim),
    )
  }
  tensors.push(norm('output_norm.weight'))
  if (!spec.tiedOutput) tensors.push(scaled(matrix('output.weight', vocabSize, dim)))
  const arch = spec.arch ?? 'llama'
  if (arch === 'qwen2' || spec.attnBias) {
    // Biases of the size real checkpoints have (Qwen2's k biases reach tens), after the matrices.
    for (let l = 0; l < nLayers; l++) {
      for (const [which, rows] of [
        ['q', dim],
        ['k', kvDim],
        ['v', kvDim],
      ] as const) {
        const data = new Float32Array(rows)
        for (let i = 0; i < rows; i++)
          data[i] = (prng.next() / 2 ** 31 - 1) * (which === 'k' ? 4 : 0.5)
        tensors.push({
          name: `blk.${l}.attn_${which}.bias`,
          dims: [rows],
          type: GgmlType.F32,
          data,
        })
      }
    }
  }
  if (spec.ropeFreqFactors) {
    tensors.push({
      name: 'rope_freqs.weight',
      dims: [spec.ropeFreqFactors.length],
      type: GgmlType.F32,
      data: Float32Array.from(spec.ropeFreqFactors),
    })
  }

  // llama.cpp's LLAMA_FTYPE of an all-`type` file (MOSTLY_*), for the descriptive key.
  const fileTypes: Partial<Record<GgmlTypeName, number>> = {
    F32: 0,
    F16: 1,
    Q4_0: 2,
    Q4_1: 3,
    Q8_0: 7,
    Q5_0: 8,
    Q5_1: 9,
    Q4_K: 15,
    Q5_K: 17,
    Q6_K: 18,
    BF16: 32,
  }
  const a = (key: string) => `${arch}.${key}`
  const metadata: Array<[string, GgufWriteValue]> = [
    ['general.architecture', gguf.string(arch)],
    ['general.name', gguf.string(spec.name)],
    ['general.file_type', gguf.u32(fileTypes[spec.tensorType] ?? 0)],
    ...(arch === 'llama'
      ? [[a('vocab_size'), gguf.u32(vocabSize)] as [string, GgufWriteValue]]
      : []),
    [a('context_length'), gguf.u32(spec.contextLength)],
    [a('embedding_length'), gguf.u32(dim)],
    [a('block_count'), gguf.u32(nLayers)],
    [a('feed_forward_length'), gguf.u32(ffnDim)],
    [a('rope.dimension_count'), gguf.u32(headDim)],
    [a('attention.head_count'), gguf.u32(nHeads)],
    [a('attention.head_count_kv'), gguf.u32(nKvHeads)],
    [
      a('attention.layer_norm_rms_epsilon'),
      gguf.f32(spec.normEps ?? (arch === 'qwen2' ? 1e-6 : 1e-5)),
    ],
    [a('rope.freq_base'), gguf.f32(spec.ropeTheta ?? 10000)],
    ...spec.vocab.map(([k, v]) => [k, v as GgufWriteValue] as [string, GgufWriteValue]),
  ]
  if (spec.chatTemplate) metadata.push(['tokenizer.chat_template', gguf.string(spec.chatTemplate)])
  return writeGguf({ metadata, tensors })
}
