import { describe, expect, it } from 'vitest'
import { generate } from '../generate.ts'
import { testModel } from '../test-model.ts'
import { OpKind } from '../trace/ops.ts'
import { recomputeElement } from '../trace/recompute.ts'
import { adjustLogits, milliToQ16 } from './adjust.ts'
import { Prng } from './prng.ts'
import { samplingParams } from './sample.ts'

const model = testModel()

function counted(tokens: number[]) {
  const counts = new Uint32Array(8)
  const seen: number[] = []
  for (const t of tokens) if (counts[t]!++ === 0) seen.push(t)
  return { counts, seen }
}

describe('adjustLogits', () => {
  it('adds the bias and subtracts the penalties in Q16, exactly as documented', () => {
    expect(milliToQ16(1000)).toBe(65536)
    expect(milliToQ16(-100_000)).toBe(-6_553_600)
    expect(milliToQ16(1)).toBe(66) // 65.536 rounds to 66
    expect(milliToQ16(-1)).toBe(-66) // -65.536: ties toward +inf do not apply, nearest is -66
    const logits = Int32Array.from([0, 100, -100, 5000, 0, 0, 0, 0])
    const params = {
      ...samplingParams({ temperature: 1 }),
      logitBias: [
        [0, 1500],
        [3, -2000],
      ] as [number, number][],
      presencePenaltyMilli: 500,
      frequencyPenaltyMilli: -250,
    }
    const { counts, seen } = counted([1, 1, 1, 3, 5])
    const out = adjustLogits(logits, params, counts, seen, new Int32Array(8))
    expect(Array.from(out)).toEqual([
      98304, // 0 + 1.5 * 2^16, never sampled: no penalty
      100 - milliToQ16(3 * -250 + 500), // count 3: -0.25 per occurrence, +0.5 once
      -100,
      5000 - 131072 - milliToQ16(-250 + 500),
      0,
      -milliToQ16(250),
      0,
      0,
    ])
    expect(Array.from(logits)).toEqual([0, 100, -100, 5000, 0, 0, 0, 0]) // input untouched
  })

  it('clamps to int32 instead of wrapping', () => {
    const logits = Int32Array.from([2 ** 31 - 10, -(2 ** 31) + 10])
    const params = {
      ...samplingParams({}),
      logitBias: [
        [0, 100_000],
        [1, -100_000],
      ] as [number, number][],
    }
    const out = adjustLogits(logits, params, new Uint32Array(2), [], new Int32Array(2))
    expect(Array.from(out)).toEqual([2 ** 31 - 1, -(2 ** 31)])
  })
})

describe('generation with logit bias and penalties', () => {
  const prompt = [1, 5, 9]
  const run = (p: Parameters<typeof samplingParams>[0], seed = 3) =>
    generate(model, { promptTokens: prompt, maxTokens: 12, params: samplingParams(p), seed })

  it('a bias of -100 bans the greedy token; +100 forces one', () => {
    const plain = run({ temperature: 0 })
    const first = plain.tokens[0]!
    const banned = run({ temperature: 0, logitBias: { [first]: -100 } })
    expect(banned.tokens).not.toContain(first)
    const forced = run({ temperature: 0.9, logitBias: { 7: 100 } })
    expect(forced.tokens).toEqual(new Array(12).fill(7))
  })

  it('a frequency penalty stops a greedy loop, and the trace root commits to the change', () => {
    const plain = run({ temperature: 0 })
    const penalised = run({ temperature: 0, frequencyPenalty: 2, presencePenalty: 2 })
    // With 2 + 2 per repeat a token cannot win twice in a row for long in a tiny model.
    expect(new Set(penalised.tokens).size).toBeGreaterThan(new Set(plain.tokens).size)
    expect(penalised.traceRoot).not.toEqual(plain.traceRoot)
    // Zero penalties are no penalties: the same tokens and trace as without.
    const zero = run({ temperature: 0, frequencyPenalty: 0, presencePenalty: 0 })
    expect(zero.tokens).toEqual(plain.tokens)
  })

  it('the one-step reference recomputes every sample of an adjusted run from the prior output', () => {
    const params = samplingParams({
      temperature: 0.2,
      frequencyPenalty: 2,
      presencePenalty: 1.3,
      logitBias: { 2: 30, 4: -5 },
    })
    const steps: { logits: Int32Array; state: Uint32Array }[] = []
    let logits = new Int32Array(0)
    let state = new Prng(99).s.slice()
    const { tokens } = generate(
      model,
      { promptTokens: prompt, maxTokens: 16, params, seed: 99 },
      {
        sink: {
          kinds: (1 << OpKind.LOGITS) | (1 << OpKind.SAMPLE),
          record(_pos, _layer, kind, vec, off, len) {
            if (kind === OpKind.LOGITS) logits = Int32Array.from(vec.subarray(off, off + len))
            else {
              steps.push({ logits, state })
              state = Uint32Array.from(vec.subarray(off + 1, off + 5))
            }
          },
        },
      },
    )
    expect(steps.length).toBe(tokens.length)
    let ignoring = 0
    steps.forEach((s, i) => {
      const inputs = { kind: OpKind.SAMPLE, ...s, params } as const
      expect(recomputeElement({ ...inputs, prior: tokens.slice(0, i) }, 0)).toBe(tokens[i])
      // A miner that ignores the penalties (no prior output) samples another token somewhere.
      if (recomputeElement({ ...inputs, prior: [] }, 0) !== tokens[i]) ignoring++
    })
    expect(ignoring).toBeGreaterThan(0)
  })
})
