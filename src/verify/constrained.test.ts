import { describe, expect, it } from 'vitest'
import { generate } from '../runtime/generate.ts'
import { samplingParams } from '../runtime/sampler/sample.ts'
import { testModel } from '../runtime/test-model.ts'
import { tokenizerFromGguf } from '../runtime/tokenizer/index.ts'
import { toHex } from '../runtime/trace/merkle.ts'
import type { InferenceRequest } from '../types/inference.ts'
import { executeRequest, executeRequestAsync } from './execute.ts'
import { requestHash } from './request.ts'

const model = testModel()
const tokenizer = tokenizerFromGguf(model.metadata)
const quote = Array.from({ length: tokenizer.vocabSize }, (_, i) => i).filter((i) =>
  ['"', '}'].includes(tokenizer.decode([i])),
)

function request(overrides: Partial<InferenceRequest> = {}): InferenceRequest {
  return {
    modelRoot: toHex(model.modelRoot),
    promptTokens: tokenizer.encode('Answer in JSON.'),
    maxTokens: 120,
    params: samplingParams({
      temperature: 0.9,
      logitBias: Object.fromEntries(quote.map((q) => [q, 15])),
    }),
    seed: 13,
    stopTokens: [tokenizer.eosId!],
    stop: [],
    responseFormat: { type: 'json_object' },
    ...overrides,
  }
}

describe('execution of constrained requests', () => {
  it('executeRequest, its async form and the runtime agree on tokens, finish reason and traceRoot', async () => {
    const req = request()
    const run = executeRequest(model, tokenizer, req)
    const again = await executeRequestAsync(model, tokenizer, req)
    expect(again).toEqual(run)
    const direct = generate(model, { ...req, responseFormat: req.responseFormat! })
    expect(run.tokens).toEqual(direct.tokens)
    expect(run.traceRoot).toBe(toHex(direct.traceRoot!))
    expect(run.finishReason).toBe('stop')
    expect(typeof JSON.parse(tokenizer.decode(run.tokens))).toBe('object')
  })

  it('the format is part of the request hash: with, without, and another schema all differ', () => {
    const schema = '{"properties":{"a":{"type":"string"}},"type":"object"}'
    const hashes = new Set([
      requestHash(request()),
      requestHash(request({ responseFormat: undefined as never })),
      requestHash(request({ responseFormat: { type: 'json_schema', schema } })),
      requestHash(
        request({
          responseFormat: { type: 'json_schema', schema: schema.replace('string', 'number') },
        }),
      ),
    ])
    expect(hashes.size).toBe(4)
  })

  it('with no stop token the run ends at the complete value: finish stop, trace leaves match', () => {
    const run = executeRequest(model, tokenizer, request({ stopTokens: [] }))
    expect(run.finishReason).toBe('stop')
    expect(run.traceLeaves).toBe(request().promptTokens.length + run.tokens.length - 1)
    expect(typeof JSON.parse(tokenizer.decode(run.tokens))).toBe('object')
  })

  it('a text stop sequence still cuts a constrained answer (finish stop, a JSON prefix)', () => {
    const full = executeRequest(model, tokenizer, request())
    const text = tokenizer.decode(full.tokens)
    const at = text.indexOf('"')
    expect(at).toBeGreaterThan(0)
    const cut = executeRequest(model, tokenizer, request({ stop: ['"'] }))
    expect(cut.finishReason).toBe('stop')
    expect(cut.tokens).toEqual(full.tokens.slice(0, cut.tokens.length))
    expect(cut.tokens.length).toBeLessThan(full.tokens.length)
  })
})
