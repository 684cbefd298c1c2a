import { GgufError } from '../../errors/runtime.ts'
import { floatBitsToHalf, floatToHalf, halfToFloat } from './half.ts'
import { GgmlType, ggmlTypeLabel, QK8_0 } from './types.ts'

/**
 * C's roundf: round half away from zero. `x` is a float32 value, so |x| + 0.5 is exact in a
 * double and floor gives the right answer (no 0.49999997 trap).
 */
export function roundf(x: number): number {
  return x < 0 ? -Math.floor(-x + 0.5) : Math.floor(x + 0.5)
}

/**
 * Quantizes float32 data to Q8_0 blocks written at `out[offset..]`, exactly as llama.cpp's
 * quantize_row_q8_0_ref: amax over the block, d = amax / 127, id = d ? 1 / d : 0,
 * q = roundf(x * id), d stored as f16. Every float operation is rounded to float32 as in C.
 * `name` only labels errors.
 */
export function quantizeQ8_0(
  src: Float32Array,
  out: Uint8Array,
  offset: number,
  name: string,
): void {
  if (src.length % QK8_0 !== 0) {
    throw new GgufError(`tensor '${name}': ${src.length} values is not a multiple of ${QK8_0}`)
  }
  const bits = new Uint32Array(1)
  const f = new Float32Array(bits.buffer)
  const blocks = src.length / QK8_0
  for (let b = 0, p = offset; b < blocks; b++) {
    const base = b * QK8_0
    let amax = 0
    for (let j = 0; j < QK8_0; j++) {
      const v = Math.abs(src[base + j]!)
      // Non-finite input has no int8 image (llama.cpp's cast would be undefined behaviour).
      if (!(v <= 3.4028234663852886e38)) {
        throw new GgufError(
          `tensor '${name}' value ${src[base + j]} at index ${base + j} cannot be quantized to Q8_0`,
        )
      }
      if (v > amax) amax = v
    }
    const d = Math.fround(amax / 127)
    const id = d !== 0 ? Math.fround(1 / d) : 0
    f[0] = d
    const h = floatBitsToHalf(bits[0]!)
    out[p] = h & 0xff
    out[p + 1] = h >>> 8
    p += 2
    for (let j = 0; j < QK8_0; j++, p++) {
      out[p] = roundf(Math.fround(src[base + j]! * id)) & 0xff
    }
  }
}

/** Writes float32 data as f16 (round to nearest even) at `out[offset..]`, little-endian. */
export function encodeF16(src: Float32Array, out: Uint8Array, offset: number): void {
  const bits = new Uint32Array(src.buffer, src.byteOffset, src.length)
  for (let i = 0, p = offset; i < src.length; i++, p += 2) {
    const h = floatBitsToHalf(bits[i]!)
    out[p] = h & 0xff
    out[p + 1] = h >>> 8
  }
}

/**
 * The project's own encoders for ggml's other block formats, so that it can write files of every
 * type it reads (tests, the cross-check, the benchmark). Each writes valid blocks that ggml's
 * `dequantize_row_*` decodes; Q4_0, Q4_1, Q5_0 and Q5_1 follow llama.cpp's reference quantizers
 * (quantize_row_*_ref), the K-quants use a plain min/max fit per sub-block instead of llama.cpp's
 * iterative search (a file's decoding does not depend on how its blocks were chosen).
 */

const f32 = Math.fround

function checkFinite(src: Float32Array, name: string, type: string): void {
  for (let i = 0; i < src.length; i++) {
    if (!Number.isFinite(src[i]!))
      throw new GgufError(
        `tensor '${name}' value ${src[i]} at index ${i} cannot be quantized to ${type}`,
      )
  }
}

function putHalf(out: Uint8Array, at: number, value: number): void {
  const h = floatToHalf(value)
  out[at] = h & 0xff
  out[at + 1] = h >>> 8
}

/** C's (int8_t) cast of a float in range: truncation toward zero. */
const trunc = (x: number) => (x < 0 ? Math.ceil(x) : Math.floor(x))

/** quantize_row_q4_0_ref / q5_0_ref: d = max / -(2^(bits-1)), q = min(2^bits - 1, (int8)(x / d + 2^(bits-1) + 0.5)). */
function encodeSymmetric(src: Float32Array, out: Uint8Array, at: number, bits: 4 | 5): void {
  const half = bits === 4 ? 8 : 16
  const top = bits === 4 ? 15 : 31
  const size = bits === 4 ? 18 : 22
  for (let b = 0, p = at; b < src.length / 32; b++, p += size) {
    let amax = 0
    let max = 0
    for (let j = 0; j < 32; j++) {
      const v = src[32 * b + j]!
      if (amax < Math.abs(v)) {
        amax = Math.abs(v)
        max = v
      }
    }
    const d = f32(max / -half)
    const id = d !== 0 ? f32(1 / d) : 0
    putHalf(out, p, d)
    let qh = 0
    const qs = p + (bits === 4 ? 2 : 6)
    for (let j = 0; j < 16; j++) {
      const x0 = f32(src[32 * b + j]! * id)
      const x1 = f32(src[32 * b + 16 + j]! * id)
      const q0 = Math.min(top, trunc(f32(x0 + half + 0.5)))
      const q1 = Math.min(top, trunc(f32(x1 + half + 0.5)))
      out[qs + j] = (q0 & 0xf) | ((q1 & 0xf) << 4)
      qh |= ((q0 >> 4) & 1) << j
      qh |= ((q1 >> 4) & 1) << (j + 16)
    }
    if (bits === 5) new DataView(out.buffer, out.byteOffset).setUint32(p + 2, qh >>> 0, true)
  }
}

/** quantize_row_q4_1_ref / q5_1_ref: d = (max - min) / (2^bits - 1), m = min, q = (int8)((x - min) / d + 0.5). */
function encodeAffine(src: Float32Array, out: Uint8Array, at: number, bits: 4 | 5): void {
  const top = bits === 4 ? 15 : 31
  const size = bits === 4 ? 20 : 24
  for (let b = 0, p = at; b < src.length / 32; b++, p += size) {
    let min = Number.POSITIVE_INFINITY
    let max = Number.NEGATIVE_INFINITY
    for (let j = 0; j < 32; j++) {
      const v = src[32 * b + j]!
      if (v < min) min = v
      if (v > max) max = v
    }
    const d = f32(f32(max - min) / top)
    const id = d !== 0 ? f32(1 / d) : 0
    putHalf(out, p, d)
    putHalf(out, p + 2, min)
    let qh = 0
    const qs = p + (bits === 4 ? 4 : 8)
    for (let j = 0; j < 16; j++) {
      const x0 = f32(f32(src[32 * b + j]! - min) * id)
      const x1 = f32(f32(src[32 * b + 16 + j]! - min) * id)
      const q0 = Math.min(top, trunc(f32(x0 + 0.5)))
      const q1 = Math.min(top, trunc(f32(x1 + 0.5)))
      out[qs + j] = (q0 & 0xf) | ((q1 & 0xf) << 4)
      qh |= ((q0 >> 4) & 1) << j
      qh |= ((q1 >> 4) & 1) << (j + 16)
    }
    if (bits === 5) new DataView(out.buffer, out.byteOffset).setUint32(p + 4, qh >>> 0, true)
  }
}

const nearest = (x: number) => Math.round(x)

/**
 * Q4_K and Q5_K super-blocks: each sub-block of 32 gets scale (max - min) / top and min -min
 * (clamped to min <= 0, as ggml), both coded in 6 bits against the block's largest, then
 * q = round((x + dmin m) / (d sc)), as ggml's final pass does.
 */
function encodeK(src: Float32Array, out: Uint8Array, at: number, bits: 4 | 5): void {
  const top = bits === 4 ? 15 : 31
  const size = bits === 4 ? 144 : 176
  const scales = new Float64Array(8)
  const mins = new Float64Array(8)
  const L = new Uint8Array(256)
  for (let b = 0, p = at; b < src.length / 256; b++, p += size) {
    const x = src.subarray(256 * b, 256 * (b + 1))
    let maxScale = 0
    let maxMin = 0
    for (let j = 0; j < 8; j++) {
      let lo = 0
      let hi = Number.NEGATIVE_INFINITY
      for (let l = 0; l < 32; l++) {
        lo = Math.min(lo, x[32 * j + l]!)
        hi = Math.max(hi, x[32 * j + l]!)
      }
      scales[j] = hi > lo ? (hi - lo) / top : 0
      mins[j] = -lo
      maxScale = Math.max(maxScale, scales[j]!)
      maxMin = Math.max(maxMin, mins[j]!)
    }
    const s = p + 4
    out.fill(0, s, s + 12)
    const invScale = maxScale > 0 ? 63 / maxScale : 0
    const invMin = maxMin > 0 ? 63 / maxMin : 0
    for (let j = 0; j < 8; j++) {
      // Round the scale up so that the top of the sub-block's range still fits in `top` steps.
      const ls = Math.min(63, Math.ceil(invScale * scales[j]!))
      const lm = Math.min(63, Math.ceil(invMin * mins[j]!))
      if (j < 4) {
        out[s + j] = ls
        out[s + j + 4] = lm
      } else {
        out[s + j + 4] = (ls & 0xf) | ((lm & 0xf) << 4)
        out[s + j - 4]! |= (ls >> 4) << 6
        out[s + j]! |= (lm >> 4) << 6
      }
    }
    putHalf(out, p, maxScale / 63)
    putHalf(out, p + 2, maxMin / 63)
    const d = halfValue(out, p)
    const dmin = halfValue(out, p + 2)
    for (let j = 0; j < 8; j++) {
      const [sc, m] = packedScaleMin(out, s, j)
      const dj = f32(d * sc)
      const mj = f32(dmin * m)
      for (let l = 0; l < 32; l++)
        L[32 * j + l] =
          dj === 0 ? 0 : Math.max(0, Math.min(top, nearest((x[32 * j + l]! + mj) / dj)))
    }
    const qh = p + 16
    const qs = p + (bits === 4 ? 16 : 48)
    if (bits === 5) out.fill(0, qh, qh + 32)
    for (let c = 0; c < 4; c++) {
      for (let l = 0; l < 32; l++) {
        const lo = L[64 * c + l]!
        const hi = L[64 * c + 32 + l]!
        out[qs + 32 * c + l] = (lo & 0xf) | ((hi & 0xf) << 4)
        if (bits === 5) out[qh + l]! |= ((lo >> 4) << (2 * c)) | ((hi >> 4) << (2 * c + 1))
      }
    }
  }
}

/** Q6_K: 16 sub-blocks of 16 with int8 scales against d = max |scale| / 127 (as ggml's layout). */
function encodeQ6K(src: Float32Array, out: Uint8Array, at: number): void {
  const scales = new Float64Array(16)
  const L = new Uint8Array(256)
  for (let b = 0, p = at; b < src.length / 256; b++, p += 210) {
    const x = src.subarray(256 * b, 256 * (b + 1))
    let maxAbsScale = 0
    for (let j = 0; j < 16; j++) {
      let amax = 0
      for (let l = 0; l < 16; l++) amax = Math.max(amax, Math.abs(x[16 * j + l]!))
      scales[j] = amax / 31
      maxAbsScale = Math.max(maxAbsScale, scales[j]!)
    }
    putHalf(out, p + 208, maxAbsScale / 127)
    const d = halfValue(out, p + 208)
    for (let j = 0; j < 16; j++) {
      const sc = d === 0 ? 0 : Math.min(127, Math.ceil(scales[j]! / d))
      out[p + 192 + j] = sc & 0xff
      const dj = f32(d * sc)
      for (let l = 0; l < 16; l++)
        L[16 * j + l] = dj === 0 ? 32 : Math.max(0, Math.min(63, nearest(x[16 * j + l]! / dj) + 32))
    }
    out.fill(0, p + 128, p + 192)
    for (let n = 0; n < 2; n++) {
      const ql = p + 64 * n
      const qh = p + 128 + 32 * n
      for (let l = 0; l < 32; l++) {
        const q1 = L[128 * n + l]!
        const q2 = L[128 * n + l + 32]!
        const q3 = L[128 * n + l + 64]!
        const q4 = L[128 * n + l + 96]!
        out[ql + l] = (q1 & 0xf) | ((q3 & 0xf) << 4)
        out[ql + l + 32] = (q2 & 0xf) | ((q4 & 0xf) << 4)
        out[qh + l] = (q1 >> 4) | ((q2 >> 4) << 2) | ((q3 >> 4) << 4) | ((q4 >> 4) << 6)
      }
    }
  }
}

function halfValue(out: Uint8Array, at: number): number {
  return halfToFloat(out[at]! | (out[at + 1]! << 8))
}

function packedScaleMin(q: Uint8Array, s: number, j: number): [number, number] {
  if (j < 4) return [q[s + j]! & 63, q[s + j + 4]! & 63]
  return [
    (q[s + j + 4]! & 0xf) | ((q[s + j - 4]! >> 6) << 4),
    (q[s + j + 4]! >> 4) | ((q[s + j]! >> 6) << 4),
  ]
}

/** bf16 bits of each value, rounded to nearest even as ggml's GGML_FP32_TO_BF16 (NaN made quiet). */
function encodeBF16(src: Float32Array, out: Uint8Array, at: number): void {
  const bits = new Uint32Array(src.buffer, src.byteOffset, src.length)
  for (let i = 0, p = at; i < src.length; i++, p += 2) {
    const u = bits[i]!
    let h: number
    if ((u & 0x7fffffff) > 0x7f800000) h = (u >>> 16) | 64
    else h = ((u + (0x7fff + ((u >>> 16) & 1))) >>> 16) & 0xffff
    out[p] = h & 0xff
    out[p + 1] = h >>> 8
  }
}

/**
 * Encodes whole rows of float32 data as `type` at `out[offset..]` (the tensor's bytes or a part of
 * them that starts at a row). `name` labels errors.
 */
export function encodeTensorData(
  type: number,
  src: Float32Array,
  out: Uint8Array,
  offset: number,
  name: string,
): void {
  switch (type) {
    case GgmlType.F32:
      new Uint8Array(out.buffer, out.byteOffset + offset, src.length * 4).set(
        new Uint8Array(src.buffer, src.byteOffset, src.length * 4),
      )
      return
    case GgmlType.F16:
      encodeF16(src, out, offset)
      return
    case GgmlType.BF16:
      encodeBF16(src, out, offset)
      return
    case GgmlType.Q8_0:
      quantizeQ8_0(src, out, offset, name)
      return
  }
  const typeName = ggmlTypeLabel(type)
  checkFinite(src, name, typeName)
  switch (type) {
    case GgmlType.Q4_0:
      encodeSymmetric(src, out, offset, 4)
      return
    case GgmlType.Q5_0:
      encodeSymmetric(src, out, offset, 5)
      return
    case GgmlType.Q4_1:
      encodeAffine(src, out, offset, 4)
      return
    case GgmlType.Q5_1:
      encodeAffine(src, out, offset, 5)
      return
    case GgmlType.Q4_K:
      encodeK(src, out, offset, 4)
      return
    case GgmlType.Q5_K:
      encodeK(src, out, offset, 5)
      return
    case GgmlType.Q6_K:
      encodeQ6K(src, out, offset)
      return
    default:
      throw new GgufError(`tensor '${name}': the writer cannot encode type ${typeName}`)
  }
}
