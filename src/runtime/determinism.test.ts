import { execFileSync } from 'node:child_process'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { forwardBlock, forwardToken, Sequence } from './forward.ts'
import { generate } from './generate.ts'
import { samplingParams } from './sampler/sample.ts'
import { testModel } from './test-model.ts'
import { tokenizerFromGguf } from './tokenizer/index.ts'
import { TraceHasher } from './trace/hasher.ts'
import { toHex } from './trace/merkle.ts'

const bin = join(import.meta.dirname, '../../bin/verity.js')
const cliArgs = [
  'generate',
  '--prompt',
  'Once upon a time',
  '--seed',
  '3',
  '--max-tokens',
  '12',
  '--temperature',
  '0.8',
  '--top-p',
  '0.9',
  '--json',
]

type CliResult = {
  model: { modelRoot: string }
  tokens: number[]
  traceRoot: string
  timings: { kernel: string }
}
function runCli(nodeFlags: string[] = []): CliResult {
  const out = execFileSync(process.execPath, [...nodeFlags, bin, ...cliArgs], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  return JSON.parse(out) as CliResult
}

describe('determinism', () => {
  const request = () => {
    const model = testModel()
    const promptTokens = tokenizerFromGguf(model.metadata).encode('Once upon a time')
    return {
      promptTokens,
      maxTokens: 12,
      params: samplingParams({ temperature: 0.8, topP: 0.9 }),
      seed: 3,
    }
  }

  it('the same generation twice in one process gives the same tokens and traceRoot', () => {
    const a = generate(testModel(), request())
    const b = generate(testModel(), request())
    expect(b.tokens).toEqual(a.tokens)
    expect(toHex(b.traceRoot!)).toBe(toHex(a.traceRoot!))
    expect(a.tokens).toHaveLength(12)
  })

  it('the WebAssembly and TypeScript kernels give the same bits', () => {
    const wasm = testModel({ kernel: 'wasm' })
    const ts = testModel({ kernel: 'typescript' })
    expect(wasm.kernel.name).toBe('wasm-simd')
    expect(ts.kernel.name).toBe('typescript')
    expect(toHex(ts.modelRoot)).toBe(toHex(wasm.modelRoot))
    const a = generate(wasm, request())
    const b = generate(ts, request())
    expect(b.tokens).toEqual(a.tokens)
    expect(toHex(b.traceRoot!)).toBe(toHex(a.traceRoot!))
  })

  it('two processes, and a process under node --jitless (no JIT, no WebAssembly), agree with this one', () => {
    const here = generate(testModel(), request())
    const first = runCli()
    const second = runCli()
    const jitless = runCli(['--jitless', '--no-warnings'])
    expect(jitless.timings.kernel).toBe('typescript')
    for (const other of [first, second, jitless]) {
      expect(other.model.modelRoot).toBe(toHex(testModel().modelRoot))
      expect(other.tokens).toEqual(here.tokens)
      expect(other.traceRoot).toBe(toHex(here.traceRoot!))
    }
  })

  it('a prompt run in blocks gives the same trace, leaf for leaf, as one position at a time', () => {
    const model = testModel()
    const prompt = Array.from({ length: 40 }, (_, i) => 1 + ((i * 37) % 500))
    expect(prompt.length).toBeGreaterThan(2 * model.scratch.maxBatch) // two full blocks and a partial one
    const blocked = new TraceHasher(model)
    const a = new Sequence(model, 64)
    for (let i = 0; i < prompt.length; i += a.maxBlock) {
      const block = prompt.slice(i, i + a.maxBlock)
      forwardBlock(a, block, i + block.length === prompt.length, blocked)
    }
    const single = new TraceHasher(model)
    const b = new Sequence(model, 64)
    prompt.forEach((t, i) => {
      forwardToken(b, t, i === prompt.length - 1, single)
    })
    // Both hashers are still open here: they share the model's staging area (see stageOwner).
    expect(toHex(blocked.root())).toBe(toHex(single.root()))
    expect(blocked.count).toBe(40 * (1 + model.config.nLayers * 17) + 2)
    expect(toHex(blocked.leaves())).toBe(toHex(single.leaves()))
    expect(Array.from(a.logits)).toEqual(Array.from(b.logits))
  })

  it('a different seed changes the tokens and the traceRoot', () => {
    const a = generate(testModel(), request())
    const b = generate(testModel(), { ...request(), seed: 4 })
    expect(b.tokens).not.toEqual(a.tokens)
    expect(toHex(b.traceRoot!)).not.toBe(toHex(a.traceRoot!))
  })
})
