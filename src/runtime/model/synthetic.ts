import { isqrt } from '../fixed/int.ts'
import { GgmlType } from '../gguf/types.ts'
import { type GgufWriteSpec, type GgufWriteValue, gguf, writeGguf } from '../gguf/write.ts'
import { Prng } from '../sampler/prng.ts'
import type { MetadataEntry } from '../tokenizer/build-vocab.ts'

/** The shape and seed of a model with random weights, written as GGUF by the project's writer. */
export type SyntheticModelSpec = {
  name: string
  vocab: MetadataEntry[]
  dim: number
  nLayers: number
  nHeads: number
  nKvHeads: number
  ffnDim: number
  contextLength: number
  seed: number
  tensorType: 'F32' | 'F16' | 'Q8_0'
  tiedOutput?: boolean
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

  const tensors: GgufWriteSpec['tensors'] = [matrix('token_embd.weight', vocabSize, dim)]
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
  if (!spec.tiedOutput) tensors.push(matrix('output.weight', vocabSize, dim))

  const fileType = { F32: 0, F16: 1, Q8_0: 7 }[spec.tensorType]
  const metadata: Array<[string, GgufWriteValue]> = [
    ['general.architecture', gguf.string('llama')],
    ['general.name', gguf.string(spec.name)],
    ['general.file_type', gguf.u32(fileType)],
    ['llama.vocab_size', gguf.u32(vocabSize)],
    ['llama.context_length', gguf.u32(spec.contextLength)],
    ['llama.embedding_length', gguf.u32(dim)],
    ['llama.block_count', gguf.u32(nLayers)],
    ['llama.feed_forward_length', gguf.u32(ffnDim)],
    ['llama.rope.dimension_count', gguf.u32(headDim)],
    ['llama.attention.head_count', gguf.u32(nHeads)],
    ['llama.attention.head_count_kv', gguf.u32(nKvHeads)],
    ['llama.attention.layer_norm_rms_epsilon', gguf.f32(spec.normEps ?? 1e-5)],
    ['llama.rope.freq_base', gguf.f32(spec.ropeTheta ?? 10000)],
    ...spec.vocab.map(([k, v]) => [k, v as GgufWriteValue] as [string, GgufWriteValue]),
  ]
  if (spec.chatTemplate) metadata.push(['tokenizer.chat_template', gguf.string(spec.chatTemplate)])
  return writeGguf({ metadata, tensors })
}
