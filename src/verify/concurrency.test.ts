import { describe, expect, it } from 'vitest'
import { samplingParams } from '../runtime/sampler/sample.ts'
import { testModel } from '../runtime/test-model.ts'
import { tokenizerFromGguf } from '../runtime/tokenizer/index.ts'
import { toHex } from '../runtime/trace/merkle.ts'
import type { InferenceRequest } from '../types/inference.ts'
import { executeRequest, executeRequestAsync } from './execute.ts'

/**
 * A miner runs many answers at once on one loaded model; they pause on the event loop between
 * tokens, so their forward passes and trace hashing interleave. Each must commit to exactly the
 * trace it would have alone.
 */
describe('traces under concurrency', () => {
  const model = testModel()
  const tokenizer = tokenizerFromGguf(model.metadata)
  const modelRoot = toHex(model.modelRoot)
  // Mixed lengths: prompts from 1 to 70 tokens (one to five prompt blocks), 1 to 40 new tokens,
  // greedy and sampled, with and without stop strings.
  const requests: InferenceRequest[] = Array.from({ length: 40 }, (_, i) => ({
    modelRoot,
    promptTokens: Array.from(
      { length: 1 + ((i * 23) % 70) },
      (_, j) => 1 + ((i * 131 + j * 17) % 500),
    ),
    maxTokens: 1 + ((i * 7) % 40),
    params: samplingParams({ temperature: i % 3 === 0 ? 0 : 0.9, topP: i % 4 === 0 ? 0.8 : 1 }),
    seed: 1000 + i,
    stopTokens: [],
    stop: i % 5 === 0 ? ['e'] : [],
  }))

  it('40 interleaved requests give the same tokens and traceRoot as each run alone', async () => {
    const alone = requests.map((r) => executeRequest(model, tokenizer, r))
    // which request made each token, in the order they were made
    const order: number[] = []
    const together = await Promise.all(
      requests.map((r, i) =>
        executeRequestAsync(model, tokenizer, r, { onToken: () => void order.push(i) }),
      ),
    )
    const bad = together.flatMap((t, i) =>
      t.traceRoot === alone[i]!.traceRoot &&
      t.traceLeaves === alone[i]!.traceLeaves &&
      t.tokens.join() === alone[i]!.tokens.join()
        ? []
        : [i],
    )
    expect(bad).toEqual([])
    // The runs really were interleaved: a request made a token after another request's first
    // token and before that request's last one, for most of them.
    const first = new Map<number, number>()
    const last = new Map<number, number>()
    order.forEach((r, at) => {
      if (!first.has(r)) first.set(r, at)
      last.set(r, at)
    })
    const overlapped = [...first.keys()].filter((r) =>
      [...first.keys()].some(
        (o) => o !== r && first.get(o)! < last.get(r)! && first.get(r)! < last.get(o)!,
      ),
    )
    expect(overlapped.length).toBeGreaterThanOrEqual(32)
    expect(new Set(alone.map((a) => a.tokens.length)).size).toBeGreaterThan(5)
  })
})
