import { execFileSync } from 'node:child_process'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { generate } from './generate.ts'
import { samplingParams } from './sampler/sample.ts'
import { testModel } from './test-model.ts'
import { tokenizerFromGguf } from './tokenizer/index.ts'
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

  it('a different seed changes the tokens and the traceRoot', () => {
    const a = generate(testModel(), request())
    const b = generate(testModel(), { ...request(), seed: 4 })
    expect(b.tokens).not.toEqual(a.tokens)
    expect(toHex(b.traceRoot!)).not.toBe(toHex(a.traceRoot!))
  })
})
