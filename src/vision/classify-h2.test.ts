import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { VisionModelError } from '../errors/vision.ts'
import { digitsCircuitSource } from './circuit-source.ts'
import { classifyDigits } from './classify.ts'
import { readDigits, splitDigits } from './dataset.ts'
import {
  type DigitsModel,
  HIDDEN1_MAX_TWO_LAYERS,
  HIDDEN2_MAX,
  paramCount,
  parseDigitsModel,
} from './model.ts'
import { SCORE_OFFSET } from './public-signals.ts'

/** The two-hidden-layer model (models/digits-h2.json, ~100k parameters). */
const root = join(import.meta.dirname, '../..')
const file = join(root, 'models/digits-h2.json')
const raw = JSON.parse(readFileSync(file, 'utf8'))
const model = parseDigitsModel(raw)

/** 64 -> 2 -> 2 -> 10, small enough to follow by hand. */
const tiny = (): DigitsModel => {
  const w1 = [new Array(64).fill(0), new Array(64).fill(0)]
  ;(w1[0] as number[])[0] = 3
  ;(w1[1] as number[])[1] = -2
  const w2 = Array.from({ length: 10 }, () => [0, 0])
  ;(w2[4] as number[])[0] = 2
  ;(w2[6] as number[])[1] = 1
  return {
    name: 't2',
    hidden: 2,
    w1,
    b1: [1, 0],
    m1: 3,
    e1: 2,
    w2,
    b2: new Array(10).fill(0),
    layer2: {
      hidden: 2,
      w: [
        [2, 0],
        [-1, 3],
      ],
      b: [1, 0],
      m: 5,
      e: 3,
    },
  }
}

const filled = (rows: number, cols: number, v: number) =>
  Array.from({ length: rows }, () => new Array<number>(cols).fill(v))

describe('classifyDigits with a second hidden layer', () => {
  it('computes the documented formulas layer by layer', () => {
    const px = new Array(64).fill(0)
    px[0] = 5 // acc = 16 -> h0 = floor((16 * 3 + 2) / 4) = 12
    px[1] = 7 // acc = -14 -> h1 = 0
    const r = classifyDigits(tiny(), px)
    expect(r.hidden).toEqual([12, 0])
    // acc2 = [1 + 2 * 12, -12]: h2_0 = floor((25 * 5 + 4) / 8) = 16, h2_1 = relu -> 0
    expect(r.hidden2).toEqual([16, 0])
    expect(r.scores).toEqual([0, 0, 0, 0, 32, 0, 0, 0, 0, 0])
    expect(r.label).toBe(4)
    // the second layer saturates at 127 too: (10024 * 5 + 4) / 8 = 6265
    const sat = classifyDigits({ ...tiny(), layer2: { ...tiny().layer2!, b: [10000, 0] } }, px)
    expect(sat.hidden2).toEqual([127, 0])
    expect(sat.scores[4]).toBe(254)
    // a one-layer model's result has no hidden2
    const { layer2: _, ...one } = tiny()
    expect(classifyDigits({ ...one, w2: filled(10, 2, 0) }, px).hidden2).toBeUndefined()
  })

  it('stays exact at the bounds: the widest layers with every weight, bias and pixel at its maximum', () => {
    const H = HIDDEN1_MAX_TWO_LAYERS
    const extreme = parseDigitsModel({
      name: 'extreme',
      hidden: H,
      w1: filled(H, 64, 127),
      b1: new Array(H).fill(2 ** 20),
      m1: 4095,
      e1: 1,
      w2: filled(10, HIDDEN2_MAX, 127),
      b2: new Array(10).fill(2 ** 20),
      layer2: {
        hidden: HIDDEN2_MAX,
        w: filled(HIDDEN2_MAX, H, 127),
        b: new Array(HIDDEN2_MAX).fill(2 ** 20),
        m: 4095,
        e: 1,
      },
    })
    const r = classifyDigits(extreme, new Array(64).fill(16))
    expect(r.hidden2?.every((h) => h === 127)).toBe(true)
    const top = HIDDEN2_MAX * 127 * 127 + 2 ** 20
    expect(r.scores).toEqual(new Array(10).fill(top))
    // the scores' public packing (23 bits, offset 2^22) holds the largest possible score
    expect(BigInt(top)).toBeLessThan(SCORE_OFFSET)
    const low = parseDigitsModel({
      ...extreme,
      w2: filled(10, HIDDEN2_MAX, -127),
      b2: new Array(10).fill(-(2 ** 20)),
    })
    expect(classifyDigits(low, new Array(64).fill(16)).scores[0]).toBe(-top)
  })

  it('the committed model has ~100k parameters and reaches >= 95% on the held-out split', () => {
    expect(model.layer2?.hidden).toBe(192)
    expect(model.hidden).toBe(384)
    expect(paramCount(model)).toBe(100_810)
    const { test } = splitDigits(readDigits())
    let ok = 0
    for (const s of test) if (classifyDigits(model, s.pixels).label === s.label) ok++
    expect(ok / test.length).toBeGreaterThanOrEqual(0.95)
    expect(ok / test.length).toBeCloseTo(raw.evaluation.intHeldOutAccuracy, 12)
  })
})

describe('parseDigitsModel, second hidden layer', () => {
  const l2 = raw.layer2
  const broken = (patch: Record<string, unknown>) => () => parseDigitsModel({ ...raw, ...patch })
  const brokenL2 = (patch: Record<string, unknown>) => broken({ layer2: { ...l2, ...patch } })
  it('refuses values outside the bounds the circuit range checks assume', () => {
    expect(brokenL2({ m: 4096 })).toThrow(/layer2.m/)
    expect(brokenL2({ m: 0 })).toThrow(/layer2.m/)
    expect(brokenL2({ e: 0 })).toThrow(/layer2.e/)
    expect(brokenL2({ e: 27 })).toThrow(/layer2.e/)
    expect(brokenL2({ hidden: HIDDEN2_MAX + 1 })).toThrow(/layer2.hidden/)
    expect(brokenL2({ b: [...l2.b.slice(1), -(2 ** 20) - 1] })).toThrow(/2\^20/)
    expect(brokenL2({ b: l2.b.slice(1) })).toThrow(/entries/)
    const w = l2.w.map((r: number[]) => [...r])
    w[7][3] = -128
    expect(brokenL2({ w })).toThrow(/layer2.w\[7\]/)
    expect(brokenL2({ w: l2.w.map((r: number[]) => r.slice(1)) })).toThrow(/columns/)
    expect(broken({ layer2: null })).toThrow(/layer2 is not an object/)
    expect(broken({ layer2: 3 })).toThrow(VisionModelError)
    // the output layer reads the second layer: its rows have layer2.hidden columns
    expect(broken({ w2: raw.w1.slice(0, 10) })).toThrow(/w2\[0\] must have 192 columns/)
    expect(broken({ hidden: HIDDEN1_MAX_TWO_LAYERS + 1 })).toThrow(/hidden must be/)
  })

  it('a first layer wider than 128 is only accepted with a second layer', () => {
    const { layer2: _, ...one } = raw
    expect(() => parseDigitsModel({ ...one, w2: filled(10, 384, 0) })).toThrow(
      /hidden must be an integer in \[1, 128\]/,
    )
  })
})

describe('circuit source', () => {
  it('the committed circuits/digits-h2.circom is the generator output for models/digits-h2.json', () => {
    const circuit = join(root, 'circuits/digits-h2.circom')
    expect(existsSync(circuit)).toBe(true)
    const committed = readFileSync(circuit, 'utf8')
    expect(committed).toBe(digitsCircuitSource(model, 'models/digits-h2.json'))
    expect(committed).toContain('DigitsMLP2(384, w1(), b1(),')
  })
})
