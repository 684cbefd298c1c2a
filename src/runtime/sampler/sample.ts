import { GenerationError } from '../../errors/runtime.ts'
import { expQ30 } from '../fixed/exp.ts'
import { roundDiv, roundShift } from '../fixed/int.ts'
import { maskHas } from './json/constraint.ts'
import type { Prng } from './prng.ts'

/**
 * Sampling parameters in the integer form the sampler uses. Floats from a request are converted
 * once by `samplingParams` (an exact rounding), and those integers are what the request commits to.
 */
export type SamplingParams = {
  /** Temperature in thousandths; 0 = greedy. */
  temperatureMilli: number
  /** Keep the k most likely tokens; 0 = all. */
  topK: number
  /** Nucleus mass in thousandths; 1000 = off. */
  topPMilli: number
  /**
   * OpenAI `logit_bias` in thousandths: [token, biasMilli] sorted by token, no duplicates, no
   * zero bias; at most 300 entries. Absent or empty = none.
   */
  logitBias?: [number, number][]
  /** OpenAI `presence_penalty` in thousandths (-2000..2000); absent = 0. */
  presencePenaltyMilli?: number
  /** OpenAI `frequency_penalty` in thousandths (-2000..2000); absent = 0. */
  frequencyPenaltyMilli?: number
}

/** Most `logit_bias` entries a request may carry (OpenAI's limit). */
export const MAX_LOGIT_BIAS = 300

export function samplingParams(p: {
  temperature?: number
  topK?: number
  topP?: number
  /** token id -> bias in [-100, 100] */
  logitBias?: Readonly<Record<number, number>> | undefined
  presencePenalty?: number
  frequencyPenalty?: number
}): SamplingParams {
  const temperature = p.temperature ?? 0
  const topP = p.topP ?? 1
  const topK = p.topK ?? 0
  if (!Number.isFinite(temperature) || temperature < 0 || temperature > 100)
    throw new GenerationError(`temperature must be between 0 and 100, got ${temperature}`)
  if (!Number.isFinite(topP) || topP <= 0 || topP > 1)
    throw new GenerationError(`top_p must be in (0, 1], got ${topP}`)
  if (!Number.isSafeInteger(topK) || topK < 0)
    throw new GenerationError(`top_k must be a non-negative integer, got ${topK}`)
  const out: SamplingParams = {
    temperatureMilli: Math.round(temperature * 1000),
    topK,
    topPMilli: Math.max(1, Math.round(topP * 1000)),
  }
  const penalty = (name: string, v: number | undefined) => {
    if (v === undefined) return 0
    if (!Number.isFinite(v) || v < -2 || v > 2)
      throw new GenerationError(`${name} must be between -2 and 2, got ${v}`)
    return Math.round(v * 1000) || 0
  }
  const presence = penalty('presence_penalty', p.presencePenalty)
  const frequency = penalty('frequency_penalty', p.frequencyPenalty)
  if (presence !== 0) out.presencePenaltyMilli = presence
  if (frequency !== 0) out.frequencyPenaltyMilli = frequency
  if (p.logitBias !== undefined) {
    const entries = Object.entries(p.logitBias)
    if (entries.length > MAX_LOGIT_BIAS)
      throw new GenerationError(`logit_bias may hold at most ${MAX_LOGIT_BIAS} entries`)
    const bias: [number, number][] = []
    for (const [key, v] of entries) {
      const token = Number(key)
      if (!/^(0|[1-9][0-9]{0,9})$/.test(key) || token > 0xffff_ffff)
        throw new GenerationError(`logit_bias key ${JSON.stringify(key)} is not a token id`)
      if (typeof v !== 'number' || !Number.isFinite(v) || v < -100 || v > 100)
        throw new GenerationError(`logit_bias[${key}] must be between -100 and 100, got ${v}`)
      const milli = Math.round(v * 1000) || 0
      if (milli !== 0) bias.push([token, milli])
    }
    bias.sort((a, b) => a[0] - b[0])
    if (bias.length > 0) out.logitBias = bias
  }
  return out
}

/** Index of the largest logit; the lowest index wins a tie. With `allowed`, among those tokens only. */
export function argmax(logits: Int32Array, n = logits.length, allowed?: Uint32Array): number {
  if (allowed !== undefined) {
    let best = -1
    for (let i = 0; i < n; i++)
      if (maskHas(allowed, i) && (best < 0 || logits[i]! > logits[best]!)) best = i
    return best
  }
  let best = 0
  for (let i = 1; i < n; i++) if (logits[i]! > logits[best]!) best = i
  return best
}

/**
 * Draws the next token from Q16 logits (docs/DETERMINISM.md, "sampler"):
 * candidates sorted by (logit desc, index asc), cut to top-k; w_i = round((z_i - z_max) * 1000 /
 * temperatureMilli); weights E_i = roundShift(expQ30(w_i), 10) (Q20), zero weights dropped;
 * top-p keeps the shortest prefix with cumulative * 1000 >= topPMilli * total;
 * u = prng.below(kept total); the token is the first whose cumulative weight exceeds u.
 * `order` and `weights` are scratch of at least vocab size. With `allowed` (a constrained output's
 * mask, at least one bit set) the other tokens do not exist for the sampler: zmax, the candidates
 * and every step after are over the allowed tokens only.
 */
export function sample(
  logits: Int32Array,
  params: SamplingParams,
  prng: Prng,
  order: Int32Array,
  weights: Float64Array,
  allowed?: Uint32Array,
): number {
  const n = logits.length
  if (params.temperatureMilli === 0) return argmax(logits, n, allowed)
  // Only logits whose weight can be non-zero are sorted: w < -16 (Q16) gives expQ30(w) >> 10 = 0.
  // They are exactly a prefix of the full (logit desc, index asc) order, so the result is the same.
  const floor = -(16 * 65536 + 1) * params.temperatureMilli
  let zmax = -Infinity
  let m = 0
  if (allowed === undefined) {
    for (let i = 0; i < n; i++) if (logits[i]! > zmax) zmax = logits[i]!
    for (let i = 0; i < n; i++) if ((logits[i]! - zmax) * 1000 >= floor) order[m++] = i
  } else {
    for (let i = 0; i < n; i++) if (logits[i]! > zmax && maskHas(allowed, i)) zmax = logits[i]!
    for (let i = 0; i < n; i++)
      if ((logits[i]! - zmax) * 1000 >= floor && maskHas(allowed, i)) order[m++] = i
  }
  const byLogit = (a: number, b: number) => logits[b]! - logits[a]! || a - b
  const candidates = order.subarray(0, m).sort(byLogit)
  const k = params.topK > 0 ? Math.min(params.topK, m) : m
  let total = 0
  let count = 0
  for (let i = 0; i < k; i++) {
    const z = logits[candidates[i]!]!
    const w = roundDiv((z - zmax) * 1000, params.temperatureMilli)
    const e = roundShift(expQ30(w), 10)
    if (e === 0) break // sorted: every later weight is 0 too
    weights[i] = e
    total += e
    count++
  }
  if (params.topPMilli < 1000) {
    let cum = 0
    for (let i = 0; i < count; i++) {
      cum += weights[i]!
      if (cum * 1000 >= params.topPMilli * total) {
        count = i + 1
        total = cum
        break
      }
    }
  }
  const u = prng.below(total)
  let cum = 0
  for (let i = 0; i < count; i++) {
    cum += weights[i]!
    if (cum > u) return candidates[i]!
  }
  return candidates[count - 1]!
}
