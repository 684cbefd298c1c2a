import { ImageError } from '../errors/vision.ts'
import { ACT_MAX, CLASSES, type DigitsModel, PIXEL_MAX, PIXELS } from './model.ts'

export type DigitsResult = {
  /** The 10 integer scores (W2 h + b2), each |s| < 2^22. */
  scores: number[]
  /** argmax of the scores, the lowest index on ties. */
  label: number
  /** The hidden activations h, int in [0, 127]: what the circuit's witness holds too. */
  hidden: number[]
}

/** floor((v + 2^(s-1)) / 2^s) for v >= 0, s >= 1: round half up. Exact: v < 2^33. */
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
  const hidden = new Array<number>(model.hidden)
  for (let j = 0; j < model.hidden; j++) {
    const row = model.w1[j] as number[]
    let acc = model.b1[j] as number
    for (let i = 0; i < PIXELS; i++) acc += (row[i] as number) * (pixels[i] as number)
    hidden[j] = acc <= 0 ? 0 : Math.min(ACT_MAX, roundShiftNonNeg(acc * model.m1, model.e1))
  }
  const scores = new Array<number>(CLASSES)
  let label = 0
  for (let k = 0; k < CLASSES; k++) {
    const row = model.w2[k] as number[]
    let acc = model.b2[k] as number
    for (let j = 0; j < model.hidden; j++) acc += (row[j] as number) * (hidden[j] as number)
    scores[k] = acc
    if (acc > (scores[label] as number)) label = k
  }
  return { scores, label, hidden }
}
