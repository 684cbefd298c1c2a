import { spawnSync } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { defaultModelBytes } from '../runtime/model/default.ts'

const root = join(import.meta.dirname, '../..')
const dir = mkdtempSync(join(tmpdir(), 'verity-cli-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

function verity(...args: string[]) {
  const r = spawnSync(process.execPath, [join(root, 'bin/verity.js'), ...args], {
    encoding: 'utf8',
    timeout: 120_000,
  })
  return { code: r.status, stdout: r.stdout, stderr: r.stderr }
}

/** A user-facing failure: non-zero exit, one `error:` line first, no stack trace. */
function expectCleanError(r: ReturnType<typeof verity>, code: number, message: RegExp) {
  expect(r.code).toBe(code)
  expect(r.stderr.split('\n')[0]).toMatch(/^error: /)
  expect(r.stderr).toMatch(message)
  expect(r.stderr).not.toMatch(/\n\s+at /)
}

describe('verity generate', () => {
  it('prints one JSON object with the model, tokens, text, traceRoot and timings', () => {
    const r = verity(
      'generate',
      '--prompt',
      'Once upon a time',
      '--max-tokens',
      '5',
      '--seed',
      '9',
      '--json',
    )
    expect(r.code).toBe(0)
    const out = JSON.parse(r.stdout)
    expect(Object.keys(out)).toEqual([
      'model',
      'promptTokens',
      'tokens',
      'text',
      'finishReason',
      'traceRoot',
      'traceLeaves',
      'timings',
    ])
    expect(out.model.name).toBe('verity-tiny')
    expect(out.model.modelRoot).toMatch(/^0x[0-9a-f]{64}$/)
    expect(out.tokens).toHaveLength(5)
    expect(out.traceRoot).toMatch(/^0x[0-9a-f]{64}$/)
  })

  it('refuses bad input with one clear line', () => {
    const truncated = join(dir, 'truncated.gguf')
    writeFileSync(truncated, defaultModelBytes().subarray(0, 5000))
    const garbage = join(dir, 'garbage.gguf')
    writeFileSync(garbage, 'not a model at all')
    expectCleanError(
      verity('generate', '--prompt', 'hi', '--model', join(dir, 'missing.gguf')),
      2,
      /cannot be read \(ENOENT\)/,
    )
    expectCleanError(
      verity('generate', '--prompt', 'hi', '--model', truncated),
      1,
      /GGUF: .*(cannot fit|truncated)/,
    )
    expectCleanError(verity('generate', '--prompt', 'hi', '--model', garbage), 1, /GGUF: bad magic/)
    expectCleanError(
      verity('generate', '--prompt', 'hi', '--temperature', 'warm'),
      2,
      /--temperature must be a number/,
    )
    expectCleanError(
      verity('generate', '--prompt', 'hi', '--max-tokens', '-3'),
      2,
      /--max-tokens must be between/,
    )
    expectCleanError(verity('generate', '--prompt', 'hi', '--top-p', '0'), 2, /--top-p/)
    expectCleanError(verity('generate', '--prompt', 'hi', '--wat'), 2, /unknown option '--wat'/)
    expectCleanError(verity('generate'), 2, /--prompt is required/)
    expectCleanError(
      verity('generate', '--prompt', 'word '.repeat(600)),
      1,
      /exceeds the model's context length of 256/,
    )
    expectCleanError(verity('nonsense'), 2, /unknown command 'nonsense'/)
  })
})

describe('verity model info', () => {
  it('describes a model and its modelRoot', () => {
    const r = verity('model', 'info', 'default', '--json')
    expect(r.code).toBe(0)
    const info = JSON.parse(r.stdout)
    expect(info.config).toMatchObject({
      dim: 128,
      nLayers: 4,
      nHeads: 4,
      nKvHeads: 4,
      vocabSize: 2048,
    })
    expect(info.tensorTypes).toEqual({ 'F32 (0)': 39 })
    expect(info.modelRoot).toMatch(/^0x[0-9a-f]{64}$/)
  })

  it('refuses a corrupt file', () => {
    const bad = join(dir, 'bad.gguf')
    writeFileSync(bad, new Uint8Array(64))
    expectCleanError(verity('model', 'info', bad), 1, /GGUF: bad magic/)
    expectCleanError(verity('model', 'info'), 2, /needs a GGUF file/)
  })
})

describe('verity yuma run --onchain', () => {
  it('replays a public scenario against the contracts on a fresh devnet and matches', () => {
    const r = verity(
      'yuma',
      'run',
      join(root, 'vectors/yuma/classic_bonds.json'),
      '--onchain',
      '--check',
    )
    expect(r.stderr).toMatch(/classic_bonds: matches/)
    expect(r.code).toBe(0)
    expect(JSON.parse(r.stdout).epochs.length).toBeGreaterThan(0)
  })
})
