import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { readGguf } from '../runtime/gguf/read.ts'
import { loadModel } from '../runtime/model/load.ts'
import { testModel } from '../runtime/test-model.ts'
import { devnetCorpus } from './devnet-corpus.ts'
import { DEVNET_EVALUATION_SPEC, evaluateModel } from './evaluate.ts'

// models/verity-tiny-ft.gguf: verity-tiny fine-tuned further on its own training split
// (README, "Fine-tuning"); the competition devnet's better model.
const path = join(import.meta.dirname, '../../models/verity-tiny-ft.gguf')
const bytes = readFileSync(path)
const corpus = devnetCorpus()
const seedOf = (b: number) => new Uint8Array(32).fill(b)

describe('the fine-tuned default model', () => {
  it("keeps the default's tokenizer and chat template, under its own name", () => {
    const tuned = readGguf(bytes)
    const base = testModel().metadata
    for (const [key, value] of tuned.metadata)
      if (key.startsWith('tokenizer.') || key.startsWith('llama.'))
        expect(value, key).toEqual(base.get(key))
    expect(tuned.metadata.get('general.name')).toBe('verity-tiny-ft')
  })

  it('scores a lower exact loss than the default on the devnet evaluation, seed after seed', () => {
    const tuned = loadModel(bytes)
    for (const seed of [1, 2]) {
      const a = evaluateModel(tuned, corpus, seedOf(seed), DEVNET_EVALUATION_SPEC)
      const b = evaluateModel(testModel(), corpus, seedOf(seed), DEVNET_EVALUATION_SPEC)
      // Same passages, same tokenizer: the same tokens scored, so the totals compare directly.
      expect(a.starts).toEqual(b.starts)
      expect(a.tokens).toBe(b.tokens)
      expect(a.lossQ16).toBeLessThan(b.lossQ16)
    }
  }, 120_000)
})
