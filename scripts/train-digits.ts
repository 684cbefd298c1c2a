/**
 * Trains Verity's vision model, an MLP 64 -> hidden [-> hidden2] -> 10 (ReLU) on the UCI 8x8 handwritten digits
 * that Debian's python3-sklearn ships, then quantizes it to the integer model that
 * src/vision/classify.ts and circuits/digits.circom compute (docs/DETERMINISM.md, "digits
 * classifier"), and writes it as JSON.
 *
 *   node bin/run-ts.js scripts/train-digits.ts [--hidden 32] [--epochs 150] [--seed 18] [--out models/digits.json]
 *   node bin/run-ts.js scripts/train-digits.ts --hidden 384 --hidden2 192 --out models/digits-h2.json
 *
 * --hidden2 N adds a second hidden layer (64 -> hidden -> N -> 10, the ~100k-parameter variant,
 * `layer2` in the model file) with the same ReLU and requantization as the first; its two
 * activation levels are calibrated jointly. Without it the float operations, hence the file, are
 * the same as before the option existed.
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
/** Width of the optional second hidden layer (0: none), the ~100k-parameter variant. */
const H2 = Number(flag('hidden2', '0'))
const EPOCHS = Number(flag('epochs', '150'))
const SEED = Number(flag('seed', '18'))
const OUT = flag(
  'out',
  H2 > 0
    ? `models/digits-h${H}-${H2}.json`
    : H === 32
      ? 'models/digits.json'
      : `models/digits-h${H}.json`,
)
const BATCH = 32
const LR = 2e-3
const WEIGHT_DECAY = 1e-4
/** Layer widths: 64, the hidden layers, 10. */
const DIMS = H2 > 0 ? [PIXELS, H, H2, CLASSES] : [PIXELS, H, CLASSES]
const LAYERS = DIMS.length - 1

const prng = new Prng(SEED)
const uniform = () => prng.next() / 2 ** 32

/** Layer l maps DIMS[l] inputs to DIMS[l + 1] outputs: w is row-major [out][in]. */
type Float = { w: Float64Array[]; b: Float64Array[] }

function init(): Float {
  const w: Float64Array[] = []
  for (let l = 0; l < LAYERS; l++) {
    const fanIn = DIMS[l] as number
    const a = Math.sqrt(6 / fanIn)
    const wl = new Float64Array((DIMS[l + 1] as number) * fanIn)
    for (let i = 0; i < wl.length; i++) wl[i] = (2 * uniform() - 1) * a
    w.push(wl)
  }
  return { w, b: DIMS.slice(1).map((n) => new Float64Array(n)) }
}

/** Float forward on x / 16; returns every layer's input (post-ReLU for hidden layers) and the logits. */
function forward(p: Float, pixels: number[]): { acts: Float64Array[]; z: Float64Array } {
  const x = new Float64Array(PIXELS)
  for (let i = 0; i < PIXELS; i++) x[i] = (pixels[i] as number) / PIXEL_MAX
  const acts = [x]
  let input = x
  for (let l = 0; l < LAYERS; l++) {
    const nIn = DIMS[l] as number
    const nOut = DIMS[l + 1] as number
    const w = p.w[l] as Float64Array
    const b = p.b[l] as Float64Array
    const out = new Float64Array(nOut)
    for (let j = 0; j < nOut; j++) {
      let a = b[j] as number
      for (let i = 0; i < nIn; i++) a += (w[j * nIn + i] as number) * (input[i] as number)
      out[j] = l < LAYERS - 1 ? Math.max(a, 0) : a
    }
    if (l < LAYERS - 1) acts.push(out)
    input = out
  }
  return { acts, z: input }
}

function train(samples: DigitSample[]): Float {
  const p = init()
  // Adam state in the order w0, b0, w1, b1, ...: weights (even) decay, biases do not
  const params = p.w.flatMap((w, l) => [w, p.b[l] as Float64Array])
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
      for (const idx of batch) {
        const s = samples[idx] as DigitSample
        const { acts, z } = forward(p, s.pixels)
        let max = -Infinity
        for (const zk of z) max = Math.max(max, zk)
        let sum = 0
        const e = z.map((zk) => Math.exp(zk - max))
        for (const ek of e) sum += ek
        loss -= Math.log((e[s.label] as number) / sum)
        // d loss / d (pre-activation) of the current layer, from the top down
        let d: Float64Array = e.map((ek, k) => ek / sum - (k === s.label ? 1 : 0))
        for (let l = LAYERS - 1; l >= 0; l--) {
          const nIn = DIMS[l] as number
          const nOut = DIMS[l + 1] as number
          const input = acts[l] as Float64Array
          const w = p.w[l] as Float64Array
          const gw = g[2 * l] as Float64Array
          const gb = g[2 * l + 1] as Float64Array
          if (l === 0) {
            // the pixels need no gradient; units whose ReLU is off (d = 0) add nothing
            for (let j = 0; j < nOut; j++) {
              const dj = d[j] as number
              if (dj === 0) continue
              gb[j] = (gb[j] as number) + dj
              for (let i = 0; i < nIn; i++)
                gw[j * nIn + i] = (gw[j * nIn + i] as number) + dj * (input[i] as number)
            }
            break
          }
          const dIn = new Float64Array(nIn)
          for (let k = 0; k < nOut; k++) {
            const dk = d[k] as number
            gb[k] = (gb[k] as number) + dk
            for (let j = 0; j < nIn; j++) {
              gw[k * nIn + j] = (gw[k * nIn + j] as number) + dk * (input[j] as number)
              dIn[j] = (dIn[j] as number) + dk * (w[k * nIn + j] as number)
            }
          }
          // through the ReLU of layer l - 1 (its output is `input`)
          for (let j = 0; j < nIn; j++) if ((input[j] as number) <= 0) dIn[j] = 0
          d = dIn
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

/** A requantization multiplier as m * 2^-e with m a 12-bit mantissa in [2048, 4095]. */
function mantissa(mult: number): { m: number; e: number } {
  let e = 0
  while (mult * 2 ** e < 2048) e++
  while (mult * 2 ** e >= 4096) e--
  let m = Math.round(mult * 2 ** e)
  if (m === 4096) {
    m = 2048
    e--
  }
  return { m, e }
}

/**
 * Integer model from the float one: per-layer int8 weight scales s_l = max|w_l| / 127; the input
 * is the raw 0..16 pixel, so acc1 stands for acc1 * s1 / 16; each hidden activation scale sh_l
 * maps the given activation level to 127, and the requantization multiplier (the accumulator's
 * scale over sh_l) is written as m * 2^-e. Biases are rounded into their accumulator's scale.
 */
function quantize(p: Float, actLevels: number[]): DigitsModel {
  const scales = p.w.map((w) => maxAbs(w) / 127)
  const clampBias = (v: number) => Math.max(-BIAS_MAX, Math.min(BIAS_MAX, v))
  const rows = (w: Float64Array, n: number, cols: number, s: number) =>
    Array.from({ length: n }, (_, r) =>
      Array.from({ length: cols }, (_, c) => roundHalfAway((w[r * cols + c] as number) / s)),
    )
  // accScale[l]: what one unit of layer l's integer accumulator stands for
  let inScale = 1 / PIXEL_MAX
  const layers: { w: number[][]; b: number[]; m: number; e: number }[] = []
  for (let l = 0; l < LAYERS; l++) {
    const s = scales[l] as number
    const accScale = s * inScale
    const nIn = DIMS[l] as number
    const nOut = DIMS[l + 1] as number
    const w = rows(p.w[l] as Float64Array, nOut, nIn, s)
    const b = Array.from(p.b[l] as Float64Array, (v) => clampBias(roundHalfAway(v / accScale)))
    if (l === LAYERS - 1) {
      layers.push({ w, b, m: 0, e: 0 })
      break
    }
    const sh = (actLevels[l] as number) / ACT_MAX
    layers.push({ w, b, ...mantissa(accScale / sh) })
    inScale = sh
  }
  const [first, second, out] = (LAYERS === 3 ? layers : [layers[0], undefined, layers[1]]) as [
    (typeof layers)[0],
    (typeof layers)[0] | undefined,
    (typeof layers)[0],
  ]
  return parseDigitsModel({
    name: H2 > 0 ? `verity-digits-h${H}-${H2}` : `verity-digits-h${H}`,
    hidden: H,
    w1: first.w,
    b1: first.b,
    m1: first.m,
    e1: first.e,
    w2: out.w,
    b2: out.b,
    ...(second
      ? { layer2: { hidden: H2, w: second.w, b: second.b, m: second.m, e: second.e } }
      : {}),
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
console.log(
  `train ${trainSet.length} images, held out ${test.length}; hidden ${DIMS.slice(1, -1).join(' x ')}, seed ${SEED}`,
)
const p = train(trainSet)
const trainSeconds = (performance.now() - t0) / 1000

// Calibrate each hidden layer's activation level on the training split only: its largest
// activation, or a percentile of all its activations (saturating the rare larger ones at 127 buys
// resolution). Two hidden layers: every pair of choices.
const QUANTILES = [1, 0.9999, 0.999, 0.998, 0.995, 0.99]
const levels = DIMS.slice(1, -1).map((_, l) => {
  const acts: number[] = []
  for (const s of trainSet)
    for (const v of forward(p, s.pixels).acts[l + 1] as Float64Array) acts.push(v)
  acts.sort((a, b) => a - b)
  return QUANTILES.map(
    (q) => acts[Math.min(acts.length - 1, Math.floor(q * acts.length))] as number,
  )
})
const choices: number[][] =
  LAYERS === 2
    ? QUANTILES.map((_, i) => [i])
    : QUANTILES.flatMap((_, i) => QUANTILES.map((_, j) => [i, j]))
let best: { model: DigitsModel; trainAcc: number; level: string } | undefined
for (const choice of choices) {
  const model = quantize(
    p,
    choice.map((i, l) => (levels[l] as number[])[i] as number),
  )
  const trainAcc = accuracy(trainSet, (s) => classifyDigits(model, s.pixels).label)
  if (!best || trainAcc > best.trainAcc)
    best = {
      model,
      trainAcc,
      level: choice.map((i) => `p${(QUANTILES[i] as number) * 100}`).join(' '),
    }
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
const l2 = model.layer2 ? `, m2 ${model.layer2.m}, e2 ${model.layer2.e}` : ''
console.log(`wrote ${OUT} (m1 ${model.m1}, e1 ${model.e1}${l2}, ${paramCount(model)} parameters)`)
