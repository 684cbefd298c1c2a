import { roundDiv } from '../fixed/int.ts'
import type { SamplingParams } from './sample.ts'

const INT32_MIN = -0x80000000
const INT32_MAX = 0x7fffffff

/** A request's logit adjustments in effect (bias entries or a penalty). */
export function hasAdjustments(params: SamplingParams): boolean {
  return (
    (params.logitBias?.length ?? 0) > 0 ||
    (params.presencePenaltyMilli ?? 0) !== 0 ||
    (params.frequencyPenaltyMilli ?? 0) !== 0
  )
}

/** A Q16 amount from thousandths: round(milli * 2^16 / 1000) = roundDiv(milli * 8192, 125). */
export function milliToQ16(milli: number): number {
  return roundDiv(milli * 8192, 125)
}

/**
 * The logits the sampler sees (docs/DETERMINISM.md, "logit adjustments"): for every token j,
 *   z'_j = clamp32(z_j + B_j - P_j)
 *   B_j  = milliToQ16(biasMilli_j)                         (0 for tokens without a bias)
 *   P_j  = c_j > 0 ? milliToQ16(c_j * frequencyMilli + presenceMilli) : 0
 * where c_j counts token j in the output sampled so far (not the prompt) and clamp32 clamps to
 * [-2^31, 2^31 - 1]. Exact: |c_j * 2000 + 2000| * 8192 < 2^53 for c_j < 2^29, and the context
 * length bounds c_j far below that. `seen` lists the distinct tokens with c_j > 0.
 */
export function adjustLogits(
  logits: Int32Array,
  params: SamplingParams,
  counts: Uint32Array,
  seen: readonly number[],
  out: Int32Array,
): Int32Array {
  out.set(logits)
  for (const [token, milli] of params.logitBias ?? [])
    out[token] = clamp32(out[token]! + milliToQ16(milli))
  const presence = params.presencePenaltyMilli ?? 0
  const frequency = params.frequencyPenaltyMilli ?? 0
  if (presence !== 0 || frequency !== 0)
    for (const token of seen)
      out[token] = clamp32(out[token]! - milliToQ16(counts[token]! * frequency + presence))
  return out
}

function clamp32(v: number): number {
  return Math.max(INT32_MIN, Math.min(v, INT32_MAX))
}
