import { createHash } from 'node:crypto'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { CompetitionError } from '../errors/competition.ts'
import { createThreadedKernel, type ThreadedKernel } from '../parallel/kernel.ts'
import { nativeKernel } from '../parallel/native.ts'
import { loadModel, type Model } from '../runtime/model/load.ts'
import { buildSyntheticModel } from '../runtime/model/synthetic.ts'
import { testModel, trainedModelBytes } from '../runtime/test-model.ts'
import type { MetadataEntry } from '../runtime/tokenizer/build-vocab.ts'
import { toHex } from '../runtime/trace/merkle.ts'
import {
  DEVNET_CORPUS_PATH,
  DEVNET_CORPUS_SHA256,
  DEVNET_CORPUS_VERSES,
  devnetCorpus,
} from './devnet-corpus.ts'
import {
  DEVNET_EVALUATION_SPEC,
  type EvaluationSpec,
  evaluateModel,
  evaluationSpecHash,
  passageStarts,
  passageTokens,
  sequenceLossQ16,
} from './evaluate.ts'

// Small enough for seconds per run; the devnet's figure is in docs/BENCHMARKS.md.
const SPEC: EvaluationSpec = { passages: 3, versesPerPassage: 2, maxTokens: 96 }
const seedOf = (b: number) => new Uint8Array(32).fill(b)
const corpus = devnetCorpus()

const kernels: ThreadedKernel[] = []
afterAll(async () => {
  await Promise.all(kernels.map((k) => k.close()))
})

/** A model of verity-tiny's shape and tokenizer with random weights. */
function randomTinyModel(): Model {
  const trained = testModel()
  const m = trained.metadata
  const c = trained.config
  const vocab: MetadataEntry[] = [
    ['tokenizer.ggml.model', { type: 'string', value: 'llama' }],
    [
      'tokenizer.ggml.tokens',
      { type: 'array', itemType: 'string', value: m.get('tokenizer.ggml.tokens') as string[] },
    ],
    [
      'tokenizer.ggml.scores',
      { type: 'array', itemType: 'f32', value: [...(m.get('tokenizer.ggml.scores') as number[])] },
    ],
    [
      'tokenizer.ggml.token_type',
      {
        type: 'array',
        itemType: 'i32',
        value: [...(m.get('tokenizer.ggml.token_type') as number[])],
      },
    ],
    ['tokenizer.ggml.bos_token_id', { type: 'u32', value: 1 }],
    ['tokenizer.ggml.eos_token_id', { type: 'u32', value: 2 }],
    ['tokenizer.ggml.unknown_token_id', { type: 'u32', value: 0 }],
    ['tokenizer.ggml.add_bos_token', { type: 'bool', value: true }],
    ['tokenizer.ggml.add_eos_token', { type: 'bool', value: false }],
    ['tokenizer.ggml.add_space_prefix', { type: 'bool', value: true }],
  ]
  return loadModel(
    buildSyntheticModel({
      name: 'random-tiny',
      vocab,
      dim: c.dim,
      nLayers: c.nLayers,
      nHeads: c.nHeads,
      nKvHeads: c.nKvHeads,
      ffnDim: c.ffnDim,
      contextLength: c.contextLength,
      seed: 99,
      tensorType: 'F32',
    }),
  )
}

describe('the devnet corpus', () => {
  it('is the held-out KJV split, pinned by sha256', () => {
    expect(corpus).toHaveLength(DEVNET_CORPUS_VERSES)
    // Verse 19 of Genesis (index 19 of the 31,102: the first held-out one) is Gen 1:20.
    expect(corpus[0]).toMatch(/^And God said, Let the waters bring forth abundantly/)
  })

  it('refuses a truncated copy by name', () => {
    const dir = mkdtempSync(join(tmpdir(), 'verity-corpus-'))
    try {
      const path = join(dir, 'short.txt')
      writeFileSync(path, `${corpus.slice(0, 100).join('\n')}\n`)
      expect(() => devnetCorpus(path)).toThrow(/truncated or edited/)
      expect(() => devnetCorpus(join(dir, 'missing.txt'))).toThrow(CompetitionError)
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
    expect(DEVNET_CORPUS_PATH).toMatch(/kjv-held-out\.txt$/)
  })
})

describe('passage draws', () => {
  it('depend only on the seed: same seed same passages, another seed others', () => {
    const a = passageStarts(corpus.length, seedOf(1), { ...SPEC, passages: 16 })
    expect(passageStarts(corpus.length, seedOf(1), { ...SPEC, passages: 16 })).toEqual(a)
    const b = passageStarts(corpus.length, seedOf(2), { ...SPEC, passages: 16 })
    expect(b).not.toEqual(a)
    for (const s of [...a, ...b]) {
      expect(s).toBeGreaterThanOrEqual(0)
      expect(s).toBeLessThanOrEqual(corpus.length - SPEC.versesPerPassage)
    }
    // One flipped bit of the seed moves every draw (sha256), not just some.
    const flipped = seedOf(1)
    flipped[31] ^= 1
    const c = passageStarts(corpus.length, flipped, { ...SPEC, passages: 16 })
    expect(c.filter((s, i) => s === a[i]).length).toBeLessThan(3)
  })

  it('refuse a corpus shorter than a passage, a bad seed and a bad spec', () => {
    expect(() => passageStarts(1, seedOf(1), SPEC)).toThrow(/1 verses cannot hold a passage of 2/)
    expect(() => passageStarts(0, seedOf(1), SPEC)).toThrow(CompetitionError)
    expect(() => passageStarts(100, new Uint8Array(31), SPEC)).toThrow(/seed: must be 32 bytes/)
    expect(() => passageStarts(100, seedOf(1), { ...SPEC, passages: 0 })).toThrow(/passages/)
    expect(() => passageStarts(100, seedOf(1), { ...SPEC, maxTokens: 1 })).toThrow(/maxTokens/)
    expect(() => passageStarts(100, seedOf(1), { ...SPEC, versesPerPassage: 1.5 })).toThrow(
      /versesPerPassage/,
    )
  })

  it('cut passages at maxTokens, BOS first', () => {
    const encode = (s: string) => [...s].map((ch) => ch.charCodeAt(0))
    expect(passageTokens(encode, 1, ['ab', 'cd'], 4)).toEqual([1, 97, 98, 99])
    expect(passageTokens(encode, 1, ['ab'], 10)).toEqual([1, 97, 98])
  })
})

describe('evaluation loss', () => {
  it('is the same bits on every kernel and thread count, and blocking does not matter', () => {
    const serial = evaluateModel(testModel(), corpus, seedOf(7), SPEC)
    expect(serial.tokens).toBeGreaterThan(20)
    expect(serial.starts).toEqual(passageStarts(corpus.length, seedOf(7), SPEC))
    // A trained model: between 2 and 6 nats per token (uniform would be ln 2048 = 7.6).
    const perToken = Number(serial.lossQ16) / 65536 / serial.tokens
    expect(perToken).toBeGreaterThan(2)
    expect(perToken).toBeLessThan(6)
    const variants: Model[] = [
      testModel({ kernel: 'typescript' }),
      testModel({ maxBatch: 5 }),
      loadModel(trainedModelBytes(), {
        createKernel: (bytes) => {
          const k = createThreadedKernel(bytes, 2, { minParallelBytes: 0 })
          kernels.push(k)
          return k
        },
      }),
      // The native kernel where it is built (CI builds it: VERITY_REQUIRE_NATIVE).
      ...(nativeKernel() === null
        ? []
        : [
            loadModel(trainedModelBytes(), {
              createKernel: (bytes) => {
                const k = createThreadedKernel(bytes, 3, { minParallelBytes: 0, native: true })
                kernels.push(k)
                return k
              },
            }),
          ]),
    ]
    for (const model of variants)
      expect(evaluateModel(model, corpus, seedOf(7), SPEC)).toEqual(serial)
    // Runs again in the same process: no state carried between evaluations.
    expect(evaluateModel(testModel(), corpus, seedOf(7), SPEC)).toEqual(serial)
  })

  it('is the sum of its passages, and another seed gives another score', () => {
    const r = evaluateModel(testModel(), corpus, seedOf(7), SPEC)
    const one = (start: number) =>
      evaluateModel(testModel(), corpus.slice(start, start + SPEC.versesPerPassage), seedOf(0), {
        ...SPEC,
        passages: 1,
      }).lossQ16
    expect(r.starts.map(one).reduce((a, b) => a + b, 0n)).toBe(r.lossQ16)
    const other = evaluateModel(testModel(), corpus, seedOf(8), SPEC)
    expect(other.starts).not.toEqual(r.starts)
    expect(other.lossQ16).not.toBe(r.lossQ16)
  })

  it('ranks the trained model above a random one of the same shape', () => {
    const trained = evaluateModel(testModel(), corpus, seedOf(3), SPEC)
    const random = evaluateModel(randomTinyModel(), corpus, seedOf(3), SPEC)
    expect(random.tokens).toBe(trained.tokens)
    // Random weights are near uniform (ln 2048 = 7.6 nats per token); trained about 3.5.
    expect(random.lossQ16).toBeGreaterThan(trained.lossQ16 + BigInt(trained.tokens) * 65536n)
  })

  it('refuses a model whose context is shorter than a passage, and a one-token passage', () => {
    expect(() =>
      evaluateModel(testModel(), corpus, seedOf(1), { ...SPEC, maxTokens: 100_000 }),
    ).toThrow(/context of 256 tokens is shorter than the evaluation's 100000/)
    expect(() => sequenceLossQ16(testModel(), [1])).toThrow(/fewer than 2 tokens/)
  })
})

describe('the evaluation spec hash', () => {
  it('pins the spec and the corpus; any change moves it', () => {
    const corpusHash = Uint8Array.from(Buffer.from(DEVNET_CORPUS_SHA256, 'hex'))
    const h = toHex(evaluationSpecHash(DEVNET_EVALUATION_SPEC, corpusHash))
    // sha256("verity/eval/v1" || corpus sha256 || 8, 4, 256 as uint32be), by node:crypto
    const expected = createHash('sha256')
      .update('verity/eval/v1')
      .update(corpusHash)
      .update(Buffer.from('000000080000000400000100', 'hex'))
      .digest('hex')
    expect(h).toBe(`0x${expected}`)
    expect(
      toHex(evaluationSpecHash({ ...DEVNET_EVALUATION_SPEC, passages: 9 }, corpusHash)),
    ).not.toBe(h)
    const other = corpusHash.slice()
    other[0] ^= 1
    expect(toHex(evaluationSpecHash(DEVNET_EVALUATION_SPEC, other))).not.toBe(h)
    expect(() => evaluationSpecHash(DEVNET_EVALUATION_SPEC, new Uint8Array(31))).toThrow(/32 bytes/)
  })
})
