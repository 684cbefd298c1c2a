import { GgufError } from '../../errors/runtime.ts'
import { BadBlock, decodeRow, rowBytes } from './dequant.ts'
import { halfToFloatBitsTable } from './half.ts'
import { GgmlType, type GgufFile, type GgufTensorInfo, ggmlTypeLabel, QK8_0 } from './types.ts'

/** Number of elements of a tensor (product of its dims). */
export function tensorElementCount(tensor: GgufTensorInfo): number {
  let n = 1
  for (const d of tensor.dims) n *= d
  return n
}

/** The tensor called `name`; throws GgufError naming it when the file has none. */
export function tensorByName(file: GgufFile, name: string): GgufTensorInfo {
  const tensor = file.tensors.find((t) => t.name === name)
  if (!tensor) throw new GgufError(`tensor '${name}' not found`)
  return tensor
}

/** The tensor called `name`, or undefined. */
export function optionalTensor(file: GgufFile, name: string): GgufTensorInfo | undefined {
  return file.tensors.find((t) => t.name === name)
}

function checkInFile(file: GgufFile, tensor: GgufTensorInfo): void {
  if (tensor.offset < 0 || tensor.offset + tensor.byteLength > file.size) {
    throw new GgufError(`tensor '${tensor.name}' data lies outside the file`)
  }
}

/** Source bytes read per call while decoding rows: bounds the memory a load needs beside the weights. */
export const ROW_CHUNK_BYTES = 4 << 20

/**
 * Decodes a tensor row by row (dims[0] is the row length), reading about `ROW_CHUNK_BYTES` of the
 * file at a time: `fn(r, values)` gets row r as float32, in a buffer reused for the next row. No
 * copy of the whole tensor is made. A malformed block is a GgufError naming tensor, row and block.
 */
export function forEachRow(
  file: GgufFile,
  tensor: GgufTensorInfo,
  fn: (row: number, values: Float32Array) => void,
): void {
  checkInFile(file, tensor)
  const cols = tensor.dims[0]!
  const rows = tensorElementCount(tensor) / cols
  const bytesPerRow = rowBytes(tensor.type, cols)
  const perChunk = Math.max(1, Math.floor(ROW_CHUNK_BYTES / bytesPerRow))
  const values = new Float32Array(cols)
  for (let first = 0; first < rows; first += perChunk) {
    const count = Math.min(perChunk, rows - first)
    const chunk = file.source.read(tensor.offset + first * bytesPerRow, count * bytesPerRow)
    for (let i = 0; i < count; i++) {
      try {
        decodeRow(tensor.type, chunk, i * bytesPerRow, cols, values, 0)
      } catch (error) {
        if (error instanceof BadBlock)
          throw new GgufError(
            `tensor '${tensor.name}' (${ggmlTypeLabel(tensor.type)}) row ${first + i}: ${error.message}`,
          )
        const message = error instanceof GgufError ? error.shortMessage.slice(6) : String(error)
        throw new GgufError(`tensor '${tensor.name}': ${message}`)
      }
      fn(first + i, values)
    }
  }
}

/**
 * Decodes a whole tensor to float32, row-major in ne order (dims[0] fastest), as llama.cpp's
 * dequantize_row_* computes it (dequant.ts). For small tensors and tools: loading a model never
 * calls it (it decodes row by row with forEachRow).
 */
export function tensorToFloat32(file: GgufFile, tensor: GgufTensorInfo): Float32Array {
  const cols = tensor.dims[0]!
  const out = new Float32Array(tensorElementCount(tensor))
  forEachRow(file, tensor, (r, values) => out.set(values, r * cols))
  return out
}

export type Q8_0Raw = {
  /** One scale per block of 32, the block's f16 `d` widened exactly to float32. */
  scales: Float32Array
  /** The quants, row-major in ne order: element i belongs to block floor(i / 32). */
  qs: Int8Array
}

/** A Q8_0 tensor's scales and int8 quants, without dequantizing. */
export function tensorRawQ8_0(file: GgufFile, tensor: GgufTensorInfo): Q8_0Raw {
  if (tensor.type !== GgmlType.Q8_0) {
    throw new GgufError(`tensor '${tensor.name}' has type ${ggmlTypeLabel(tensor.type)}, not Q8_0`)
  }
  checkInFile(file, tensor)
  const n = tensorElementCount(tensor)
  const blocks = n / QK8_0
  const bytes = file.source.read(tensor.offset, tensor.byteLength)
  const table = new Float32Array(halfToFloatBitsTable().buffer)
  const scales = new Float32Array(blocks)
  const qs = new Int8Array(n)
  const src = new Int8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  for (let b = 0, p = 0; b < blocks; b++, p += 2 + QK8_0) {
    scales[b] = table[bytes[p]! | (bytes[p + 1]! << 8)]!
    qs.set(src.subarray(p + 2, p + 2 + QK8_0), b * QK8_0)
  }
  return { scales, qs }
}
