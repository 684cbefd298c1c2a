import { cosSin, expNonPositive, F, fromDouble, ln, ONE, toFixed } from './bigmath.ts'

/** RoPE tables hold cos and sin in Q20. */
export const ROPE_BITS = 20

/**
 * The inverse frequencies theta^(-2i/d) for i < d/2, in F-bit fixed point:
 * exp(-(2i * ln(theta)) / d), where the division truncates. With frequency factors f (Llama 3.1+
 * `rope_freqs.weight`), each is then divided by its factor: (invFreq_i * 2^F) / f_i, f_i converted
 * exactly to fixed point, the division truncating (llama.cpp's angle theta_i / f_i).
 */
export function ropeInverseFrequencies(
  theta: number,
  ropeDim: number,
  factors?: readonly number[],
): bigint[] {
  const lnTheta = ln(fromDouble(theta))
  const out: bigint[] = []
  for (let i = 0; i < ropeDim / 2; i++) {
    const base = expNonPositive(-(BigInt(2 * i) * lnTheta) / BigInt(ropeDim))
    out.push(factors === undefined ? base : (base * ONE) / fromDouble(factors[i]!))
  }
  return out
}

/**
 * cos and sin of pos * invFreq[i] in Q20, for one position: out[2i] = cos, out[2i+1] = sin.
 * Each entry is computed directly from (pos, i), never by recurrence, so any single entry can be
 * recomputed on its own (the one-step check does).
 */
export function ropeRow(invFreq: readonly bigint[], pos: number, out: Int32Array): void {
  const p = BigInt(pos)
  for (let i = 0; i < invFreq.length; i++) {
    const [c, s] = cosSin(p * invFreq[i]!)
    out[2 * i] = toFixed(c, BigInt(ROPE_BITS))
    out[2 * i + 1] = toFixed(s, BigInt(ROPE_BITS))
  }
}

export { F as ROPE_FIXED_BITS, ONE as ROPE_ONE }
