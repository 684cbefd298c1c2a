/**
 * IEEE 754 binary16 <-> binary32 conversions in integer bit code, so they are exact and identical
 * on every engine (no reliance on Math.f16round, which Node 20 lacks).
 */

const scratchF32 = new Float32Array(1)
const scratchU32 = new Uint32Array(scratchF32.buffer)

let halfTable: Uint32Array | undefined

/** Bits of the float32 equal to each half (index = half bits). Built once, 256 KiB. */
export function halfToFloatBitsTable(): Uint32Array {
  if (halfTable) return halfTable
  const table = new Uint32Array(65536)
  for (let h = 0; h < 65536; h++) table[h] = halfBitsToFloatBits(h)
  halfTable = table
  return table
}

function halfBitsToFloatBits(h: number): number {
  const sign = (h & 0x8000) << 16
  const exp = (h >>> 10) & 0x1f
  const mant = h & 0x3ff
  if (exp === 0x1f) return (sign | 0x7f800000 | (mant << 13)) >>> 0 // inf, NaN (payload kept)
  if (exp !== 0) return (sign | ((exp + 112) << 23) | (mant << 13)) >>> 0
  if (mant === 0) return sign >>> 0
  // Subnormal half: mant * 2^-24 is exact in float32 (a normal number there).
  scratchF32[0] = mant * 2 ** -24
  return (sign | scratchU32[0]!) >>> 0
}

/** The value of a half given by its bits. */
export function halfToFloat(h: number): number {
  scratchU32[0] = halfToFloatBitsTable()[h & 0xffff]!
  return scratchF32[0]!
}

/** Half bits of a float32 bit pattern, rounded to nearest, ties to even (like F16C / ggml). */
export function floatBitsToHalf(x: number): number {
  const sign = (x >>> 16) & 0x8000
  const exp = (x >>> 23) & 0xff
  const mant = x & 0x7fffff
  if (exp === 0xff) {
    if (mant === 0) return sign | 0x7c00
    // Quiet NaN with the top payload bits, as _cvtss_sh does.
    return sign | 0x7e00 | (mant >>> 13)
  }
  const e = exp - 112 // rebias 127 -> 15
  if (e >= 31) return sign | 0x7c00
  if (e > 0) {
    const rest = mant & 0x1fff
    let h = (e << 10) | (mant >>> 13)
    // A carry out of the mantissa bumps the exponent, up to inf: that is the correct rounding.
    if (rest > 0x1000 || (rest === 0x1000 && (h & 1) === 1)) h++
    return sign | h
  }
  // Subnormal (or zero) half: value / 2^-24 = (1.mant) * 2^(e - 14 + 24 - 24) in units of 2^-24.
  const shift = 14 - e
  if (shift > 24) return sign // below half of the smallest subnormal: rounds to zero
  const m = mant | 0x800000
  let h = m >>> shift
  const rest = m & ((1 << shift) - 1)
  const half = 1 << (shift - 1)
  if (rest > half || (rest === half && (h & 1) === 1)) h++
  return sign | h
}

/** Half bits of a number, first rounded to float32 as a C float would be. */
export function floatToHalf(value: number): number {
  scratchF32[0] = value
  return floatBitsToHalf(scratchU32[0]!)
}
