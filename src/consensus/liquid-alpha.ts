import { expSafe } from './exp.ts'
import { div, fromInt, mul, ONE } from './fixed.ts'

/** Liquid-alpha constants of one epoch, in I32F32 raw bits. */
export type LiquidAlphaParams = {
  low: number
  high: number
  /** steepness / −100, computed once as subtensor does (truncating division). */
  slope: number
}

/** Converts the stored hyperparameters (u16 bounds, i16 steepness) as subtensor reads them. */
export function liquidAlphaParams(
  alphaLow: number,
  alphaHigh: number,
  steepness: number,
): LiquidAlphaParams {
  return {
    low: div(alphaLow, 65535),
    high: div(alphaHigh, 65535),
    slope: div(fromInt(steepness), fromInt(-100)),
  }
}

function clamp(v: number, lo: number, hi: number): number {
  // `value.min(high).max(low)`, in that order.
  return Math.max(Math.min(v, hi), lo)
}

/**
 * `liquid_alpha_sigmoid` for one validator–miner pair (all raw I32F32):
 * buy = clamp(w − c, 0, 1), sell = clamp(b − w, 0, 1), d = w ≥ b ? buy : sell,
 * σ = 1 / (1 + exp_safe(slope · (d − 0.5))), α = clamp(low + σ·(high − low), low, high).
 */
export function liquidAlpha(
  consensus: number,
  weight: number,
  bond: number,
  p: LiquidAlphaParams,
): number {
  const buy = clamp(weight - consensus, 0, ONE)
  const sell = clamp(bond - weight, 0, ONE)
  const d = weight >= bond ? buy : sell
  return clamp(p.low + mul(sigmoid(mul(p.slope, d - ONE / 2)), p.high - p.low), p.low, p.high)
}

const sigmoidCache = new Map<number, number>()

/** 1 / (1 + exp_safe(x)), memoised on x like expSafe (it also saves the division). */
function sigmoid(x: number): number {
  const hit = sigmoidCache.get(x)
  if (hit !== undefined) return hit
  const s = div(ONE, ONE + expSafe(x))
  if (sigmoidCache.size > 1 << 16) sigmoidCache.clear()
  sigmoidCache.set(x, s)
  return s
}
