import { F, ln, toFixed } from '../fixed/bigmath.ts'
import { expQ30 } from '../fixed/exp.ts'
import { maskHas } from './json/constraint.ts'

/** One output token's log-probability and its top alternatives, all in Q16 (value / 2^16). */
export type StepLogprobs = {
  /** ln p of the sampled token, Q16 (<= 0). */
  logprob: number
  /** The k most likely tokens [token, ln p in Q16], by (logit desc, index asc). */
  top: [number, number][]
}

/**
 * The log-softmax of Q16 logits at one token, integer-only (docs/DETERMINISM.md, "logprobs"):
 *   zmax = max z;  S = sum_j expQ30(z_j - zmax)                   (Q30, >= 2^30: the max term)
 *   L    = toFixed(ln(S * 2^(96-30)), 16)                         ln(S / 2^30) in Q16, BigInt ln
 *   lp_j = z_j - zmax - L
 * S < 2^53 while the vocabulary is below 2^23 tokens. `order` is scratch of vocabulary size.
 * With `allowed` (a constrained output's mask) j ranges over the allowed tokens only: the
 * distribution the token was drawn from.
 */
export function stepLogprobs(
  z: Int32Array,
  token: number,
  k: number,
  order: Int32Array,
  allowed?: Uint32Array,
): StepLogprobs {
  const n = z.length
  const ok = (i: number) => allowed === undefined || maskHas(allowed, i)
  let zmax = -Infinity
  for (let i = 0; i < n; i++) if (z[i]! > zmax && ok(i)) zmax = z[i]!
  let sum = 0
  for (let i = 0; i < n; i++) if (ok(i)) sum += expQ30(z[i]! - zmax)
  const lse = toFixed(ln(BigInt(sum) << (F - 30n)), 16n)
  const lp = (j: number) => z[j]! - zmax - lse
  const top: [number, number][] = []
  if (k > 0) {
    // k <= 20: a partial selection, (logit desc, index asc), no full sort of the vocabulary.
    let m = 0
    for (let i = 0; i < n; i++) {
      if (!ok(i)) continue
      let at = Math.min(m, k)
      while (at > 0 && z[order[at - 1]!]! < z[i]!) at--
      if (at >= k) continue
      for (let s = Math.min(m, k - 1); s > at; s--) order[s] = order[s - 1]!
      order[at] = i
      if (m < k) m++
    }
    for (let i = 0; i < m; i++) top.push([order[i]!, lp(order[i]!)])
  }
  return { logprob: lp(token), top }
}
