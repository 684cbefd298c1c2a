import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { ImageError, VisionModelError } from '../errors/vision.ts'
import { digitsCircuitSource } from './circuit-source.ts'
import { classifyDigits, roundShiftNonNeg } from './classify.ts'
import { readDigits, splitDigits } from './dataset.ts'
import { type DigitsModel, paramCount, parseDigitsModel } from './model.ts'

const root = join(import.meta.dirname, '../..')
const raw = JSON.parse(readFileSync(join(root, 'models/digits.json'), 'utf8'))
const model = parseDigitsModel(raw)

/** A 2-unit model small enough to follow by hand. */
const tiny = (): DigitsModel => {
  const w1 = [new Array(64).fill(0), new Array(64).fill(0)]
  ;(w1[0] as number[])[0] = 3
  ;(w1[1] as number[])[1] = -2
  const w2 = Array.from({ length: 10 }, () => [0, 0])
  ;(w2[7] as number[])[0] = 1
  ;(w2[2] as number[])[1] = 5
  return { name: 't', hidden: 2, w1, b1: [1, 0], m1: 3, e1: 2, w2, b2: new Array(10).fill(0) }
}

describe('classifyDigits', () => {
  it('computes the documented formulas: relu, round-half-up shift, saturation at 127, argmax', () => {
    const m = tiny()
    const px = new Array(64).fill(0)
    px[0] = 5 // acc0 = 3 * 5 + 1 = 16; h0 = floor((16 * 3 + 2) / 4) = 12
    px[1] = 7 // acc1 = -14 -> relu 0
    const r = classifyDigits(m, px)
    expect(r.hidden).toEqual([12, 0])
    expect(r.scores).toEqual([0, 0, 0, 0, 0, 0, 0, 12, 0, 0])
    expect(r.label).toBe(7)
    // saturation: b1 = 1000 -> (1000 + 0) * 3 / 4 = 750 -> 127
    const sat = classifyDigits({ ...m, b1: [1000, 0] }, new Array(64).fill(0))
    expect(sat.hidden).toEqual([127, 0])
  })

  it('breaks ties by the lowest index', () => {
    const m = tiny()
    const r = classifyDigits({ ...m, b2: [0, 4, 0, 4, 0, 0, 0, 0, 0, 4] }, new Array(64).fill(0))
    expect(r.label).toBe(1)
    const zero = classifyDigits({ ...m, b1: [0, 0] }, new Array(64).fill(0))
    expect(zero.scores.every((s) => s === 0)).toBe(true)
    expect(zero.label).toBe(0)
  })

  it('roundShift rounds half up exactly', () => {
    expect([5, 6, 7, 8, 9, 10, 11].map((v) => roundShiftNonNeg(v, 2))).toEqual([
      1, 2, 2, 2, 2, 3, 3,
    ])
    expect(roundShiftNonNeg(2 ** 33 - 1, 20)).toBe(8192)
  })

  it('refuses images of the wrong size or with out-of-range pixels', () => {
    const ok = new Array(64).fill(0)
    expect(() => classifyDigits(model, ok.slice(1))).toThrow(ImageError)
    expect(() => classifyDigits(model, [...ok, 0])).toThrow(ImageError)
    for (const bad of [17, -1, 1.5, Number.NaN, 255]) {
      const px = [...ok]
      px[63] = bad
      expect(() => classifyDigits(model, px)).toThrow(/pixel 63/)
    }
    expect(classifyDigits(model, new Uint8Array(64)).scores).toHaveLength(10)
  })

  it('the committed model reaches >= 95% on the held-out split (its card says 96.9%)', () => {
    const { test } = splitDigits(readDigits())
    let ok = 0
    for (const s of test) if (classifyDigits(model, s.pixels).label === s.label) ok++
    expect(test).toHaveLength(359)
    expect(ok).toBe(348)
    expect(ok / test.length).toBeCloseTo(raw.evaluation.intHeldOutAccuracy, 12)
    expect(paramCount(model)).toBe(2410)
  })
})

describe('parseDigitsModel', () => {
  const broken = (patch: Record<string, unknown>) => () => parseDigitsModel({ ...raw, ...patch })
  it('refuses values outside the bounds the circuit range checks assume', () => {
    const w1 = raw.w1.map((r: number[]) => [...r])
    w1[3][5] = 128
    expect(broken({ w1 })).toThrow(VisionModelError)
    expect(broken({ w1: raw.w1.slice(1) })).toThrow(/rows/)
    expect(broken({ b1: [...raw.b1.slice(1), 2 ** 20 + 1] })).toThrow(/2\^20/)
    expect(broken({ b2: raw.b2.slice(1) })).toThrow(/entries/)
    expect(broken({ m1: 4096 })).toThrow(/m1/)
    expect(broken({ e1: 27 })).toThrow(/e1/)
    expect(broken({ e1: 0 })).toThrow(/e1/)
    expect(broken({ hidden: 129 })).toThrow(/hidden/)
    expect(broken({ w2: raw.w2.map((r: number[]) => [...r, 0]) })).toThrow(/columns/)
    expect(() => parseDigitsModel(null)).toThrow(VisionModelError)
  })
})

describe('circuit source', () => {
  it('the committed circuits/digits.circom is the generator output for models/digits.json', () => {
    const committed = readFileSync(join(root, 'circuits/digits.circom'), 'utf8')
    expect(committed).toBe(digitsCircuitSource(model, 'models/digits.json'))
  })
})
