/**
 * The cross-check on files the project makes of each architecture and tensor type, with the real
 * vocabularies (test/hf-vocab.ts) and chat templates: identical prompt tokens, and logits
 * teacher-forced over real text, compared position by position. Weights are random, with the
 * output scaled so that logits are peaked and top-1 margins clear (SyntheticModelSpec.outputScale).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { forwardToken, Sequence } from '../src/runtime/forward.ts'
import type { GgmlTypeName } from '../src/runtime/gguf/types.ts'
import type { GgufWriteValue } from '../src/runtime/gguf/write.ts'
import { gguf } from '../src/runtime/gguf/write.ts'
import { loadModel } from '../src/runtime/model/load.ts'
import { buildSyntheticModel, type SyntheticModelSpec } from '../src/runtime/model/synthetic.ts'
import { tokenizerFromGguf } from '../src/runtime/tokenizer/tokenizer.ts'
import { LLAMA_3_2, QWEN_2_5, SMOLLM2, TINYLLAMA } from '../test/chat-templates.ts'
import { REAL_VOCABS, type RealVocab } from '../test/hf-vocab.ts'
import { CORPUS } from '../test/tokenizer-corpus.ts'
import { cosine } from './compare.ts'
import { llamaCppLogits, llamaCppTokenize } from './llamacpp.ts'

export type CrosscheckFile = {
  name: string
  arch: 'llama' | 'qwen2'
  vocab: RealVocab
  type: GgmlTypeName
}

/** Each tensor type on at least one architecture, each architecture and vocabulary at least once. */
export const CROSSCHECK_FILES: CrosscheckFile[] = [
  { name: 'llama3-Q8_0', arch: 'llama', vocab: 'llama-bpe', type: 'Q8_0' },
  { name: 'llama3-Q4_K', arch: 'llama', vocab: 'llama-bpe', type: 'Q4_K' },
  { name: 'qwen2-Q5_K', arch: 'qwen2', vocab: 'qwen2', type: 'Q5_K' },
  { name: 'qwen2-Q6_K', arch: 'qwen2', vocab: 'qwen2', type: 'Q6_K' },
  { name: 'smollm-Q4_0', arch: 'llama', vocab: 'smollm', type: 'Q4_0' },
  { name: 'default-Q4_1', arch: 'llama', vocab: 'default', type: 'Q4_1' },
  { name: 'mistral-Q5_0', arch: 'llama', vocab: 'spm', type: 'Q5_0' },
  { name: 'tinyllama-Q5_1', arch: 'llama', vocab: 'spm', type: 'Q5_1' },
  { name: 'tinyllama-BF16', arch: 'llama', vocab: 'spm', type: 'BF16' },
  { name: 'mistral-F16', arch: 'llama', vocab: 'spm', type: 'F16' },
]

/** CI's bounded sample: one file per architecture and vocabulary family, four tensor types. */
export const CI_SAMPLE = ['llama3-Q4_K', 'qwen2-Q5_K', 'smollm-Q4_0', 'mistral-Q5_0']

const TEMPLATES: Record<RealVocab, string> = {
  'llama-bpe': LLAMA_3_2,
  qwen2: QWEN_2_5,
  smollm: SMOLLM2,
  default: SMOLLM2,
  spm: TINYLLAMA,
}

/** The file's bytes: GQA, tied output except on the SentencePiece ones, Llama 3.2's rope_freqs on llama3. */
export function crosscheckFileBytes(f: CrosscheckFile): Uint8Array {
  const spec: SyntheticModelSpec = {
    name: f.name,
    vocab: [
      ...REAL_VOCABS[f.vocab](),
      ['tokenizer.chat_template', gguf.string(TEMPLATES[f.vocab])] as [string, GgufWriteValue],
    ],
    dim: 256,
    nLayers: 2,
    nHeads: 8,
    nKvHeads: 2,
    ffnDim: 512,
    contextLength: 512,
    seed: 21,
    tensorType: f.type,
    arch: f.arch,
    tiedOutput: f.vocab !== 'spm',
    outputScale: 16,
    ...(f.arch === 'qwen2' ? { ropeTheta: 1e6 } : {}),
    ...(f.vocab === 'llama-bpe'
      ? {
          ropeTheta: 500000,
          ropeFreqFactors: [...Array(8).fill(1), 1.25, 2, 4, 8, ...Array(4).fill(32)],
        }
      : {}),
  }
  return buildSyntheticModel(spec)
}

export type FileReport = {
  file: string
  promptTokensIdentical: boolean
  /** Corpus texts whose tokens differ (text, ours, llama.cpp's), when any. */
  tokenDiffs: { text: string; ours: number[]; theirs: number[] }[]
  positions: number
  meanCosine: number
  minCosine: number
  top1: number
  /** Positions where llama.cpp's top-1 leads its runner-up by at least CLEAR_MARGIN x the logits' RMS. */
  clearPositions: number
  clearTop1: number
}

/**
 * A top-1 is clear when it leads by at least this fraction of the position's logit RMS: int8
 * weights and activations move logits by about 1-2% of their RMS (cosine 0.9998), so a lead of
 * 10% cannot be overturned by rounding, while closer calls may go either way.
 */
export const CLEAR_MARGIN = 0.1

const argmax = (v: ArrayLike<number>) => {
  let best = 0
  for (let i = 1; i < v.length; i++) if (v[i]! > v[best]!) best = i
  return best
}

/** Compares the runtime with llama.cpp on one file: tokens of the corpus, then logits over its tokens. */
export async function crosscheckFile(f: CrosscheckFile, positions = 48): Promise<FileReport> {
  const bytes = crosscheckFileBytes(f)
  const dir = mkdtempSync(join(tmpdir(), 'verity-crosscheck-'))
  try {
    const path = join(dir, `${f.name}.gguf`)
    writeFileSync(path, bytes)
    const model = loadModel(bytes)
    const tokenizer = tokenizerFromGguf(model.metadata)
    const ours = CORPUS.map((text) => tokenizer.encode(text, { addBos: false }))
    const theirs = await llamaCppTokenize(path, CORPUS)
    const tokenDiffs = CORPUS.flatMap((text, i) =>
      JSON.stringify(ours[i]) === JSON.stringify(theirs[i])
        ? []
        : [{ text, ours: ours[i]!, theirs: theirs[i]! }],
    )
    const tokens = tokenizer.encode(CORPUS.join('\n')).slice(0, positions)
    const seq = new Sequence(model, tokens.length)
    const mine = tokens.map((t) => Float32Array.from(forwardToken(seq, t, true)!, (v) => v / 65536))
    const reference = await llamaCppLogits(path, tokens, model.config.vocabSize)
    let sum = 0
    let min = 1
    let same = 0
    let clear = 0
    let clearSame = 0
    for (let i = 0; i < tokens.length; i++) {
      const a = mine[i]!
      const b = reference[i]!
      const c = cosine(a, b)
      sum += c
      min = Math.min(min, c)
      const top = argmax(b)
      if (argmax(a) === top) same++
      let second = Number.NEGATIVE_INFINITY
      let squares = 0
      for (let j = 0; j < b.length; j++) {
        squares += b[j]! * b[j]!
        if (j !== top && b[j]! > second) second = b[j]!
      }
      if (b[top]! - second >= CLEAR_MARGIN * Math.sqrt(squares / b.length)) {
        clear++
        if (argmax(a) === top) clearSame++
      }
    }
    return {
      file: f.name,
      promptTokensIdentical: tokenDiffs.length === 0,
      tokenDiffs,
      positions: tokens.length,
      meanCosine: sum / tokens.length,
      minCosine: min,
      top1: same / tokens.length,
      clearPositions: clear,
      clearTop1: clear === 0 ? 1 : clearSame / clear,
    }
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}
