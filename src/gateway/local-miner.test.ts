import { describe, expect, it } from 'vitest'
import { samplingParams } from '../runtime/sampler/sample.ts'
import { toHex } from '../runtime/trace/merkle.ts'
import type { InferenceRequest } from '../types/inference.ts'
import { verifyReceipt } from '../verify/receipt.ts'
import { testMiner, testModel } from './fixtures.ts'

function request(seed: number): InferenceRequest {
  return {
    modelRoot: toHex(testModel().modelRoot),
    promptTokens: [1, 40, 90],
    maxTokens: 8,
    params: samplingParams({ temperature: 0.9 }),
    seed,
    stopTokens: [],
    stop: [],
  }
}

describe('LocalMiner', () => {
  it('streams token by token: two concurrent requests interleave instead of running one after the other', async () => {
    const miner = testMiner()
    const arrivals: string[] = []
    const run = async (name: string, seed: number) => {
      for await (const event of miner.infer(request(seed))) arrivals.push(`${name}:${event.type}`)
    }
    await Promise.all([run('a', 1), run('b', 2)])
    expect(arrivals.filter((a) => a === 'a:token')).toHaveLength(8)
    expect(arrivals.filter((a) => a === 'b:token')).toHaveLength(8)
    // The second request's first token arrives before the first request is done.
    expect(arrivals.indexOf('b:token')).toBeLessThan(arrivals.indexOf('a:done'))
  })

  it('signs a receipt that verifies against the request and the streamed tokens', async () => {
    const miner = testMiner(1)
    const tokens: number[] = []
    let receipt: Parameters<typeof verifyReceipt>[0] | undefined
    for await (const event of miner.infer(request(5))) {
      if (event.type === 'token') tokens.push(event.token)
      else {
        expect(event.tokens).toEqual(tokens)
        receipt = event.receipt
      }
    }
    expect(tokens).toHaveLength(8)
    await expect(verifyReceipt(receipt!, { request: request(5), tokens })).resolves.toBeTruthy()
    await expect(verifyReceipt(receipt!, { request: request(6), tokens })).rejects.toThrow()
  })
})
