import { sha256 } from '@noble/hashes/sha2.js'
import { concatBytes } from '@noble/hashes/utils.js'
import { GgufError, ModelError } from '../../errors/runtime.ts'
import { ropeInverseFrequencies, ropeRow } from '../fixed/rope.ts'
import { readGguf } from '../gguf/read.ts'
import type { ByteSource } from '../gguf/source.ts'
import { forEachRow, optionalTensor, tensorToFloat32 } from '../gguf/tensor.ts'
import type { GgufFile, GgufTensorInfo } from '../gguf/types.ts'
import { createKernel } from '../kernels/index.ts'
import type { Kernel, KernelKind } from '../kernels/types.ts'
import { tokenizerIdentity } from '../tokenizer/identity.ts'
import { vecRoot } from '../trace/hasher.ts'
import { merkleRootInArena, nextPow2 } from '../trace/merkle.ts'
import { type Architecture, configBytes, type ModelConfig, validateConfig } from './config.ts'
import { epsQ40, quantizeNorm, quantizeQ16, quantizeRows } from './quantize.ts'

/** An int8 weight matrix in the kernel arena, one integer scale m * 2^-e per row. */
export type QMatrix = {
  name: string
  rows: number
  cols: number
  /** Byte offset of row 0 in the kernel arena; row r starts at ptr + r * cols. */
  ptr: number
  scaleM: Int32Array
  scaleE: Int32Array
  /** Index of row 0's leaf in the modelRoot tree. */
  leafBase: number
  /** Per-row Q16 bias added to the projection's output (q, k, v of qwen2), committed in each row's leaf. */
  bias?: Int32Array
}

export type LayerWeights = {
  attnNorm: Int32Array
  attnNormLeaf: number
  wq: QMatrix
  wk: QMatrix
  wv: QMatrix
  wo: QMatrix
  ffnNorm: Int32Array
  ffnNormLeaf: number
  wGate: QMatrix
  wUp: QMatrix
  wDown: QMatrix
}

export type Model = {
  config: ModelConfig
  kernel: Kernel
  embed: QMatrix
  layers: LayerWeights[]
  outputNorm: Int32Array
  outputNormLeaf: number
  /** The output head; the same object as `embed` when the model ties them. */
  output: QMatrix
  /** RMSNorm epsilon in units of 2^-40. */
  epsQ: number
  /** RoPE inverse frequencies in 96-bit fixed point. */
  ropeInvFreq: bigint[]
  /** RoPE rows (cos, sin interleaved, Q20) per position, computed on first use and kept. */
  rope: { rows: number; table: Int32Array }
  /** 32-byte leaves of the modelRoot tree (config, then weight rows and norms in load order). */
  weightLeaves: Uint8Array
  weightLeafCount: number
  modelRoot: Uint8Array
  /** `tokenizerIdentity` of the file: the config leaf is sha256(configBytes || tokenizerDigest). */
  tokenizerDigest: Uint8Array
  /** Scratch in the arena, sized at load for the largest batch. */
  scratch: {
    xq: number
    acc: number
    /** Two hashing areas (stages) of hashBytes each: element trees, and the weight tree at load. */
    hash: number
    hash2: number
    hashBytes: number
    /** 64-byte (opId || vecRoot) slots for batched leaf hashing. */
    slots: number
    slotCount: number
    /** The hasher whose unhashed data sit in the stages; another one makes it flush first. */
    stageOwner: { flush(): void } | undefined
    maxBatch: number
  }
  /** The GGUF metadata (tokenizer, chat template, ...). */
  metadata: ReadonlyMap<string, unknown>
}

export type LoadModelOptions = {
  kernel?: KernelKind
  /** Creates the kernel (and its arena of the given size) instead of `kernel`: a threaded backend. */
  createKernel?: (arenaBytes: number) => Kernel
  /**
   * sha256 for the weight leaves (one per row: most of a large model's load): a host may pass a
   * native one (node:crypto) that the pure runtime cannot import. It must be sha256.
   */
  sha256?: (bytes: Uint8Array) => Uint8Array
  /** Largest number of positions processed at once (prefill batches). */
  maxBatch?: number
}

type Meta = { file: GgufFile; arch: Architecture }

function metaValue(m: Meta, key: string): unknown {
  return m.file.metadata.get(key)
}

function metaNumber(m: Meta, key: string, fallback?: number): number {
  const v = metaValue(m, key)
  if (v === undefined) {
    if (fallback !== undefined) return fallback
    throw new GgufError(`missing metadata key '${key}'`)
  }
  const n = typeof v === 'bigint' ? Number(v) : v
  if (typeof n !== 'number' || !Number.isFinite(n))
    throw new GgufError(`metadata '${key}' is not a number`)
  return n
}

const ARCHITECTURES: readonly Architecture[] = ['llama', 'qwen2']

/**
 * Keys of the architecture's namespace that the runtime reads (`arch.` + key). Any other key
 * there is refused: it would change the computation and the runtime would not apply it.
 */
const ARCH_KEYS = new Set([
  'context_length',
  'embedding_length',
  'block_count',
  'feed_forward_length',
  'attention.head_count',
  'attention.head_count_kv',
  'attention.layer_norm_rms_epsilon',
  'attention.key_length',
  'attention.value_length',
  'rope.freq_base',
  'rope.dimension_count',
  'rope.scaling.type',
  'rope.scaling.factor',
  'rope.scaling.original_context_length',
  'vocab_size',
  'expert_count',
  'expert_used_count',
])

/**
 * Keys outside the architecture's namespace that change nothing the runtime computes, each with
 * why; the tokenizer's own keys are checked by the tokenizer (tokenizer/metadata.ts).
 */
const NEUTRAL_KEY_PREFIXES: readonly [prefix: string, why: string][] = [
  ['general.', 'descriptive (name, license, file type, quantization version, alignment)'],
  ['quantize.imatrix.', 'how the file was quantized (the importance matrix used)'],
  ['tokenizer.', 'read by the tokenizer, which refuses what it cannot apply'],
]

/** Refuses metadata the runtime would otherwise ignore (see ARCH_KEYS, NEUTRAL_KEY_PREFIXES). */
function checkMetadataKeys(m: Meta): void {
  const prefix = `${m.arch}.`
  for (const key of m.file.metadata.keys()) {
    if (key.startsWith(prefix)) {
      if (!ARCH_KEYS.has(key.slice(prefix.length)))
        throw new ModelError(
          `metadata key '${key}' is not supported: the runtime would ignore it and compute another model`,
        )
      continue
    }
    if (NEUTRAL_KEY_PREFIXES.some(([p]) => key.startsWith(p))) continue
    if (key.startsWith('split.'))
      throw new ModelError(`'${key}': split GGUF files are not supported (merge the parts first)`)
    throw new ModelError(
      `metadata key '${key}' is not supported: the runtime would ignore it and compute another model`,
    )
  }
}

export function readConfig(file: GgufFile): ModelConfig {
  const archValue = file.metadata.get('general.architecture')
  if (!ARCHITECTURES.includes(archValue as Architecture))
    throw new ModelError(
      `unsupported architecture '${String(archValue ?? 'missing')}': supported are ${ARCHITECTURES.join(', ')}`,
    )
  const arch = archValue as Architecture
  const m: Meta = { file, arch }
  checkMetadataKeys(m)
  const k = (key: string) => `${arch}.${key}`
  const embd = file.tensors.find((t) => t.name === 'token_embd.weight')
  if (!embd) throw new ModelError("tensor 'token_embd.weight' is missing")
  const dim = metaNumber(m, k('embedding_length'))
  const nHeads = metaNumber(m, k('attention.head_count'))
  const headDim = dim / nHeads
  const tokens = file.metadata.get('tokenizer.ggml.tokens')
  const vocabSize = metaNumber(
    m,
    k('vocab_size'),
    Array.isArray(tokens) ? tokens.length : embd.dims[1],
  )
  // Keys that are read only to check that they say what the runtime does anyway.
  for (const key of ['attention.key_length', 'attention.value_length']) {
    const v = metaNumber(m, k(key), headDim)
    if (v !== headDim)
      throw new ModelError(
        `'${k(key)}' is ${v}: only head dim = embedding / heads (${headDim}) is supported`,
      )
  }
  for (const key of ['expert_count', 'expert_used_count']) {
    const v = metaNumber(m, k(key), 0)
    if (v !== 0)
      throw new ModelError(`'${k(key)}' is ${v}: mixture-of-experts models are not supported`)
  }
  const scaling = metaValue(m, k('rope.scaling.type'))
  const scalingFactor = metaNumber(m, k('rope.scaling.factor'), 1)
  if (scaling !== undefined && scaling !== 'none' && !(scaling === 'linear' && scalingFactor === 1))
    throw new ModelError(
      `'${k('rope.scaling.type')}' is '${String(scaling)}': RoPE scaling other than rope_freqs.weight is not supported`,
    )
  if ((scaling === undefined || scaling === 'none') && scalingFactor !== 1 && scalingFactor !== 0)
    throw new ModelError(`'${k('rope.scaling.factor')}' is ${scalingFactor} without a scaling type`)
  // original_context_length only qualifies a scaling type, and none is applied.

  const name = file.metadata.get('general.name')
  const freqs = optionalTensor(file, 'rope_freqs.weight')
  const ropeDim = metaNumber(m, k('rope.dimension_count'), headDim)
  let ropeFreqFactors: number[] | undefined
  if (freqs) {
    if (arch !== 'llama') throw new ModelError(`tensor 'rope_freqs.weight' is not used by ${arch}`)
    if (freqs.dims.length !== 1 || freqs.dims[0] !== ropeDim / 2)
      throw new ModelError(
        `tensor 'rope_freqs.weight' has shape [${freqs.dims}], expected [${ropeDim / 2}]`,
      )
    ropeFreqFactors = Array.from(tensorToFloat32(file, freqs))
  }
  const qBias = file.tensors.some((t) => /^blk\.\d+\.attn_q\.bias$/.test(t.name))
  const config: ModelConfig = {
    name: typeof name === 'string' ? name : 'unnamed',
    vocabSize,
    dim,
    nLayers: metaNumber(m, k('block_count')),
    nHeads,
    nKvHeads: metaNumber(m, k('attention.head_count_kv'), nHeads),
    headDim,
    ffnDim: metaNumber(m, k('feed_forward_length')),
    contextLength: metaNumber(m, k('context_length')),
    ropeDim,
    ropeTheta: metaNumber(m, k('rope.freq_base'), 10000),
    normEps: metaNumber(m, k('attention.layer_norm_rms_epsilon'), arch === 'qwen2' ? 1e-6 : 1e-5),
    tiedOutput: !file.tensors.some((t) => t.name === 'output.weight'),
  }
  if (arch !== 'llama') config.arch = arch
  // llama.cpp's rope type per architecture: qwen2 rotates NEOX pairs.
  if (arch === 'qwen2') config.ropeType = 'neox'
  if (arch === 'qwen2' || qBias) config.attnBias = true
  if (ropeFreqFactors) config.ropeFreqFactors = ropeFreqFactors
  return validateConfig(config)
}

/**
 * Reads a GGUF file (its bytes, or a source that reads it in chunks) and returns the quantized,
 * committed model ready to run. Rows are decoded and quantized one at a time straight into the
 * kernel arena: besides the int8 weights, a load holds one chunk of the file and one float row.
 */
export function loadModel(input: Uint8Array | ByteSource, options: LoadModelOptions = {}): Model {
  return loadModelFromGguf(readGguf(input), options)
}

/** loadModel for a file already parsed (a caller that also describes it parses it once). */
export function loadModelFromGguf(file: GgufFile, options: LoadModelOptions = {}): Model {
  const config = readConfig(file)
  const { vocabSize, dim, nLayers, ffnDim, headDim, nKvHeads } = config
  const kvDim = nKvHeads * headDim
  const maxBatch = options.maxBatch ?? 16

  const matrixShapes: [string, number, number][] = [['token_embd.weight', vocabSize, dim]]
  for (let l = 0; l < nLayers; l++) {
    matrixShapes.push(
      [`blk.${l}.attn_q.weight`, dim, dim],
      [`blk.${l}.attn_k.weight`, kvDim, dim],
      [`blk.${l}.attn_v.weight`, kvDim, dim],
      [`blk.${l}.attn_output.weight`, dim, dim],
      [`blk.${l}.ffn_gate.weight`, ffnDim, dim],
      [`blk.${l}.ffn_up.weight`, ffnDim, dim],
      [`blk.${l}.ffn_down.weight`, dim, ffnDim],
    )
  }
  if (!config.tiedOutput) matrixShapes.push(['output.weight', vocabSize, dim])

  // Arena: every weight matrix, then scratch for activations, accumulators and hashing.
  const align = (n: number) => Math.ceil(n / 64) * 64
  const maxCols = Math.max(dim, ffnDim)
  const maxRows = Math.max(vocabSize, ffnDim, dim)
  const maxVector = Math.max(vocabSize, ffnDim, dim, config.nHeads * config.contextLength)
  const leavesPerToken = 4 + nLayers * 17
  const weightLeafCount =
    1 +
    vocabSize +
    nLayers * (2 + 2 * dim + 2 * kvDim + 2 * ffnDim + dim) +
    1 +
    (config.tiedOutput ? 0 : vocabSize)
  // A stage holds at least the largest op output (plus an odd-level pad) and about one
  // position's trace, so that a position is hashed in one batch.
  const hashBytes = Math.max(
    nextPow2(Math.ceil(maxVector / 8)) * 32 + 64,
    nextPow2(weightLeafCount) * 32,
    1 << 20,
  )
  const slotBytes = (leavesPerToken + 8) * 64
  let arenaBytes =
    4096 +
    align(maxBatch * maxCols) +
    align(maxBatch * maxRows * 4) +
    2 * align(hashBytes) +
    align(slotBytes)
  for (const [, rows, cols] of matrixShapes) arenaBytes += align(rows * cols)
  const kernel = options.createKernel
    ? options.createKernel(arenaBytes)
    : createKernel(options.kernel ?? 'auto', arenaBytes)

  const leaves = new Uint8Array(weightLeafCount * 32)
  const rowHash = options.sha256 ?? sha256
  let leafCount = 0
  const pushLeaf = (digest: Uint8Array) => {
    leaves.set(digest, 32 * leafCount)
    return leafCount++
  }
  // The config leaf also names the tokenizer and chat template: they decide the prompt tokens a
  // chat renders to and the text output tokens decode to, so they are part of the model's identity.
  const tokenizerDigest = tokenizerIdentity(file.metadata)
  pushLeaf(sha256(concatBytes(configBytes(config), tokenizerDigest)))

  const used = new Set<string>()
  if (config.ropeFreqFactors) used.add('rope_freqs.weight')
  const tensorOf = (name: string, expected: number[]): GgufTensorInfo => {
    const t = optionalTensor(file, name)
    if (!t) throw new ModelError(`tensor '${name}' is missing`)
    if (t.dims.length !== expected.length || t.dims.some((d, i) => d !== expected[i]))
      throw new ModelError(`tensor '${name}' has shape [${t.dims}], expected [${expected}]`)
    used.add(name)
    return t
  }

  const rowLeaf = new Uint8Array(maxCols + 12)
  const rowLeafView = new DataView(rowLeaf.buffer)
  const matrix = (name: string, rows: number, cols: number, biasName?: string): QMatrix => {
    const tensor = tensorOf(name, [cols, rows])
    const ptr = kernel.alloc(rows * cols, 64)
    const m: QMatrix = {
      name,
      rows,
      cols,
      ptr,
      scaleM: new Int32Array(rows),
      scaleE: new Int32Array(rows),
      leafBase: leafCount,
    }
    if (biasName !== undefined) m.bias = quantizeBias(decodeSmall(tensorOf(biasName, [rows])))
    // Row leaf: sha256(int8 row || int32le m || int32le e [|| int32le bias]).
    const leafBytes = cols + (m.bias ? 12 : 8)
    forEachRow(file, tensor, (r, values) => {
      try {
        quantizeRows(
          values,
          1,
          cols,
          kernel.i8,
          ptr + r * cols,
          m.scaleM.subarray(r),
          m.scaleE.subarray(r),
        )
      } catch {
        throw new ModelError(`tensor '${name}' row ${r} holds a non-finite weight`)
      }
      rowLeaf.set(kernel.u8.subarray(ptr + r * cols, ptr + (r + 1) * cols), 0)
      rowLeafView.setInt32(cols, m.scaleM[r]!, true)
      rowLeafView.setInt32(cols + 4, m.scaleE[r]!, true)
      if (m.bias) rowLeafView.setInt32(cols + 8, m.bias[r]!, true)
      pushLeaf(rowHash(rowLeaf.subarray(0, leafBytes)))
    })
    return m
  }
  const decodeSmall = (t: GgufTensorInfo) => tensorToFloat32(file, t)
  const quantizeBias = (values: Float32Array) => {
    try {
      return quantizeQ16(values)
    } catch (error) {
      throw new ModelError(`bias: ${(error as Error).message}`)
    }
  }
  const norm = (name: string): [Int32Array, number] => {
    let q: Int32Array
    try {
      q = quantizeNorm(decodeSmall(tensorOf(name, [dim])))
    } catch (error) {
      if (error instanceof ModelError || error instanceof GgufError) throw error
      throw new ModelError(`tensor '${name}': ${(error as Error).message}`)
    }
    // A norm's leaf is the vecRoot of its Q16 values (the chunk tree of an op output), so the
    // one step opens g_j as one chunk and its proof instead of the whole vector.
    return [q, pushLeaf(vecRoot(q))]
  }

  const embed = matrix('token_embd.weight', vocabSize, dim)
  const layers: LayerWeights[] = []
  const bias = (l: number, which: string) =>
    config.attnBias ? `blk.${l}.attn_${which}.bias` : undefined
  for (let l = 0; l < nLayers; l++) {
    const [attnNorm, attnNormLeaf] = norm(`blk.${l}.attn_norm.weight`)
    const wq = matrix(`blk.${l}.attn_q.weight`, dim, dim, bias(l, 'q'))
    const wk = matrix(`blk.${l}.attn_k.weight`, kvDim, dim, bias(l, 'k'))
    const wv = matrix(`blk.${l}.attn_v.weight`, kvDim, dim, bias(l, 'v'))
    const wo = matrix(`blk.${l}.attn_output.weight`, dim, dim)
    const [ffnNorm, ffnNormLeaf] = norm(`blk.${l}.ffn_norm.weight`)
    const wGate = matrix(`blk.${l}.ffn_gate.weight`, ffnDim, dim)
    const wUp = matrix(`blk.${l}.ffn_up.weight`, ffnDim, dim)
    const wDown = matrix(`blk.${l}.ffn_down.weight`, dim, ffnDim)
    layers.push({ attnNorm, attnNormLeaf, wq, wk, wv, wo, ffnNorm, ffnNormLeaf, wGate, wUp, wDown })
  }
  const [outputNorm, outputNormLeaf] = norm('output_norm.weight')
  const output = config.tiedOutput ? embed : matrix('output.weight', vocabSize, dim)
  if (leafCount !== weightLeafCount)
    throw new Error(`internal: ${leafCount} weight leaves, expected ${weightLeafCount}`)
  // A tensor the runtime does not read would be silently dropped: refuse the file instead.
  for (const t of file.tensors) {
    if (!used.has(t.name))
      throw new ModelError(
        `tensor '${t.name}' is not used by the runtime's ${config.arch ?? 'llama'} forward pass: refusing to ignore it`,
      )
  }

  const scratch = {
    xq: kernel.alloc(maxBatch * maxCols, 64),
    acc: kernel.alloc(maxBatch * maxRows * 4, 64),
    hash: kernel.alloc(hashBytes, 64),
    hash2: kernel.alloc(hashBytes, 64),
    hashBytes,
    slots: kernel.alloc(slotBytes, 64),
    slotCount: slotBytes / 64,
    stageOwner: undefined,
    maxBatch,
  }
  const modelRoot = merkleRootInArena(kernel, scratch.hash, leaves, leafCount)
  return {
    config,
    kernel,
    embed,
    layers,
    outputNorm,
    outputNormLeaf,
    output,
    epsQ: epsQ40(config.normEps),
    ropeInvFreq: ropeInverseFrequencies(config.ropeTheta, config.ropeDim, config.ropeFreqFactors),
    rope: { rows: 0, table: new Int32Array(0) },
    weightLeaves: leaves,
    weightLeafCount: leafCount,
    modelRoot,
    tokenizerDigest,
    scratch,
    metadata: file.metadata,
  }
}

/**
 * The RoPE row of a position (cos, sin interleaved, Q20). Rows are computed in BigInt on first
 * use and kept with the model, so requests after the first do not pay for them again.
 */
export function ropeAt(model: Model, pos: number): Int32Array {
  const d = model.config.ropeDim
  const cache = model.rope
  if (pos >= cache.rows) {
    if ((pos + 1) * d > cache.table.length) {
      const grown = new Int32Array(
        Math.min(model.config.contextLength, Math.max(2 * (pos + 1), 64)) * d,
      )
      grown.set(cache.table.subarray(0, cache.rows * d))
      cache.table = grown
    }
    for (; cache.rows <= pos; cache.rows++) {
      ropeRow(
        model.ropeInvFreq,
        cache.rows,
        cache.table.subarray(cache.rows * d, (cache.rows + 1) * d),
      )
    }
  }
  return cache.table.subarray(pos * d, (pos + 1) * d)
}
