import { ImageError } from '../errors/vision.ts'
import { ACT_MAX, CLASSES, type DigitsModel, PIXEL_MAX, PIXELS } from './model.ts'

export type DigitsResult = {
  /** The 10 integer scores (W2 h + b2), each |s| < 2^22. */
  scores: number[]
  /** argmax of the scores, the lowest index on ties. */
  label: number
  /** The hidden activations h, int in [0, 127]: what the circuit's witness holds too. */
  hidden: number[]
  /** The second hidden layer's activations h2, int in [0, 127], for a model with `layer2`. */
  hidden2?: number[]
}

/** floor((v + 2^(s-1)) / 2^s) for v >= 0, s >= 1: round half up. Exact: v < 2^36 (model.ts bounds). */
export function roundShiftNonNeg(v: number, s: number): number {
  return Math.floor((v + 2 ** (s - 1)) / 2 ** s)
}

/** Refuses anything but 64 integers in [0, 16]. */
export function checkPixels(pixels: ArrayLike<number>): void {
  if (pixels.length !== PIXELS)
    throw new ImageError(`expected ${PIXELS} pixels (8x8), got ${pixels.length}`)
  for (let i = 0; i < PIXELS; i++) {
    const v = pixels[i]
    if (!Number.isInteger(v) || (v as number) < 0 || (v as number) > PIXEL_MAX)
      throw new ImageError(`pixel ${i} is ${String(v)}, not an integer in [0, ${PIXEL_MAX}]`)
  }
}

/**
 * The digits classifier in exact integer arithmetic (docs/DETERMINISM.md, "digits classifier").
 * Pure: the circuit (circuits/digits.circom) constrains the same formulas, and a test checks
 * both agree on every held-out image.
 */
export function classifyDigits(model: DigitsModel, pixels: ArrayLike<number>): DigitsResult {
  checkPixels(pixels)
  const hidden = reluRequant(model.w1, model.b1, model.m1, model.e1, pixels)
  const l2 = model.layer2
  const hidden2 = l2 ? reluRequant(l2.w, l2.b, l2.m, l2.e, hidden) : undefined
  const last = hidden2 ?? hidden
  const scores = new Array<number>(CLASSES)
  let label = 0
  for (let k = 0; k < CLASSES; k++) {
    const row = model.w2[k] as number[]
    let acc = model.b2[k] as number
    for (let j = 0; j < last.length; j++) acc += (row[j] as number) * (last[j] as number)
    scores[k] = acc
    if (acc > (scores[label] as number)) label = k
  }
  return hidden2 ? { scores, label, hidden, hidden2 } : { scores, label, hidden }
}

/** One hidden layer: min(127, roundShift(relu(W x + b) * m, e)) per row of W. */
function reluRequant(
  w: number[][],
  b: number[],
  m: number,
  e: number,
  x: ArrayLike<number>,
): number[] {
  const out = new Array<number>(w.length)
  for (let j = 0; j < w.length; j++) {
    const row = w[j] as number[]
    let acc = b[j] as number
    for (let i = 0; i < row.length; i++) acc += (row[i] as number) * (x[i] as number)
    out[j] = acc <= 0 ? 0 : Math.min(ACT_MAX, roundShiftNonNeg(acc * m, e))
  }
  return out
}
