/**
 * Trains Verity's vision model, an MLP 64 -> hidden -> 10 (ReLU) on the UCI 8x8 handwritten digits
 * that Debian's python3-sklearn ships, then quantizes it to the integer model that
 * src/vision/classify.ts and circuits/digits.circom compute (docs/DETERMINISM.md, "digits
 * classifier"), and writes it as JSON.
 *
 *   node bin/run-ts.js scripts/train-digits.ts [--hidden 32] [--epochs 150] [--seed 18] [--out models/digits.json]
 *
 * Float64 training: Kaiming-uniform initialisation from the runtime's seeded Prng, Adam, minibatches
 * in a seeded order, softmax cross-entropy. Held out: every 5th image (src/vision/dataset.ts), never
 * seen by training or by the calibration. The same command gives the same file on the same Node
 * version (Math.exp is engine-defined); the committed integer file is the model's identity.
 */
import { writeFileSync } from 'node:fs'
import { Prng } from '../src/runtime/sampler/prng.ts'
import { classifyDigits } from '../src/vision/classify.ts'
import { type DigitSample, readDigits, splitDigits } from '../src/vision/dataset.ts'
import {
  ACT_MAX,
  BIAS_MAX,
  CLASSES,
  type DigitsModel,
  PIXEL_MAX,
  PIXELS,
  paramCount,
  parseDigitsModel,
} from '../src/vision/model.ts'

const args = process.argv.slice(2)
const flag = (name: string, fallback: string): string => {
  const i = args.indexOf(`--${name}`)
  return i >= 0 && args[i + 1] !== undefined ? (args[i + 1] as string) : fallback
}
const H = Number(flag('hidden', '32'))
const EPOCHS = Number(flag('epochs', '150'))
const SEED = Number(flag('seed', '18'))
const OUT = flag('out', H === 32 ? 'models/digits.json' : `models/digits-h${H}.json`)
const BATCH = 32
const LR = 2e-3
const WEIGHT_DECAY = 1e-4

const prng = new Prng(SEED)
const uniform = () => prng.next() / 2 ** 32

type Float = {
  w1: Float64Array // H x 64
  b1: Float64Array
  w2: Float64Array // 10 x H
  b2: Float64Array
}

function init(): Float {
  const w1 = new Float64Array(H * PIXELS)
  const w2 = new Float64Array(CLASSES * H)
  const a1 = Math.sqrt(6 / PIXELS)
  const a2 = Math.sqrt(6 / H)
  for (let i = 0; i < w1.length; i++) w1[i] = (2 * uniform() - 1) * a1
  for (let i = 0; i < w2.length; i++) w2[i] = (2 * uniform() - 1) * a2
  return { w1, b1: new Float64Array(H), w2, b2: new Float64Array(CLASSES) }
}

/** Float forward on x / 16; returns hidden (post-ReLU) and logits. */
function forward(
  p: Float,
  pixels: number[],
): { x: Float64Array; h: Float64Array; z: Float64Array } {
  const x = new Float64Array(PIXELS)
  for (let i = 0; i < PIXELS; i++) x[i] = (pixels[i] as number) / PIXEL_MAX
  const h = new Float64Array(H)
  for (let j = 0; j < H; j++) {
    let a = p.b1[j] as number
    for (let i = 0; i < PIXELS; i++) a += (p.w1[j * PIXELS + i] as number) * (x[i] as number)
    h[j] = Math.max(a, 0)
  }
  const z = new Float64Array(CLASSES)
  for (let k = 0; k < CLASSES; k++) {
    let a = p.b2[k] as number
    for (let j = 0; j < H; j++) a += (p.w2[k * H + j] as number) * (h[j] as number)
    z[k] = a
  }
  return { x, h, z }
}

function train(samples: DigitSample[]): Float {
  const p = init()
  const params = [p.w1, p.b1, p.w2, p.b2]
  const m = params.map((a) => new Float64Array(a.length))
  const v = params.map((a) => new Float64Array(a.length))
  const g = params.map((a) => new Float64Array(a.length))
  let step = 0
  const order = samples.map((_, i) => i)
  for (let epoch = 0; epoch < EPOCHS; epoch++) {
    for (let i = order.length - 1; i > 0; i--) {
      const j = prng.below(i + 1)
      ;[order[i], order[j]] = [order[j] as number, order[i] as number]
    }
    let loss = 0
    for (let start = 0; start < order.length; start += BATCH) {
      const batch = order.slice(start, start + BATCH)
      for (const a of g) a.fill(0)
      const [gw1, gb1, gw2, gb2] = g as [Float64Array, Float64Array, Float64Array, Float64Array]
      for (const idx of batch) {
        const s = samples[idx] as DigitSample
        const { x, h, z } = forward(p, s.pixels)
        let max = -Infinity
        for (const zk of z) max = Math.max(max, zk)
        let sum = 0
        const e = z.map((zk) => Math.exp(zk - max))
        for (const ek of e) sum += ek
        loss -= Math.log((e[s.label] as number) / sum)
        const dz = e.map((ek, k) => ek / sum - (k === s.label ? 1 : 0))
        const dh = new Float64Array(H)
        for (let k = 0; k < CLASSES; k++) {
          const d = dz[k] as number
          gb2[k] = (gb2[k] as number) + d
          for (let j = 0; j < H; j++) {
            gw2[k * H + j] = (gw2[k * H + j] as number) + d * (h[j] as number)
            dh[j] = (dh[j] as number) + d * (p.w2[k * H + j] as number)
          }
        }
        for (let j = 0; j < H; j++) {
          if ((h[j] as number) <= 0) continue
          const d = dh[j] as number
          gb1[j] = (gb1[j] as number) + d
          for (let i = 0; i < PIXELS; i++)
            gw1[j * PIXELS + i] = (gw1[j * PIXELS + i] as number) + d * (x[i] as number)
        }
      }
      step++
      const b1c = 1 - 0.9 ** step
      const b2c = 1 - 0.999 ** step
      for (let t = 0; t < params.length; t++) {
        const a = params[t] as Float64Array
        const ga = g[t] as Float64Array
        const ma = m[t] as Float64Array
        const va = v[t] as Float64Array
        const decay = t % 2 === 0 ? WEIGHT_DECAY : 0
        for (let i = 0; i < a.length; i++) {
          const gi = (ga[i] as number) / batch.length + decay * (a[i] as number)
          ma[i] = 0.9 * (ma[i] as number) + 0.1 * gi
          va[i] = 0.999 * (va[i] as number) + 0.001 * gi * gi
          a[i] =
            (a[i] as number) -
            (LR * ((ma[i] as number) / b1c)) / (Math.sqrt((va[i] as number) / b2c) + 1e-8)
        }
      }
    }
    if (epoch % 25 === 0 || epoch === EPOCHS - 1)
      console.log(`epoch ${epoch} loss ${(loss / samples.length).toFixed(4)}`)
  }
  return p
}

const roundHalfAway = (v: number) => Math.sign(v) * Math.floor(Math.abs(v) + 0.5)
const maxAbs = (a: Float64Array) => a.reduce((m, v) => Math.max(m, Math.abs(v)), 0)

/**
 * Integer model from the float one: per-layer int8 weight scales s1 = max|w1| / 127 and
 * s2 = max|w2| / 127; the input is the raw 0..16 pixel, so acc1 stands for acc1 * s1 / 16; the
 * hidden activation scale sh maps the given activation level to 127, and the requantization
 * multiplier s1 / (16 sh) is written as m1 * 2^-e1 with m1 a 12-bit mantissa in [2048, 4095].
 */
function quantize(p: Float, actLevel: number): DigitsModel {
  const s1 = maxAbs(p.w1) / 127
  const s2 = maxAbs(p.w2) / 127
  const sh = actLevel / ACT_MAX
  const clampBias = (v: number) => Math.max(-BIAS_MAX, Math.min(BIAS_MAX, v))
  const mult = s1 / PIXEL_MAX / sh
  let e1 = 0
  while (mult * 2 ** e1 < 2048) e1++
  while (mult * 2 ** e1 >= 4096) e1--
  let m1 = Math.round(mult * 2 ** e1)
  if (m1 === 4096) {
    m1 = 2048
    e1--
  }
  const rows = (w: Float64Array, n: number, cols: number, s: number) =>
    Array.from({ length: n }, (_, r) =>
      Array.from({ length: cols }, (_, c) => roundHalfAway((w[r * cols + c] as number) / s)),
    )
  return parseDigitsModel({
    name: `verity-digits-h${H}`,
    hidden: H,
    w1: rows(p.w1, H, PIXELS, s1),
    b1: Array.from(p.b1, (b) => clampBias(roundHalfAway((b * PIXEL_MAX) / s1))),
    m1,
    e1,
    w2: rows(p.w2, CLASSES, H, s2),
    b2: Array.from(p.b2, (b) => clampBias(roundHalfAway(b / (s2 * sh)))),
  })
}

function accuracy(samples: DigitSample[], predict: (s: DigitSample) => number): number {
  let ok = 0
  for (const s of samples) if (predict(s) === s.label) ok++
  return ok / samples.length
}

const floatLabel = (p: Float) => (s: DigitSample) => {
  const { z } = forward(p, s.pixels)
  let best = 0
  for (let k = 1; k < CLASSES; k++) if ((z[k] as number) > (z[best] as number)) best = k
  return best
}

const t0 = performance.now()
const { train: trainSet, test } = splitDigits(readDigits())
console.log(`train ${trainSet.length} images, held out ${test.length}; hidden ${H}, seed ${SEED}`)
const p = train(trainSet)
const trainSeconds = (performance.now() - t0) / 1000

// Calibrate the hidden activation level on the training split only: the largest activation, or a
// percentile of all activations (saturating the rare larger ones at 127 buys resolution).
const acts: number[] = []
for (const s of trainSet) for (const v of forward(p, s.pixels).h) acts.push(v)
acts.sort((a, b) => a - b)
let best: { model: DigitsModel; trainAcc: number; level: string } | undefined
for (const q of [1, 0.9999, 0.999, 0.998, 0.995, 0.99]) {
  const level = acts[Math.min(acts.length - 1, Math.floor(q * acts.length))] as number
  const model = quantize(p, level)
  const trainAcc = accuracy(trainSet, (s) => classifyDigits(model, s.pixels).label)
  if (!best || trainAcc > best.trainAcc) best = { model, trainAcc, level: `p${q * 100}` }
}
const model = (best as NonNullable<typeof best>).model
const floatTest = accuracy(test, floatLabel(p))
const intTest = accuracy(test, (s) => classifyDigits(model, s.pixels).label)
const confusion = Array.from({ length: CLASSES }, () => new Array<number>(CLASSES).fill(0))
for (const s of test) {
  const row = confusion[s.label] as number[]
  const l = classifyDigits(model, s.pixels).label
  row[l] = (row[l] as number) + 1
}
const evaluation = {
  seed: SEED,
  epochs: EPOCHS,
  trainImages: trainSet.length,
  heldOutImages: test.length,
  calibration: best?.level,
  params: paramCount(model),
  floatTrainAccuracy: accuracy(trainSet, floatLabel(p)),
  floatHeldOutAccuracy: floatTest,
  intTrainAccuracy: best?.trainAcc,
  intHeldOutAccuracy: intTest,
  heldOutConfusion: confusion,
  trainSeconds: Math.round(trainSeconds * 10) / 10,
}
writeFileSync(OUT, `${JSON.stringify({ ...model, evaluation })}\n`)
console.log(JSON.stringify({ ...evaluation, heldOutConfusion: undefined }, null, 1))
console.log(`| true \\ predicted | ${[...Array(CLASSES).keys()].join(' | ')} |`)
console.log(`|---|${'---|'.repeat(CLASSES)}`)
for (const [k, row] of confusion.entries()) console.log(`| ${k} | ${row.join(' | ')} |`)
console.log(`wrote ${OUT} (m1 ${model.m1}, e1 ${model.e1}, ${paramCount(model)} parameters)`)
