import { afterAll, describe, expect, it } from 'vitest'
import { trainedModelBytes } from '../../test/trained-model.ts'
import { generate } from '../runtime/generate.ts'
import { runKernelCases } from '../runtime/kernels/kernel.case.ts'
import { loadModel } from '../runtime/model/load.ts'
import { samplingParams } from '../runtime/sampler/sample.ts'
import { toHex } from '../runtime/trace/merkle.ts'
import { createThreadedKernel, type ThreadedKernel } from './kernel.ts'

const opened: ThreadedKernel[] = []
const threaded = (threads: number) => (bytes: number) => {
  // Every product goes to the workers, however small, so the bands are exercised.
  const k = createThreadedKernel(bytes, threads, { minParallelBytes: 0 })
  opened.push(k)
  return k
}
afterAll(async () => {
  await Promise.all(opened.map((k) => k.close()))
})

runKernelCases({ name: 'wasm-simd, 2 threads', create: threaded(2) })
runKernelCases({ name: 'wasm-simd, 3 threads', create: threaded(3) })

describe('threads', () => {
  it('1, 2, 3 and 4 threads give the same tokens, traceRoot and modelRoot', () => {
    const request = {
      promptTokens: [1, 40, 90, 300, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21],
      maxTokens: 12,
      params: samplingParams({ temperature: 0.8, topP: 0.95 }),
      seed: 42,
    }
    const runs = [1, 2, 3, 4].map((threads) => {
      const model = loadModel(trainedModelBytes(), { createKernel: threaded(threads) })
      expect((model.kernel as ThreadedKernel).threads).toBe(threads)
      const result = generate(model, request)
      return JSON.stringify({
        tokens: result.tokens,
        traceRoot: toHex(result.traceRoot!),
        modelRoot: toHex(model.modelRoot),
      })
    })
    expect(new Set(runs).size).toBe(1)
    expect(JSON.parse(runs[0]!).tokens).toHaveLength(12)
  })

  it('refuses a bad thread count, and a closed kernel', async () => {
    expect(() => createThreadedKernel(1 << 16, 0)).toThrow(/threads must be an integer in 1..256/)
    const k = createThreadedKernel(1 << 20, 2, { minParallelBytes: 0 })
    await k.close()
    expect(() => k.matvecI8(4096, 4, 16, 8192, 16384)).toThrow(/closed/)
  })
})
