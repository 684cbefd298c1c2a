import { execFile } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { sequenceLossQ16 } from '../../src/competition/evaluate.ts'
import { readGguf } from '../../src/runtime/gguf/read.ts'
import { tensorToFloat32 } from '../../src/runtime/gguf/tensor.ts'
import { GgmlType, type GgmlTypeName } from '../../src/runtime/gguf/types.ts'
import { loadModel } from '../../src/runtime/model/load.ts'
import { buildSyntheticModel, type SyntheticModelSpec } from '../../src/runtime/model/synthetic.ts'
import { testModel } from '../../src/runtime/test-model.ts'
import { tokenizerFromGguf } from '../../src/runtime/tokenizer/tokenizer.ts'
import { metadataEntries } from './gguf-source.ts'

const root = join(import.meta.dirname, '../..')
const dir = mkdtempSync(join(tmpdir(), 'verity-finetune-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

const TEMPLATE = "{% for m in messages %}<|{{ m['role'] }}|>{{ m['content'] }}{% endfor %}"

/** verity-tiny's tokenizer entries, typed as the writer takes them. */
function tinyVocab(): SyntheticModelSpec['vocab'] {
  const file = readGguf(readFileSync(join(root, 'models/verity-tiny.gguf')))
  return metadataEntries(file).filter(([k]) => k.startsWith('tokenizer.ggml.'))
}

/** A one-layer model with verity-tiny's tokenizer: seconds to fine-tune. */
function tinyGguf(name: string, change: Partial<SyntheticModelSpec> = {}): string {
  const path = join(dir, `${name}.gguf`)
  const spec: SyntheticModelSpec = {
    name,
    vocab: tinyVocab(),
    dim: 32,
    nLayers: 1,
    nHeads: 2,
    nKvHeads: 2,
    ffnDim: 64,
    contextLength: 64,
    seed: 5,
    tensorType: 'Q8_0' as GgmlTypeName,
    chatTemplate: TEMPLATE,
    ...change,
  }
  writeFileSync(path, buildSyntheticModel(spec))
  return path
}

const data = join(dir, 'data.txt')
writeFileSync(
  data,
  [
    'In the beginning God created the heaven and the earth.',
    '',
    'And the earth was without form, and void; and darkness was upon the face of the deep.',
    'And God said, Let there be light: and there was light.\r',
  ].join('\n'),
)

type Run = { code: number; stdout: string; stderr: string }
function train(...args: string[]): Promise<Run> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [join(root, 'bin/run-ts.js'), join(root, 'scripts/train-model.ts'), ...args],
      { cwd: dir },
      (error, stdout, stderr) =>
        resolve({ code: error ? Number(error.code ?? 1) : 0, stdout, stderr }),
    )
  })
}

describe('train-model --from (fine-tuning)', () => {
  it('continues training a Q8_0 llama: loads, keeps tokenizer and template, moves weights', async () => {
    const input = tinyGguf('tiny-in')
    const out = join(dir, 'tiny-out.gguf')
    const flags = ['--from', input, '--data', data, '--out', out, '--steps', '3']
    const r = await train(...flags, '--seq', '32', '--batch', '2', '--name', 'tiny-ft')
    expect(r.code, r.stderr).toBe(0)
    expect(r.stdout).toMatch(/done: 3 steps/)

    const before = readGguf(readFileSync(input))
    const after = readGguf(readFileSync(out))
    // Every metadata entry carried over with its type, but the file type (F32 now) and the name.
    const changed = new Set(['general.file_type', 'general.name'])
    const keep = (f: typeof before) =>
      metadataEntries(f).filter(([k]) => !changed.has(k) && k !== 'general.alignment')
    expect(keep(after)).toEqual(keep(before))
    expect(after.metadata.get('tokenizer.chat_template')).toBe(TEMPLATE)
    expect(after.metadata.get('general.name')).toBe('tiny-ft')
    expect(after.metadata.get('general.file_type')).toBe(0)
    expect([...after.metadata.keys()].filter((k) => k.startsWith('tokenizer.'))).toEqual(
      [...before.metadata.keys()].filter((k) => k.startsWith('tokenizer.')),
    )

    // Same tensors and shapes, all F32 and finite; the matrices moved from the dequantized input.
    expect(after.tensors.map((t) => [t.name, t.dims])).toEqual(
      before.tensors.map((t) => [t.name, t.dims]),
    )
    let moved = 0
    for (const t of after.tensors) {
      expect(t.type).toBe(GgmlType.F32)
      const w = tensorToFloat32(after, t)
      const w0 = tensorToFloat32(before, before.tensors.find((x) => x.name === t.name)!)
      expect(w.every(Number.isFinite)).toBe(true)
      let diff = 0
      for (let i = 0; i < w.length; i++) diff = Math.max(diff, Math.abs(w[i]! - w0[i]!))
      if (diff > 1e-6) moved++
      // AdamW moves each weight by at most ~lr per step: a fine-tune, not a re-initialisation.
      expect(diff).toBeLessThan(0.01)
    }
    expect(moved).toBe(after.tensors.length)

    // The runtime loads it and scores text with the same tokenizer.
    const model = loadModel(readFileSync(out))
    const tokenizer = tokenizerFromGguf(model.metadata)
    const ids = [1, ...tokenizer.encode('And God saw the light.', { addBos: false })]
    expect(sequenceLossQ16(model, ids)).toBeGreaterThan(0n)
    expect(tokenizer.encode('And God saw the light.')).toEqual(
      tokenizerFromGguf(testModel().metadata).encode('And God saw the light.'),
    )

    // The log: the run's header, then one line per step.
    const log = readFileSync(join(dir, 'tiny-out.train.jsonl'), 'utf8').trim().split('\n')
    expect(log).toHaveLength(4)
    expect(JSON.parse(log[0]!)).toMatchObject({ from: input, config: { dim: 32, seqLen: 32 } })
    expect(JSON.parse(log[3]!)).toMatchObject({ step: 3 })
  }, 60_000)

  it('refuses what the trainer cannot represent, in one line and before training', async () => {
    const truncated = join(dir, 'truncated.gguf')
    writeFileSync(truncated, readFileSync(tinyGguf('whole')).subarray(0, 2000))
    const cases: Array<[string, RegExp]> = [
      [tinyGguf('qwen', { arch: 'qwen2' }), /architecture 'qwen2' is not supported/],
      [tinyGguf('tied', { tiedOutput: true }), /tied embeddings \(no output\.weight\)/],
      [tinyGguf('gqa', { nKvHeads: 1 }), /grouped-query attention \(2 heads, 1 key\/value heads\)/],
      [tinyGguf('bias', { attnBias: true }), /cannot represent: blk\.0\.attn_q\.bias/],
      [
        tinyGguf('q4', { tensorType: 'Q4_0' }),
        /'token_embd.weight' is Q4_0 \(2\); the trainer reads F32, F16, BF16 and Q8_0/,
      ],
      [
        tinyGguf('odd', { dim: 36, tensorType: 'F32' }),
        /embedding_length 36 is not a multiple of 8/,
      ],
      [truncated, /cannot fine-tune .*truncated\.gguf/],
    ]
    const out = join(dir, 'refused.gguf')
    const results = await Promise.all(
      cases.map(([path]) => train('--from', path, '--data', data, '--out', out, '--steps', '1')),
    )
    for (const [i, r] of results.entries()) {
      expect(r.code, r.stderr).toBe(2)
      expect(r.stderr).toMatch(/^train-model: cannot fine-tune /)
      expect(r.stderr).toMatch(cases[i]![1])
      expect(r.stderr.trim().split('\n')).toHaveLength(1)
    }
    const noData = await train('--from', tinyGguf('ok'), '--out', out)
    expect(noData.code).toBe(2)
    expect(noData.stderr).toMatch(/--from needs --data/)
    expect(() => readFileSync(out)).toThrow()
  }, 60_000)
})
