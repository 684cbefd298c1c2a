import { roundDiv, roundShift } from './int.ts'

/** round(log2(e) * 2^30) */
export const LOG2E_Q30 = 1549082005
/** round(ln(2) * 2^26) */
export const LN2_Q26 = 46516320
/** Terms of the Taylor series of e^-y, y in [0, ln 2): the truncation error is below 2^-30. */
const EXP_TERMS = 11
/** Below this (Q16, i.e. x < -32) e^x < 2^-46: the Q30 result is 0. */
const EXP_MIN_Q16 = -32 * 65536

/**
 * e^(d / 2^16) in Q30 for d <= 0 (Q16). Integer-only:
 *   u = round(-d * log2(e)) in Q26, u = n * 2^26 + r with r in [0, 2^26)
 *   y = round(r * ln2) in Q26, so e^(d/2^16) = 2^-u = 2^-n * e^-y
 *   e^-y by Horner in Q26: a = 2^26; for k = K..1: a = 2^26 - round(y * a / (k * 2^26))
 *   result = round(a * 2^4 / 2^n)
 * Exactness: |d| <= 2^21 so |d| * LOG2E_Q30 < 2^52; r * LN2_Q26 < 2^52; y, a <= 2^26 so y * a <= 2^52.
 * Accuracy: within 2e-8 of e^x (tested), far below the Q16 resolution of every consumer.
 */
export function expQ30(d: number): number {
  if (d > 0) throw new RangeError(`expQ30 takes d <= 0, got ${d}`)
  if (d < EXP_MIN_Q16) return 0
  const u = roundShift(-d * LOG2E_Q30, 20)
  const n = Math.floor(u / (1 << 26))
  const r = u - n * (1 << 26)
  const y = roundShift(r * LN2_Q26, 26)
  let a = 1 << 26
  for (let k = EXP_TERMS; k >= 1; k--) a = (1 << 26) - roundDiv(y * a, k * (1 << 26))
  return roundShift(a, n - 4)
}
