import { pow2 } from '../fixed/int.ts'
/**
 * Load-time quantization of float weights to the runtime's integer form. Float arithmetic is
 * used here, but only IEEE-exact operations (products by powers of two, one correctly rounded
 * division, comparisons), so every engine gets the same integers; the integers are then committed
 * in modelRoot, so any disagreement would show as a different model identity.
 */

/** Scale mantissas are 12-bit: m in [2^11, 2^12), value = m * 2^-e. */
export const SCALE_MANTISSA_MIN = 2048
export const SCALE_MANTISSA_MAX = 4095

/**
 * The smallest 12-bit-mantissa scale m * 2^-e with m * 2^-e >= amax / 127, for amax > 0 (a float).
 * Returns [m, e].
 */
export function weightScale(amax: number): [number, number] {
  const s = amax / 127
  let e = 0
  let t = s
  // Bring s * 2^e into [2^11, 2^12): multiplying by 2 is exact.
  while (t < SCALE_MANTISSA_MIN) {
    t *= 2
    e++
  }
  while (t >= SCALE_MANTISSA_MAX + 1) {
    t /= 2
    e--
  }
  let m = Math.ceil(t)
  if (m > SCALE_MANTISSA_MAX) {
    m = SCALE_MANTISSA_MIN
    e--
  }
  return [m, e]
}

/**
 * Quantizes `rows` rows of `cols` floats: q = round-half-away(w * 2^e / m), clamped to [-127, 127].
 * Writes int8 values into `out` at `outOffset` and the scale of row r into scaleM[r], scaleE[r].
 * An all-zero row gets m = 0, e = 0.
 */
export function quantizeRows(
  src: Float32Array,
  rows: number,
  cols: number,
  out: Int8Array,
  outOffset: number,
  scaleM: Int32Array,
  scaleE: Int32Array,
): void {
  for (let r = 0; r < rows; r++) {
    const base = r * cols
    let amax = 0
    for (let j = 0; j < cols; j++) {
      const a = Math.abs(src[base + j]!)
      // NaN fails this comparison too: a model with NaN or infinite weights is refused.
      if (!(a < Number.POSITIVE_INFINITY))
        throw new RangeError(`row ${r} holds a non-finite weight`)
      if (a > amax) amax = a
    }
    if (amax === 0) {
      scaleM[r] = 0
      scaleE[r] = 0
      out.fill(0, outOffset + base, outOffset + base + cols)
      continue
    }
    const [m, e] = weightScale(amax)
    scaleM[r] = m
    scaleE[r] = e
    // w * 2^e is exact (a power of two; |w| >= 2^-149 and |e| < 200 stay in double range), so
    // one division by m is the only rounding: the same as w * 2^e / m in exact arithmetic.
    const p2 = e >= 0 ? pow2(e) : 1 / pow2(-e)
    const at = outOffset + base
    for (let j = 0; j < cols; j++) {
      const scaled = (src[base + j]! * p2) / m
      const a = scaled < 0 ? -scaled : scaled
      let q = Math.floor(a + 0.5)
      if (q > 127) q = 127
      out[at + j] = scaled < 0 ? -q : q
    }
  }
}

/** Norm weights in Q16: round-half-away(g * 2^16), clamped to |g| < 256 (see DETERMINISM.md). */
export const NORM_WEIGHT_MAX = (1 << 24) - 1
export function quantizeNorm(src: Float32Array): Int32Array {
  const out = new Int32Array(src.length)
  for (let i = 0; i < src.length; i++) {
    const v = src[i]!
    if (!Number.isFinite(v)) throw new RangeError(`norm weight ${i} is not finite`)
    const s = v * 65536
    const q = s < 0 ? -Math.floor(-s + 0.5) : Math.floor(s + 0.5)
    out[i] = q > NORM_WEIGHT_MAX ? NORM_WEIGHT_MAX : Math.max(q, -NORM_WEIGHT_MAX)
  }
  return out
}

/**
 * Biases in Q16: round-half-away(b * 2^16), clamped to the int32 range of activations (sat32).
 * Added to the projection's output element (docs/DETERMINISM.md, "projections").
 */
export function quantizeQ16(src: Float32Array): Int32Array {
  const out = new Int32Array(src.length)
  for (let i = 0; i < src.length; i++) {
    const v = src[i]!
    if (!Number.isFinite(v)) throw new RangeError(`value ${i} is not finite`)
    const s = v * 65536
    const q = s < 0 ? -Math.floor(-s + 0.5) : Math.floor(s + 0.5)
    out[i] = q > 0x7fffffff ? 0x7fffffff : Math.max(q, -0x7fffffff)
  }
  return out
}

/** eps in units of 2^-40, the form RMSNorm adds it in. */
export function epsQ40(eps: number): number {
  return Math.round(eps * 2 ** 40)
}
