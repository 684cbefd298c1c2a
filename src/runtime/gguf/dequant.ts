import { GgufError } from '../../errors/runtime.ts'
import { halfToFloatBitsTable } from './half.ts'
import { GGML_TYPE_LAYOUT, GgmlType, ggmlTypeLabel, SUPPORTED_TYPE_NAMES } from './types.ts'

/**
 * ggml's block formats decoded to float32 exactly as llama.cpp's `dequantize_row_*` reference
 * code computes them: each C `float` product or sum is one IEEE float32 rounding, reproduced here
 * by storing into a Float32Array (or `Math.fround`). Where a product is exact in float32 (a half
 * scale of 11 significant bits times a quant of at most 8), no rounding happens in C either.
 *
 * Every decoder checks its block scales: a non-finite half (inf or NaN) has no int8 image and is a
 * `GgufError` naming the block. F32, F16 and BF16 values themselves are checked by the quantizer.
 */

const QK = 32
const QK_K = 256

let halfTable: Float32Array | undefined
/** float32 value of every half bit pattern. */
function halves(): Float32Array {
  halfTable ??= new Float32Array(halfToFloatBitsTable().buffer)
  return halfTable
}

const f32 = Math.fround

/** Bytes one row of `cols` elements takes in `type`; throws for unknown types or bad lengths. */
export function rowBytes(type: number, cols: number): number {
  const layout = GGML_TYPE_LAYOUT.get(type)
  if (!layout) throw new GgufError(`unknown tensor type ${ggmlTypeLabel(type)}`)
  const [block, bytes] = layout
  if (cols % block !== 0)
    throw new GgufError(
      `rows of ${cols} elements are not a multiple of ${ggmlTypeLabel(type)}'s block of ${block}`,
    )
  return (cols / block) * bytes
}

/** Where a block's scale is not finite: the caller adds the tensor and row. */
export class BadBlock extends Error {
  constructor(
    readonly block: number,
    readonly what: string,
  ) {
    super(`block ${block} has a non-finite ${what}`)
  }
}

function half(src: Uint8Array, at: number, block: number, what: string): number {
  const v = halves()[src[at]! | (src[at + 1]! << 8)]!
  if (!Number.isFinite(v)) throw new BadBlock(block, what)
  return v
}

/**
 * Decodes `n` elements (whole blocks) of `type` from `src` at byte `at` into `out` at `outAt`.
 * Throws `BadBlock` (block index within this call) for a non-finite block scale, and GgufError for
 * a type it cannot decode.
 */
export function decodeRow(
  type: number,
  src: Uint8Array,
  at: number,
  n: number,
  out: Float32Array,
  outAt: number,
): void {
  switch (type) {
    case GgmlType.F32: {
      const view = new DataView(src.buffer, src.byteOffset + at, n * 4)
      for (let i = 0; i < n; i++) out[outAt + i] = view.getFloat32(4 * i, true)
      return
    }
    case GgmlType.F16: {
      const table = halves()
      for (let i = 0, p = at; i < n; i++, p += 2)
        out[outAt + i] = table[src[p]! | (src[p + 1]! << 8)]!
      return
    }
    case GgmlType.BF16: {
      // bf16 is the top half of a float32: widening is exact (NaN payloads kept).
      const bits = new Uint32Array(1)
      const value = new Float32Array(bits.buffer)
      for (let i = 0, p = at; i < n; i++, p += 2) {
        bits[0] = ((src[p]! | (src[p + 1]! << 8)) << 16) >>> 0
        out[outAt + i] = value[0]!
      }
      return
    }
    case GgmlType.Q8_0:
      for (let b = 0, p = at, o = outAt; b < n / QK; b++, p += 34, o += QK) {
        const d = half(src, p, b, 'scale d')
        for (let j = 0; j < QK; j++) out[o + j] = d * ((src[p + 2 + j]! << 24) >> 24)
      }
      return
    case GgmlType.Q4_0:
      // d (f16), qs[16]: element j is the low nibble of qs[j], element j + 16 the high one, minus 8.
      for (let b = 0, p = at, o = outAt; b < n / QK; b++, p += 18, o += QK) {
        const d = half(src, p, b, 'scale d')
        for (let j = 0; j < 16; j++) {
          const q = src[p + 2 + j]!
          out[o + j] = ((q & 0xf) - 8) * d
          out[o + j + 16] = ((q >> 4) - 8) * d
        }
      }
      return
    case GgmlType.Q4_1:
      // d, m (f16), qs[16]: q * d + m, one float32 rounding of the sum.
      for (let b = 0, p = at, o = outAt; b < n / QK; b++, p += 20, o += QK) {
        const d = half(src, p, b, 'scale d')
        const m = half(src, p + 2, b, 'minimum m')
        for (let j = 0; j < 16; j++) {
          const q = src[p + 4 + j]!
          out[o + j] = (q & 0xf) * d + m
          out[o + j + 16] = (q >> 4) * d + m
        }
      }
      return
    case GgmlType.Q5_0:
      // d, qh (u32 LE: bit j is element j's fifth bit, bit j + 16 element j + 16's), qs[16].
      for (let b = 0, p = at, o = outAt; b < n / QK; b++, p += 22, o += QK) {
        const d = half(src, p, b, 'scale d')
        const qh =
          (src[p + 2]! | (src[p + 3]! << 8) | (src[p + 4]! << 16) | (src[p + 5]! << 24)) >>> 0
        for (let j = 0; j < 16; j++) {
          const q = src[p + 6 + j]!
          const h0 = ((qh >>> j) & 1) << 4
          const h1 = ((qh >>> (j + 16)) & 1) << 4
          // (q - 16) * d: a 5-bit integer times an 11-bit half, exact in float32.
          out[o + j] = (((q & 0xf) | h0) - 16) * d
          out[o + j + 16] = (((q >> 4) | h1) - 16) * d
        }
      }
      return
    case GgmlType.Q5_1:
      for (let b = 0, p = at, o = outAt; b < n / QK; b++, p += 24, o += QK) {
        const d = half(src, p, b, 'scale d')
        const m = half(src, p + 2, b, 'minimum m')
        const qh =
          (src[p + 4]! | (src[p + 5]! << 8) | (src[p + 6]! << 16) | (src[p + 7]! << 24)) >>> 0
        for (let j = 0; j < 16; j++) {
          const q = src[p + 8 + j]!
          const h0 = ((qh >>> j) & 1) << 4
          const h1 = ((qh >>> (j + 16)) & 1) << 4
          out[o + j] = ((q & 0xf) | h0) * d + m
          out[o + j + 16] = ((q >> 4) | h1) * d + m
        }
      }
      return
    case GgmlType.Q4_K:
      for (let b = 0, p = at, o = outAt; b < n / QK_K; b++, p += 144, o += QK_K)
        decodeQ4K(src, p, b, out, o)
      return
    case GgmlType.Q5_K:
      for (let b = 0, p = at, o = outAt; b < n / QK_K; b++, p += 176, o += QK_K)
        decodeQ5K(src, p, b, out, o)
      return
    case GgmlType.Q6_K:
      for (let b = 0, p = at, o = outAt; b < n / QK_K; b++, p += 210, o += QK_K)
        decodeQ6K(src, p, b, out, o)
      return
    default:
      throw new GgufError(
        `tensor type ${ggmlTypeLabel(type)} cannot be decoded (supported: ${SUPPORTED_TYPE_NAMES})`,
      )
  }
}

/** The 6-bit scale and min of sub-block j from the 12 packed bytes at `s` (get_scale_min_k4). */
function scaleMin(src: Uint8Array, s: number, j: number): [number, number] {
  if (j < 4) return [src[s + j]! & 63, src[s + j + 4]! & 63]
  return [
    (src[s + j + 4]! & 0xf) | ((src[s + j - 4]! >> 6) << 4),
    (src[s + j + 4]! >> 4) | ((src[s + j]! >> 6) << 4),
  ]
}

// Q4_K: d, dmin (f16), scales[12], qs[128]. Eight sub-blocks of 32; pairs of sub-blocks share the
// 32 bytes of a 64-element chunk (low nibbles first, then high). y = (d sc) q - (dmin m).
function decodeQ4K(src: Uint8Array, p: number, b: number, out: Float32Array, o: number): void {
  const d = half(src, p, b, 'super-block scale d')
  const dmin = half(src, p + 2, b, 'super-block minimum dmin')
  const s = p + 4
  let q = p + 16
  for (let chunk = 0; chunk < 4; chunk++, q += 32, o += 64) {
    const [sc1, m1i] = scaleMin(src, s, 2 * chunk)
    const [sc2, m2i] = scaleMin(src, s, 2 * chunk + 1)
    const d1 = f32(d * sc1)
    const m1 = f32(dmin * m1i)
    const d2 = f32(d * sc2)
    const m2 = f32(dmin * m2i)
    for (let l = 0; l < 32; l++) out[o + l] = d1 * (src[q + l]! & 0xf) - m1
    for (let l = 0; l < 32; l++) out[o + 32 + l] = d2 * (src[q + l]! >> 4) - m2
  }
}

// Q5_K: d, dmin, scales[12], qh[32], qs[128]. As Q4_K, with a fifth bit from qh: chunk c reads bit
// 2c (low nibbles) and 2c + 1 (high nibbles) of qh[l].
function decodeQ5K(src: Uint8Array, p: number, b: number, out: Float32Array, o: number): void {
  const d = half(src, p, b, 'super-block scale d')
  const dmin = half(src, p + 2, b, 'super-block minimum dmin')
  const s = p + 4
  const qh = p + 16
  let ql = p + 48
  for (let chunk = 0; chunk < 4; chunk++, ql += 32, o += 64) {
    const [sc1, m1i] = scaleMin(src, s, 2 * chunk)
    const [sc2, m2i] = scaleMin(src, s, 2 * chunk + 1)
    const d1 = f32(d * sc1)
    const m1 = f32(dmin * m1i)
    const d2 = f32(d * sc2)
    const m2 = f32(dmin * m2i)
    const u1 = 1 << (2 * chunk)
    const u2 = u1 << 1
    for (let l = 0; l < 32; l++)
      out[o + l] = d1 * ((src[ql + l]! & 0xf) + (src[qh + l]! & u1 ? 16 : 0)) - m1
    for (let l = 0; l < 32; l++)
      out[o + 32 + l] = d2 * ((src[ql + l]! >> 4) + (src[qh + l]! & u2 ? 16 : 0)) - m2
  }
}

// Q6_K: ql[128], qh[64], scales[16] (int8), d (f16). Two halves of 128; within a half, element
// l + 32 k (k < 4) takes 4 low bits from ql and 2 high bits from qh, minus 32, times d * scale.
function decodeQ6K(src: Uint8Array, p: number, b: number, out: Float32Array, o: number): void {
  const d = half(src, p + 208, b, 'super-block scale d')
  let ql = p
  let qh = p + 128
  let sc = p + 192
  for (let n = 0; n < 2; n++, ql += 64, qh += 32, sc += 8, o += 128) {
    for (let l = 0; l < 32; l++) {
      const is = l >> 4
      const h = src[qh + l]!
      const q1 = ((src[ql + l]! & 0xf) | ((h & 3) << 4)) - 32
      const q2 = ((src[ql + l + 32]! & 0xf) | (((h >> 2) & 3) << 4)) - 32
      const q3 = ((src[ql + l]! >> 4) | (((h >> 4) & 3) << 4)) - 32
      const q4 = ((src[ql + l + 32]! >> 4) | (((h >> 6) & 3) << 4)) - 32
      // C evaluates d * sc * q left to right: d * sc is exact, the product with q rounds once.
      out[o + l] = f32(d * ((src[sc + is]! << 24) >> 24)) * q1
      out[o + l + 32] = f32(d * ((src[sc + is + 2]! << 24) >> 24)) * q2
      out[o + l + 64] = f32(d * ((src[sc + is + 4]! << 24) >> 24)) * q3
      out[o + l + 96] = f32(d * ((src[sc + is + 6]! << 24) >> 24)) * q4
    }
  }
}
