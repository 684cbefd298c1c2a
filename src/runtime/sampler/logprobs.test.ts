import { describe, expect, it } from 'vitest'
import { generate } from '../generate.ts'
import { testModel } from '../test-model.ts'
import { type StepLogprobs, stepLogprobs } from './logprobs.ts'
import { samplingParams } from './sample.ts'

const Q16 = 65536

/** A float reference (tests only): ln softmax in doubles. */
function reference(z: number[]): number[] {
  const max = Math.max(...z)
  const lse = Math.log(z.reduce((s, v) => s + Math.exp((v - max) / Q16), 0))
  return z.map((v) => (v - max) / Q16 - lse)
}

describe('stepLogprobs', () => {
  it('matches a float log-softmax to within 2^-14 and is exact integer Q16', () => {
    const z = [0, 65536, -131072, 200_000, 199_999, -3_000_000, 5]
    const out = stepLogprobs(Int32Array.from(z), 3, 4, new Int32Array(z.length))
    const ref = reference(z)
    expect(Number.isSafeInteger(out.logprob)).toBe(true)
    expect(Math.abs(out.logprob / Q16 - ref[3]!)).toBeLessThan(2 ** -14)
    // top 4 by (logit desc, index asc)
    expect(out.top.map(([t]) => t)).toEqual([3, 4, 1, 6])
    for (const [t, lp] of out.top) expect(Math.abs(lp / Q16 - ref[t]!)).toBeLessThan(2 ** -14)
    // probabilities sum to ~1
    const all = stepLogprobs(Int32Array.from(z), 0, 7, new Int32Array(7))
    const mass = all.top.reduce((s, [, lp]) => s + Math.exp(lp / Q16), 0)
    expect(Math.abs(mass - 1)).toBeLessThan(1e-3)
  })

  it('ties keep the lower index first; k = 0 gives no alternatives; one dominant token is ~0', () => {
    const z = Int32Array.from([7, 9, 9, 9, 1])
    expect(stepLogprobs(z, 0, 2, new Int32Array(5)).top.map(([t]) => t)).toEqual([1, 2])
    expect(stepLogprobs(z, 0, 0, new Int32Array(5)).top).toEqual([])
    const big = Int32Array.from([2 ** 31 - 1, -(2 ** 31), 0])
    const s = stepLogprobs(big, 0, 3, new Int32Array(3))
    expect(s.logprob).toBe(0)
    expect(s.top.map(([t]) => t)).toEqual([0, 2, 1])
  })

  it('is part of generation: deterministic, one per token, and it does not change the tokens', () => {
    const model = testModel()
    const request = {
      promptTokens: [1, 5, 9],
      maxTokens: 8,
      params: samplingParams({ temperature: 0.7, frequencyPenalty: 1 }),
      seed: 4,
    }
    const collect = () => {
      const steps: StepLogprobs[] = []
      const r = generate(model, { ...request, logprobs: 5 }, { onLogprobs: (s) => steps.push(s) })
      return { r, steps }
    }
    const a = collect()
    const b = collect()
    expect(a.steps).toEqual(b.steps)
    expect(a.steps).toHaveLength(a.r.tokens.length)
    expect(generate(model, request).tokens).toEqual(a.r.tokens)
    expect(() => generate(model, { ...request, logprobs: 21 })).toThrow(/top logprobs/)
  })
})
