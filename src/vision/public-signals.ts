import { ProofError } from '../errors/vision.ts'
import { checkPixels } from './classify.ts'
import { CLASSES, PIXELS } from './model.ts'

/**
 * The circuit's 4 public signals (circuits/lib/digits-mlp.circom): two field elements packing the
 * 64 pixels (5 bits each, 32 per element), one packing the 10 scores (score + 2^22 in 23 bits
 * each) and the label. Four public inputs instead of 75 keep on-chain verification near the
 * pairing's fixed cost (each public input costs the verifier an elliptic-curve multiplication).
 */
export type DigitsPublic = { pixelsPacked: [bigint, bigint]; scoresPacked: bigint; label: number }

export const SCORE_OFFSET = 1n << 22n
const PIXEL_BITS = 5n
const SCORE_BITS = 23n

export function packPixels(pixels: ArrayLike<number>): [bigint, bigint] {
  checkPixels(pixels)
  const out: [bigint, bigint] = [0n, 0n]
  for (let i = 0; i < PIXELS; i++)
    out[i >> 5] += BigInt(pixels[i] as number) << (PIXEL_BITS * BigInt(i & 31))
  return out
}

export function unpackPixels(packed: readonly [bigint, bigint]): number[] {
  const pixels: number[] = []
  for (let i = 0; i < PIXELS; i++)
    pixels.push(Number((packed[i >> 5] >> (PIXEL_BITS * BigInt(i & 31))) & 31n))
  if (packed.some((p) => p < 0n || p >> 160n !== 0n) || pixels.some((v) => v > 16))
    throw new ProofError('packed pixels out of range')
  return pixels
}

export function packScores(scores: readonly number[]): bigint {
  if (scores.length !== CLASSES) throw new ProofError(`expected ${CLASSES} scores`)
  let out = 0n
  for (let k = 0; k < CLASSES; k++) {
    const u = BigInt(scores[k] as number) + SCORE_OFFSET
    if (u < 0n || u >> SCORE_BITS !== 0n) throw new ProofError(`score ${k} out of range`)
    out += u << (SCORE_BITS * BigInt(k))
  }
  return out
}

export function unpackScores(packed: bigint): number[] {
  if (packed < 0n || packed >> (SCORE_BITS * BigInt(CLASSES)) !== 0n)
    throw new ProofError('packed scores out of range')
  const mask = (1n << SCORE_BITS) - 1n
  return Array.from({ length: CLASSES }, (_, k) =>
    Number(((packed >> (SCORE_BITS * BigInt(k))) & mask) - SCORE_OFFSET),
  )
}

/** The public signals in the order snarkjs lists them (decimal strings). */
export function publicSignals(p: DigitsPublic): string[] {
  return [...p.pixelsPacked, p.scoresPacked, BigInt(p.label)].map((v) => v.toString())
}

export function parsePublicSignals(signals: readonly string[]): DigitsPublic {
  if (signals.length !== 4 || !signals.every((s) => /^[0-9]{1,78}$/.test(s)))
    throw new ProofError('expected 4 decimal public signals')
  const [a, b, s, l] = signals.map(BigInt) as [bigint, bigint, bigint, bigint]
  if (l > 9n) throw new ProofError('label out of range')
  return { pixelsPacked: [a, b], scoresPacked: s, label: Number(l) }
}

/** The witness calculator's input: the public signals plus the 64 pixels (private). */
export function circuitInput(pixels: ArrayLike<number>, scores: readonly number[], label: number) {
  const [lo, hi] = packPixels(pixels)
  return {
    pixelsPacked: [lo.toString(), hi.toString()],
    scoresPacked: packScores(scores).toString(),
    label: String(label),
    pixels: Array.from(pixels, String),
  }
}
