import { VisionModelError } from '../errors/vision.ts'

/** Pixels of the 8x8 digits image, row-major, intensities 0..16 (the data set's scale). */
export const IMAGE_SIDE = 8
export const PIXELS = IMAGE_SIDE * IMAGE_SIDE
export const PIXEL_MAX = 16
export const CLASSES = 10

/**
 * Bounds the circuit's range checks rely on (circuits/digits.circom). With them every value below
 * is an exact integer far below 2^53 and far below the field size:
 * |acc1| <= 64 * 127 * 16 + 2^20 < 2^21, relu(acc1) * m1 < 2^33,
 * |score| <= HIDDEN_MAX * 127 * 127 + 2^20 < 2^22.
 */
export const BIAS_MAX = 2 ** 20
export const HIDDEN_MAX = 128
export const ACT_MAX = 127

/**
 * Bounds of the two-hidden-layer variant (docs/DETERMINISM.md, "digits classifier"): the first
 * layer may be wider, |acc2| <= 512 * 127 * 127 + 2^20 < 2^24 and relu(acc2) * m2 < 2^36; the
 * second layer's width keeps |score| <= 192 * 127 * 127 + 2^20 < 2^22, so the scores pack into
 * the same 23-bit public signal as the one-layer models' (src/vision/public-signals.ts).
 */
export const HIDDEN1_MAX_TWO_LAYERS = 512
export const HIDDEN2_MAX = 192

/**
 * The optional second hidden layer: h2 = min(127, roundShift(relu(W h + b) * m, e)), the same
 * requantization as the first layer's. W is int8 [hidden][first layer's hidden].
 */
export type DigitsLayer2 = {
  hidden: number
  w: number[][]
  b: number[]
  m: number
  e: number
}

/**
 * An integer MLP 64 -> hidden -> 10 (docs/DETERMINISM.md, "digits classifier"):
 * acc1 = W1 x + b1; h = min(127, roundShift(relu(acc1) * m1, e1)); scores = W2 h + b2.
 * Weights are int8 in [-127, 127]; m1 * 2^-e1 is the hidden layer's integer requantization scale.
 * With `layer2` it is 64 -> hidden -> layer2.hidden -> 10: h2 is computed from h as h from x, and
 * the output layer (w2, b2) reads h2 instead of h.
 */
export type DigitsModel = {
  name: string
  hidden: number
  /** hidden x 64 */
  w1: number[][]
  b1: number[]
  m1: number
  e1: number
  /** 10 x (layer2 ? layer2.hidden : hidden): the output layer */
  w2: number[][]
  b2: number[]
  layer2?: DigitsLayer2
}

const isInt = (v: unknown, lo: number, hi: number): v is number =>
  typeof v === 'number' && Number.isInteger(v) && v >= lo && v <= hi

function checkMatrix(name: string, m: unknown, rows: number, cols: number): number[][] {
  if (!Array.isArray(m) || m.length !== rows)
    throw new VisionModelError(`${name} must have ${rows} rows`)
  for (const [r, row] of m.entries()) {
    if (!Array.isArray(row) || row.length !== cols)
      throw new VisionModelError(`${name}[${r}] must have ${cols} columns`)
    for (const v of row)
      if (!isInt(v, -127, 127))
        throw new VisionModelError(`${name}[${r}] holds ${String(v)}, not an int8 in [-127, 127]`)
  }
  return m as number[][]
}

function checkBias(name: string, b: unknown, n: number): number[] {
  if (!Array.isArray(b) || b.length !== n)
    throw new VisionModelError(`${name} must have ${n} entries`)
  for (const v of b)
    if (!isInt(v, -BIAS_MAX, BIAS_MAX))
      throw new VisionModelError(`${name} holds ${String(v)}, outside [-2^20, 2^20]`)
  return b as number[]
}

/** Validates a parsed model file (models/digits*.json) against the bounds above. */
export function parseDigitsModel(json: unknown): DigitsModel {
  if (typeof json !== 'object' || json === null)
    throw new VisionModelError('model is not an object')
  const o = json as Record<string, unknown>
  if (typeof o.name !== 'string' || o.name.length === 0)
    throw new VisionModelError('model has no name')
  const twoLayers = o.layer2 !== undefined
  const hiddenMax = twoLayers ? HIDDEN1_MAX_TWO_LAYERS : HIDDEN_MAX
  if (!isInt(o.hidden, 1, hiddenMax))
    throw new VisionModelError(`hidden must be an integer in [1, ${hiddenMax}]`)
  const hidden = o.hidden
  // m1 below 2^12 and e1 in [1, 26] keep relu(acc1) * m1 < 2^33 and the quotient below 2^(34-e1)
  if (!isInt(o.m1, 1, 4095)) throw new VisionModelError('m1 must be an integer in [1, 4095]')
  if (!isInt(o.e1, 1, 26)) throw new VisionModelError('e1 must be an integer in [1, 26]')
  const layer2 = twoLayers ? checkLayer2(o.layer2, hidden) : undefined
  return {
    name: o.name,
    hidden,
    w1: checkMatrix('w1', o.w1, hidden, PIXELS),
    b1: checkBias('b1', o.b1, hidden),
    m1: o.m1,
    e1: o.e1,
    w2: checkMatrix('w2', o.w2, CLASSES, layer2?.hidden ?? hidden),
    b2: checkBias('b2', o.b2, CLASSES),
    ...(layer2 ? { layer2 } : {}),
  }
}

function checkLayer2(json: unknown, inputs: number): DigitsLayer2 {
  if (typeof json !== 'object' || json === null)
    throw new VisionModelError('layer2 is not an object')
  const o = json as Record<string, unknown>
  if (!isInt(o.hidden, 1, HIDDEN2_MAX))
    throw new VisionModelError(`layer2.hidden must be an integer in [1, ${HIDDEN2_MAX}]`)
  // m below 2^12 and e in [1, 26] keep relu(acc2) * m < 2^36 and the quotient below 2^(37-e)
  if (!isInt(o.m, 1, 4095)) throw new VisionModelError('layer2.m must be an integer in [1, 4095]')
  if (!isInt(o.e, 1, 26)) throw new VisionModelError('layer2.e must be an integer in [1, 26]')
  return {
    hidden: o.hidden,
    w: checkMatrix('layer2.w', o.w, o.hidden, inputs),
    b: checkBias('layer2.b', o.b, o.hidden),
    m: o.m,
    e: o.e,
  }
}

/** Number of weights and biases. */
export function paramCount(model: DigitsModel): number {
  const last = model.layer2?.hidden ?? model.hidden
  const second = model.layer2 ? model.layer2.hidden * (model.hidden + 1) : 0
  return model.hidden * (PIXELS + 1) + second + CLASSES * (last + 1)
}
