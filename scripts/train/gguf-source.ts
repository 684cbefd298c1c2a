/**
 * The GGUF a fine-tune starts from (scripts/train-model.ts --from): what the trainer can represent
 * of it, checked up front with a reason for each refusal, and the output file, which carries every
 * metadata entry of the input over unchanged (tokenizer, chat template, config) but the file type.
 */
import { BaseError } from '../../src/errors/base.ts'
import { metaOptionalString } from '../../src/runtime/gguf/meta.ts'
import { tensorToFloat32 } from '../../src/runtime/gguf/tensor.ts'
import {
  GgmlType,
  type GgufFile,
  type GgufValue,
  GgufValueType,
  ggmlTypeLabel,
} from '../../src/runtime/gguf/types.ts'
import type {
  GgufScalarTypeName,
  GgufWriteTensor,
  GgufWriteValue,
} from '../../src/runtime/gguf/write.ts'

/** Why a GGUF cannot be fine-tuned by this trainer, in one line. */
export class UnsupportedGgufError extends BaseError {
  override name = 'UnsupportedGgufError'
}

/** The dimensions the trainer needs, read from the file's llama.* keys. */
export type SourceConfig = {
  vocabSize: number
  dim: number
  nLayers: number
  nHeads: number
  ffnDim: number
  contextLength: number
  normEps: number
  ropeTheta: number
}

/** Tensor names of a llama model as the trainer lays them out (biases, tied output: absent). */
export function llamaTensorNames(nLayers: number): string[] {
  const names = ['token_embd.weight']
  for (let l = 0; l < nLayers; l++)
    for (const t of [
      'attn_norm',
      'attn_q',
      'attn_k',
      'attn_v',
      'attn_output',
      'ffn_norm',
      'ffn_gate',
      'ffn_up',
      'ffn_down',
    ])
      names.push(`blk.${l}.${t}.weight`)
  names.push('output_norm.weight', 'output.weight')
  return names
}

function integer(file: GgufFile, key: string): number {
  const v = file.metadata.get(key)
  const n = typeof v === 'bigint' ? Number(v) : v
  if (typeof n !== 'number' || !Number.isSafeInteger(n) || n < 1)
    throw new UnsupportedGgufError(`metadata '${key}' is missing or not a positive integer`)
  return n
}

function float(file: GgufFile, key: string, fallback: number): number {
  const v = file.metadata.get(key)
  if (v === undefined) return fallback
  if (typeof v !== 'number') throw new UnsupportedGgufError(`metadata '${key}' is not a number`)
  return v
}

/**
 * The trainer's config for `file`, or an UnsupportedGgufError naming what it cannot train: another
 * architecture, grouped-query attention, scaled or partial RoPE, tied embeddings, biases or any
 * other extra tensor, and shapes the SIMD kernel cannot tile (multiples of 8).
 */
export function sourceConfig(file: GgufFile): SourceConfig {
  const arch = metaOptionalString(file, 'general.architecture')
  if (arch !== 'llama')
    throw new UnsupportedGgufError(
      `architecture '${arch ?? '(none)'}' is not supported: the trainer fine-tunes llama models only`,
    )
  const dim = integer(file, 'llama.embedding_length')
  const nLayers = integer(file, 'llama.block_count')
  const nHeads = integer(file, 'llama.attention.head_count')
  const ffnDim = integer(file, 'llama.feed_forward_length')
  const contextLength = integer(file, 'llama.context_length')
  const nKv = file.metadata.has('llama.attention.head_count_kv')
    ? integer(file, 'llama.attention.head_count_kv')
    : nHeads
  if (nKv !== nHeads)
    throw new UnsupportedGgufError(
      `grouped-query attention (${nHeads} heads, ${nKv} key/value heads) is not supported`,
    )
  if (dim % nHeads) throw new UnsupportedGgufError(`${dim} is not a multiple of ${nHeads} heads`)
  const hd = dim / nHeads
  const ropeDims = file.metadata.has('llama.rope.dimension_count')
    ? integer(file, 'llama.rope.dimension_count')
    : hd
  if (ropeDims !== hd)
    throw new UnsupportedGgufError(
      `partial RoPE (${ropeDims} of ${hd} dimensions) is not supported`,
    )
  const scaling = metaOptionalString(file, 'llama.rope.scaling.type')
  if (scaling !== undefined && scaling !== 'none')
    throw new UnsupportedGgufError(`RoPE scaling '${scaling}' is not supported`)
  if (file.metadata.has('llama.expert_count') && integer(file, 'llama.expert_count') > 0)
    throw new UnsupportedGgufError('mixture-of-experts models are not supported')

  const present = new Map(file.tensors.map((t) => [t.name, t]))
  if (!present.has('output.weight'))
    throw new UnsupportedGgufError(
      'tied embeddings (no output.weight) are not supported: the trainer has a separate output matrix',
    )
  const wanted = llamaTensorNames(nLayers)
  const extra = file.tensors.map((t) => t.name).filter((n) => !wanted.includes(n))
  if (extra.length)
    throw new UnsupportedGgufError(
      `tensors the trainer cannot represent: ${extra.slice(0, 4).join(', ')}${extra.length > 4 ? ', …' : ''}`,
    )
  const missing = wanted.filter((n) => !present.has(n))
  if (missing.length) throw new UnsupportedGgufError(`missing tensor '${missing[0]}'`)
  const vocabSize = present.get('token_embd.weight')!.dims[1]!
  for (const name of wanted) {
    const t = present.get(name)!
    if (!SUPPORTED_SOURCE_TYPES.has(t.type))
      throw new UnsupportedGgufError(
        `tensor '${name}' is ${ggmlTypeLabel(t.type)}; the trainer reads F32, F16, BF16 and Q8_0`,
      )
  }
  for (const [what, n] of [
    ['embedding_length', dim],
    ['feed_forward_length', ffnDim],
    ['vocab size', vocabSize],
    ['head dimension', hd],
  ] as const)
    if (n % 8)
      throw new UnsupportedGgufError(`${what} ${n} is not a multiple of 8 (the kernel's tile)`)
  return {
    vocabSize,
    dim,
    nLayers,
    nHeads,
    ffnDim,
    contextLength,
    normEps: float(file, 'llama.attention.layer_norm_rms_epsilon', 1e-5),
    ropeTheta: float(file, 'llama.rope.freq_base', 10000),
  }
}

/** Types dequantized losslessly enough to train on (k-quants would train on rounding noise). */
const SUPPORTED_SOURCE_TYPES: ReadonlySet<number> = new Set([
  GgmlType.F32,
  GgmlType.F16,
  GgmlType.BF16,
  GgmlType.Q8_0,
])

/** A tensor of the file as float32 (dequantized), row-major with dims[0] fastest. */
export function sourceTensor(file: GgufFile, name: string): Float32Array {
  const t = file.tensors.find((x) => x.name === name)
  if (!t) throw new UnsupportedGgufError(`missing tensor '${name}'`)
  return tensorToFloat32(file, t)
}

const SCALAR_NAMES: Record<number, GgufScalarTypeName> = {
  [GgufValueType.UINT8]: 'u8',
  [GgufValueType.INT8]: 'i8',
  [GgufValueType.UINT16]: 'u16',
  [GgufValueType.INT16]: 'i16',
  [GgufValueType.UINT32]: 'u32',
  [GgufValueType.INT32]: 'i32',
  [GgufValueType.FLOAT32]: 'f32',
  [GgufValueType.BOOL]: 'bool',
  [GgufValueType.STRING]: 'string',
  [GgufValueType.UINT64]: 'u64',
  [GgufValueType.INT64]: 'i64',
  [GgufValueType.FLOAT64]: 'f64',
}

/** Each metadata entry of `file` as the writer takes it: same key, type and value, same order. */
export function metadataEntries(file: GgufFile): Array<[string, GgufWriteValue]> {
  return [...file.metadata].map(([key, value]: [string, GgufValue]) => {
    const type = file.metadataTypes.get(key)!
    if (type !== GgufValueType.ARRAY)
      return [key, { type: SCALAR_NAMES[type]!, value } as GgufWriteValue]
    const item = file.arrayItemTypes.get(key)!
    if (item === GgufValueType.ARRAY)
      throw new UnsupportedGgufError(`metadata '${key}' is an array of arrays`)
    return [key, { type: 'array', itemType: SCALAR_NAMES[item]!, value } as GgufWriteValue]
  })
}

/**
 * The output's metadata: the input's entries in order, with general.file_type 0 (all F32) and,
 * when given, another general.name; general.alignment is left to the writer.
 */
export function fineTunedMetadata(
  file: GgufFile,
  name: string | undefined,
): Array<[string, GgufWriteValue]> {
  const entries = metadataEntries(file).filter(([k]) => k !== 'general.alignment')
  const set = (key: string, value: GgufWriteValue) => {
    const i = entries.findIndex(([k]) => k === key)
    if (i >= 0) entries[i] = [key, value]
    else entries.splice(1, 0, [key, value])
  }
  set('general.file_type', { type: 'u32', value: 0 })
  if (name !== undefined) set('general.name', { type: 'string', value: name })
  return entries
}

/** One F32 tensor of the output, dims as GGUF stores them (row length first). */
export function f32Tensor(name: string, rows: number, cols: number, data: Float32Array) {
  const t: GgufWriteTensor = {
    name,
    dims: rows === 1 ? [cols] : [cols, rows],
    type: GgmlType.F32,
    data,
  }
  return t
}
