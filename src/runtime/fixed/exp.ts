import { expNonPositive, LN2, toFixed } from './bigmath.ts'
import { roundShift } from './int.ts'

/** round(log2(e) * 2^30) */
export const LOG2E_Q30 = 1549082005
/** round(ln(2) * 2^26) */
export const LN2_Q26 = 46516320
/** Below this (Q16, i.e. x < -32) e^x < 2^-46: the Q30 result is 0. */
const EXP_MIN_Q16 = -32 * 65536

/**
 * EXP2_TABLE[i] = round(2^(-i/256) * 2^26) for i < 256, computed by the BigInt routines
 * (e^(-(i * ln2) / 256) at 96 fractional bits, then rounded): integer code anyone can repeat.
 */
export const EXP2_TABLE: Int32Array = Int32Array.from({ length: 256 }, (_, i) =>
  toFixed(expNonPositive(-(BigInt(i) * LN2) / 256n), 26n),
)

/**
 * e^(d / 2^16) in Q30 for d <= 0 (Q16). Integer-only:
 *   u = roundShift(-d * LOG2E_Q30, 20)        -x log2(e) in Q26, so e^x = 2^(-u / 2^26)
 *   n = floor(u / 2^26), r = u - n 2^26       integer and fractional parts
 *   i = floor(r / 2^18), f = r - i 2^18        table index (top 8 bits) and the rest, f < 2^18
 *   y = roundShift(f * LN2_Q26, 26)            f ln2 in Q26, below 2^-8 * ln2
 *   p = 2^26 - y + roundShift(y * y, 27)       e^-y ~ 1 - y + y^2/2 in Q26 (error < 4e-9)
 *   result = roundShift(EXP2_TABLE[i] * p, 22 + n)
 * Exactness: |d| <= 2^21 so |d| * LOG2E_Q30 < 2^52; f * LN2_Q26 < 2^44; y^2 < 2^36;
 * EXP2_TABLE[i] * p <= 2^52.
 */
export function expQ30(d: number): number {
  if (d > 0) throw new RangeError(`expQ30 takes d <= 0, got ${d}`)
  if (d < EXP_MIN_Q16) return 0
  const u = roundShift(-d * LOG2E_Q30, 20)
  const n = Math.floor(u / 67108864)
  const r = u - n * 67108864
  const i = r >>> 18
  const f = r & 0x3ffff
  const y = roundShift(f * LN2_Q26, 26)
  const p = 67108864 - y + roundShift(y * y, 27)
  return roundShift(EXP2_TABLE[i]! * p, 22 + n)
}
