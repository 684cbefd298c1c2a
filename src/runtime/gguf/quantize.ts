import { GgufError } from '../../errors/runtime.ts'
import { floatBitsToHalf } from './half.ts'
import { QK8_0 } from './types.ts'

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
