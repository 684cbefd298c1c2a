import { GgufError } from '../../errors/runtime.ts'
import { halfToFloatBitsTable } from './half.ts'
import { GgmlType, type GgufFile, type GgufTensorInfo, ggmlTypeLabel, QK8_0 } from './types.ts'

const littleEndian = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1

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
  if (tensor.offset < 0 || tensor.offset + tensor.byteLength > file.bytes.length) {
    throw new GgufError(`tensor '${tensor.name}' data lies outside the file`)
  }
}

/**
 * Decodes a tensor to float32, row-major in ne order (dims[0] fastest). F16 is exact; Q8_0 is
 * `d * q` rounded once to float32, which is what llama.cpp's dequantize_row_q8_0 computes.
 */
export function tensorToFloat32(file: GgufFile, tensor: GgufTensorInfo): Float32Array {
  checkInFile(file, tensor)
  const n = tensorElementCount(tensor)
  const { bytes } = file
  const start = bytes.byteOffset + tensor.offset
  const out = new Float32Array(n)
  switch (tensor.type) {
    case GgmlType.F32: {
      if (littleEndian && start % 4 === 0) {
        out.set(new Float32Array(bytes.buffer, start, n))
      } else {
        const view = new DataView(bytes.buffer, start, n * 4)
        for (let i = 0; i < n; i++) out[i] = view.getFloat32(i * 4, true)
      }
      return out
    }
    case GgmlType.F16: {
      // Copy bit patterns through a u32 view so NaN payloads survive unchanged.
      const bits = new Uint32Array(out.buffer)
      const table = halfToFloatBitsTable()
      for (let i = 0, p = tensor.offset; i < n; i++, p += 2) {
        bits[i] = table[bytes[p]! | (bytes[p + 1]! << 8)]!
      }
      return out
    }
    case GgmlType.Q8_0: {
      const table = new Float32Array(halfToFloatBitsTable().buffer)
      const qs = new Int8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength)
      const blocks = n / QK8_0
      for (let b = 0, p = tensor.offset, o = 0; b < blocks; b++) {
        const d = table[bytes[p]! | (bytes[p + 1]! << 8)]!
        p += 2
        // d * q is exact in a double; the Float32Array store rounds it once, as C's float product.
        for (let j = 0; j < QK8_0; j++) out[o + j] = d * qs[p + j]!
        p += QK8_0
        o += QK8_0
      }
      return out
    }
    default:
      throw new GgufError(
        `tensor '${tensor.name}' has type ${ggmlTypeLabel(tensor.type)}, supported: F32, F16, Q8_0`,
      )
  }
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
  const { bytes } = file
  const table = new Float32Array(halfToFloatBitsTable().buffer)
  const scales = new Float32Array(blocks)
  const qs = new Int8Array(n)
  const src = new Int8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  for (let b = 0, p = tensor.offset; b < blocks; b++, p += 2 + QK8_0) {
    scales[b] = table[bytes[p]! | (bytes[p + 1]! << 8)]!
    qs.set(src.subarray(p + 2, p + 2 + QK8_0), b * QK8_0)
  }
  return { scales, qs }
}
