import { execFileSync } from 'node:child_process'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { forwardBlock, forwardBlockHeads, forwardToken, Sequence } from './forward.ts'
import { fanOut, generate } from './generate.ts'
import { samplingParams } from './sampler/sample.ts'
import { testModel } from './test-model.ts'
import { tokenizerFromGguf } from './tokenizer/index.ts'
import { CheckpointHasher, PositionTraceHasher } from './trace/hasher.ts'
import { toHex } from './trace/merkle.ts'

const noSink = { kinds: 0, record() {} }
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

  it('a prompt run in blocks gives the same checkpoints and position traces as one position at a time', () => {
    const model = testModel()
    const prompt = Array.from({ length: 40 }, (_, i) => 1 + ((i * 37) % 500))
    expect(prompt.length).toBeGreaterThan(2 * model.scratch.maxBatch) // two full blocks and a partial one
    const every = () => true
    const blocked = new CheckpointHasher(model)
    const blockedOps = new PositionTraceHasher(model, every)
    const a = new Sequence(model, 64)
    for (let i = 0; i < prompt.length; i += a.maxBlock) {
      const block = prompt.slice(i, i + a.maxBlock)
      forwardBlock(a, block, i + block.length === prompt.length, fanOut([blocked, blockedOps]))
    }
    const single = new CheckpointHasher(model)
    const singleOps = new PositionTraceHasher(model, every)
    const b = new Sequence(model, 64)
    prompt.forEach((t, i) => {
      forwardToken(b, t, i === prompt.length - 1, fanOut([single, singleOps]))
    })
    // All four hashers are still open here: they share the model's staging area (stageOwner).
    expect(toHex(blocked.root())).toBe(toHex(single.root()))
    expect(blocked.count).toBe(40)
    expect(toHex(blocked.checkpoints())).toBe(toHex(single.checkpoints()))
    expect(blockedOps.positions()).toHaveLength(40)
    for (let p = 0; p < 40; p++) {
      const ops = 1 + model.config.nLayers * 17 + (p === 39 ? 2 : 0) // the last has final_norm, logits
      expect(blockedOps.leaves(p).length, `position ${p}`).toBe(32 * ops)
      expect(toHex(blockedOps.leaves(p)), `position ${p}`).toBe(toHex(singleOps.leaves(p)))
    }
    expect(Array.from(a.logits)).toEqual(Array.from(b.logits))
  })

  it('a block with a head at several positions gives the logits of one position at a time', () => {
    const model = testModel()
    const tokens = Array.from({ length: 20 }, (_, i) => 3 + ((i * 53) % 900))
    const single = new Sequence(model, 32)
    const expected = tokens.map((t) => Array.from(forwardToken(single, t, true)!))
    const blocked = new Sequence(model, 32)
    forwardBlockHeads(blocked, tokens.slice(0, 16), 16, noSink) // no head in this block
    const rows = forwardBlockHeads(blocked, tokens.slice(16), 17, noSink) // heads at 17, 18, 19
    const vocab = model.config.vocabSize
    expect(rows.length).toBe(3 * vocab)
    for (let i = 0; i < 3; i++)
      expect(Array.from(rows.subarray(i * vocab, (i + 1) * vocab))).toEqual(expected[17 + i])
    // Samples come after the block, so a sink that needs the trace's order cannot take it.
    expect(() =>
      forwardBlockHeads(new Sequence(model, 32), tokens.slice(0, 4), 0, { record() {} }),
    ).toThrow(/any order/)
  })

  it('a different seed changes the tokens and the traceRoot', () => {
    const a = generate(testModel(), request())
    const b = generate(testModel(), { ...request(), seed: 4 })
    expect(b.tokens).not.toEqual(a.tokens)
    expect(toHex(b.traceRoot!)).not.toBe(toHex(a.traceRoot!))
  })
})
