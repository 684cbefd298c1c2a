/**
 * Model files of a real model's shape with random weights, written by the project's GGUF writer
 * straight to disk tensor by tensor and row band by row band (a 1.3 GB file never sits in
 * memory). The vocabulary and chat template are the real ones when the npm tokenizer package is
 * installed (a dev dependency), else a synthetic vocabulary of the same size.
 */
import { closeSync, openSync, writeSync } from 'node:fs'
import { rowBytes } from '../src/runtime/gguf/dequant.ts'
import { encodeTensorData } from '../src/runtime/gguf/quantize.ts'
import { GgmlType, type GgmlTypeName } from '../src/runtime/gguf/types.ts'
import { type GgufWriteValue, gguf, ggufLayout } from '../src/runtime/gguf/write.ts'
import { syntheticLlamaVocab } from '../src/runtime/tokenizer/build-vocab.ts'
import { LLAMA_3_2 } from '../test/chat-templates.ts'
import { REAL_VOCABS } from '../test/hf-vocab.ts'

export type Shape = {
  name: string
  dim: number
  nLayers: number
  nHeads: number
  nKvHeads: number
  ffnDim: number
  vocabSize: number
  contextLength: number
  ropeTheta: number
  tiedOutput: boolean
  /** Llama 3.1-style rope scaling (factor, low/high frequency factors, original context). */
  ropeScaling?: { factor: number; low: number; high: number; original: number }
}

export const SHAPES: Record<string, Shape> = {
  'llama-3.2-1b': {
    name: 'llama-3.2-1b-shape',
    dim: 2048,
    nLayers: 16,
    nHeads: 32,
    nKvHeads: 8,
    ffnDim: 8192,
    vocabSize: 128256,
    contextLength: 131072,
    ropeTheta: 500000,
    tiedOutput: true,
    ropeScaling: { factor: 32, low: 1, high: 4, original: 8192 },
  },
  // About 100M parameters (106.6M: 40.9M in 12 layers, 65.7M in the tied embedding) with the
  // Llama 3 vocabulary: the size a newcomer fine-tunes for a model competition.
  'llama-100m': {
    name: 'llama-100m-shape',
    dim: 512,
    nLayers: 12,
    nHeads: 8,
    nKvHeads: 8,
    ffnDim: 1536,
    vocabSize: 128256,
    contextLength: 2048,
    ropeTheta: 500000,
    tiedOutput: true,
  },
}

/** rope_freqs.weight as llama.cpp's converter computes it for Llama 3.1+ scaling. */
export function llama3RopeFactors(shape: Shape): number[] {
  const s = shape.ropeScaling!
  const headDim = shape.dim / shape.nHeads
  const lowWavelen = s.original / s.low
  const highWavelen = s.original / s.high
  const out: number[] = []
  for (let i = 0; i < headDim; i += 2) {
    const freq = 1 / shape.ropeTheta ** (i / headDim)
    const wavelen = (2 * Math.PI) / freq
    if (wavelen < highWavelen) out.push(1)
    else if (wavelen > lowWavelen) out.push(s.factor)
    else {
      const smooth = (s.original / wavelen - s.low) / (s.high - s.low)
      out.push(Math.fround(1 / ((1 - smooth) / s.factor + smooth)))
    }
  }
  return out
}

function vocabMetadata(size: number): Array<[string, GgufWriteValue]> {
  try {
    const real = REAL_VOCABS['llama-bpe']()
    const tokens = real.find(([k]) => k === 'tokenizer.ggml.tokens')![1].value as string[]
    if (tokens.length === size)
      return [...real, ['tokenizer.chat_template', gguf.string(LLAMA_3_2)]]
  } catch {
    // the tokenizer package is not installed: a synthetic vocabulary of the same size
  }
  return syntheticLlamaVocab(size) as Array<[string, GgufWriteValue]>
}

/**
 * Writes a model of `shape` with weights uniform in (-1, 1) / sqrt(cols) (xorshift, seeded) in
 * `type` to `path`; norms are 1, as in buildSyntheticModel. Returns the file's size.
 */
export function writeShapeModel(path: string, shape: Shape, type: GgmlTypeName, seed = 1): number {
  const { dim, nLayers, nHeads, nKvHeads, ffnDim, vocabSize } = shape
  const kvDim = (dim / nHeads) * nKvHeads
  const t = GgmlType[type]
  type Spec = { name: string; dims: number[]; type: number; fill: 'random' | 'ones' | 'factors' }
  const tensors: Spec[] = [
    { name: 'token_embd.weight', dims: [dim, vocabSize], type: t, fill: 'random' },
  ]
  const norm = (name: string): Spec => ({ name, dims: [dim], type: GgmlType.F32, fill: 'ones' })
  for (let l = 0; l < nLayers; l++) {
    const m = (n: string, rows: number, cols: number): Spec => ({
      name: `blk.${l}.${n}.weight`,
      dims: [cols, rows],
      type: t,
      fill: 'random',
    })
    tensors.push(
      norm(`blk.${l}.attn_norm.weight`),
      m('attn_q', dim, dim),
      m('attn_k', kvDim, dim),
      m('attn_v', kvDim, dim),
      m('attn_output', dim, dim),
      norm(`blk.${l}.ffn_norm.weight`),
      m('ffn_gate', ffnDim, dim),
      m('ffn_up', ffnDim, dim),
      m('ffn_down', dim, ffnDim),
    )
  }
  tensors.push(norm('output_norm.weight'))
  if (!shape.tiedOutput)
    tensors.push({ name: 'output.weight', dims: [dim, vocabSize], type: t, fill: 'random' })
  const factors = shape.ropeScaling ? llama3RopeFactors(shape) : undefined
  if (factors)
    tensors.push({
      name: 'rope_freqs.weight',
      dims: [factors.length],
      type: GgmlType.F32,
      fill: 'factors',
    })

  const metadata: Array<[string, GgufWriteValue]> = [
    ['general.architecture', gguf.string('llama')],
    ['general.name', gguf.string(shape.name)],
    ['llama.vocab_size', gguf.u32(vocabSize)],
    ['llama.context_length', gguf.u32(shape.contextLength)],
    ['llama.embedding_length', gguf.u32(dim)],
    ['llama.block_count', gguf.u32(nLayers)],
    ['llama.feed_forward_length', gguf.u32(ffnDim)],
    ['llama.rope.dimension_count', gguf.u32(dim / nHeads)],
    ['llama.attention.head_count', gguf.u32(nHeads)],
    ['llama.attention.head_count_kv', gguf.u32(nKvHeads)],
    ['llama.attention.layer_norm_rms_epsilon', gguf.f32(1e-5)],
    ['llama.rope.freq_base', gguf.f32(shape.ropeTheta)],
    ...vocabMetadata(vocabSize),
  ]
  const layout = ggufLayout({ metadata, tensors })
  const fd = openSync(path, 'w')
  try {
    writeSync(fd, layout.head, 0, layout.head.length, 0)
    let s = seed >>> 0 || 1
    const random = () => {
      s ^= s << 13
      s ^= s >>> 17
      s ^= s << 5
      return (s >>> 0) / 2 ** 31 - 1
    }
    tensors.forEach((spec, i) => {
      const cols = spec.dims[0]!
      const rows = spec.dims.length > 1 ? spec.dims[1]! : 1
      const perBand = Math.max(1, Math.floor((8 << 20) / (cols * 4)))
      const bytesPerRow = rowBytes(spec.type, cols)
      const out = new Uint8Array(perBand * bytesPerRow)
      const values = new Float32Array(perBand * cols)
      const scale = 1 / Math.sqrt(cols)
      let offset = layout.tensors[i]!.offset
      for (let r = 0; r < rows; r += perBand) {
        const n = Math.min(perBand, rows - r)
        const v = values.subarray(0, n * cols)
        if (spec.fill === 'random') for (let j = 0; j < v.length; j++) v[j] = random() * scale
        else if (spec.fill === 'ones') v.fill(1)
        else v.set(factors!)
        encodeTensorData(spec.type, v, out, 0, spec.name)
        writeSync(fd, out, 0, n * bytesPerRow, offset)
        offset += n * bytesPerRow
      }
    })
    // The file ends with the last tensor's padding.
    const last = layout.tensors[layout.tensors.length - 1]!
    if (last.offset + last.byteLength < layout.size)
      writeSync(fd, new Uint8Array(1), 0, 1, layout.size - 1)
  } finally {
    closeSync(fd)
  }
  return layout.size
}
