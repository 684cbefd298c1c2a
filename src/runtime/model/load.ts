import { sha256 } from '@noble/hashes/sha2.js'
import { concatBytes } from '@noble/hashes/utils.js'
import { GgufError, ModelError } from '../../errors/runtime.ts'
import { ropeInverseFrequencies, ropeRow } from '../fixed/rope.ts'
import { readGguf } from '../gguf/read.ts'
import { optionalTensor, tensorToFloat32 } from '../gguf/tensor.ts'
import type { GgufFile, GgufTensorInfo } from '../gguf/types.ts'
import { createKernel } from '../kernels/index.ts'
import type { Kernel, KernelKind } from '../kernels/types.ts'
import { tokenizerIdentity } from '../tokenizer/identity.ts'
import { merkleRootInArena, nextPow2 } from '../trace/merkle.ts'
import { configBytes, type ModelConfig, validateConfig } from './config.ts'
import { epsQ40, quantizeNorm, quantizeRows } from './quantize.ts'

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
  /** 32-byte leaves of the modelRoot tree (config, then weight rows in load order). */
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
  /** Largest number of positions processed at once (prefill batches). */
  maxBatch?: number
}

function metaNumber(file: GgufFile, key: string, fallback?: number): number {
  const v = file.metadata.get(key)
  if (v === undefined) {
    if (fallback !== undefined) return fallback
    throw new GgufError(`missing metadata key '${key}'`)
  }
  const n = typeof v === 'bigint' ? Number(v) : v
  if (typeof n !== 'number' || !Number.isFinite(n))
    throw new GgufError(`metadata '${key}' is not a number`)
  return n
}

export function readConfig(file: GgufFile): ModelConfig {
  const arch = file.metadata.get('general.architecture')
  if (arch !== 'llama')
    throw new ModelError(
      `unsupported architecture '${String(arch ?? 'missing')}': only 'llama' is supported`,
    )
  const embd = file.tensors.find((t) => t.name === 'token_embd.weight')
  if (!embd) throw new ModelError("tensor 'token_embd.weight' is missing")
  const dim = metaNumber(file, 'llama.embedding_length')
  const nHeads = metaNumber(file, 'llama.attention.head_count')
  const tokens = file.metadata.get('tokenizer.ggml.tokens')
  const vocabSize = metaNumber(
    file,
    'llama.vocab_size',
    Array.isArray(tokens) ? tokens.length : embd.dims[1],
  )
  const name = file.metadata.get('general.name')
  return validateConfig({
    name: typeof name === 'string' ? name : 'unnamed',
    vocabSize,
    dim,
    nLayers: metaNumber(file, 'llama.block_count'),
    nHeads,
    nKvHeads: metaNumber(file, 'llama.attention.head_count_kv', nHeads),
    headDim: dim / nHeads,
    ffnDim: metaNumber(file, 'llama.feed_forward_length'),
    contextLength: metaNumber(file, 'llama.context_length'),
    ropeDim: metaNumber(file, 'llama.rope.dimension_count', dim / nHeads),
    ropeTheta: metaNumber(file, 'llama.rope.freq_base', 10000),
    normEps: metaNumber(file, 'llama.attention.layer_norm_rms_epsilon', 1e-5),
    tiedOutput: !file.tensors.some((t) => t.name === 'output.weight'),
  })
}

/** Reads a GGUF file's bytes and returns the quantized, committed model ready to run. */
export function loadModel(bytes: Uint8Array, options: LoadModelOptions = {}): Model {
  const file = readGguf(bytes)
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
  const kernel = createKernel(options.kernel ?? 'auto', arenaBytes)

  const leaves = new Uint8Array(weightLeafCount * 32)
  let leafCount = 0
  const pushLeaf = (digest: Uint8Array) => {
    leaves.set(digest, 32 * leafCount)
    return leafCount++
  }
  // The config leaf also names the tokenizer and chat template: they decide the prompt tokens a
  // chat renders to and the text output tokens decode to, so they are part of the model's identity.
  const tokenizerDigest = tokenizerIdentity(file.metadata)
  pushLeaf(sha256(concatBytes(configBytes(config), tokenizerDigest)))

  const tensorOf = (name: string, expected: number[]): GgufTensorInfo => {
    const t = optionalTensor(file, name)
    if (!t) throw new ModelError(`tensor '${name}' is missing`)
    if (t.dims.length !== expected.length || t.dims.some((d, i) => d !== expected[i]))
      throw new ModelError(`tensor '${name}' has shape [${t.dims}], expected [${expected}]`)
    return t
  }

  const rowLeaf = new Uint8Array(maxCols + 8)
  const rowLeafView = new DataView(rowLeaf.buffer)
  const matrix = (name: string, rows: number, cols: number): QMatrix => {
    const data = tensorToFloat32(file, tensorOf(name, [cols, rows]))
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
    try {
      quantizeRows(data, rows, cols, kernel.i8, ptr, m.scaleM, m.scaleE)
    } catch (error) {
      throw new ModelError(`tensor '${name}': ${(error as Error).message}`)
    }
    // Row leaf: sha256(int8 row || int32le m || int32le e).
    for (let r = 0; r < rows; r++) {
      rowLeaf.set(kernel.u8.subarray(ptr + r * cols, ptr + (r + 1) * cols), 0)
      rowLeafView.setInt32(cols, m.scaleM[r]!, true)
      rowLeafView.setInt32(cols + 4, m.scaleE[r]!, true)
      pushLeaf(sha256(rowLeaf.subarray(0, cols + 8)))
    }
    return m
  }
  const norm = (name: string): [Int32Array, number] => {
    let q: Int32Array
    try {
      q = quantizeNorm(tensorToFloat32(file, tensorOf(name, [dim])))
    } catch (error) {
      if (error instanceof ModelError) throw error
      throw new ModelError(`tensor '${name}': ${(error as Error).message}`)
    }
    return [q, pushLeaf(sha256(new Uint8Array(q.buffer, q.byteOffset, q.byteLength)))]
  }

  const embed = matrix('token_embd.weight', vocabSize, dim)
  const layers: LayerWeights[] = []
  for (let l = 0; l < nLayers; l++) {
    const [attnNorm, attnNormLeaf] = norm(`blk.${l}.attn_norm.weight`)
    const wq = matrix(`blk.${l}.attn_q.weight`, dim, dim)
    const wk = matrix(`blk.${l}.attn_k.weight`, kvDim, dim)
    const wv = matrix(`blk.${l}.attn_v.weight`, kvDim, dim)
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
    ropeInvFreq: ropeInverseFrequencies(config.ropeTheta, config.ropeDim),
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
