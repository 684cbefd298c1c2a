import { describe, expect, it } from 'vitest'
import { gguf, writeGguf } from '../runtime/gguf/write.ts'
import { testModel, trainedModelBytes } from '../runtime/test-model.ts'
import { toHex } from '../runtime/trace/merkle.ts'
import { devnetCorpus } from './devnet-corpus.ts'
import { type EvaluationSpec, evaluateModel } from './evaluate.ts'
import { fileRoot } from './file-root.ts'
import { type CommittedModel, type ScoreInputs, scoreModelFile } from './score.ts'

/**
 * A validator's check of a downloaded file against its commitment: every way a file can be
 * wrong (size, hash, GGUF, architecture, parameter count, limit, modelRoot, context) is a reason
 * and a score of 0, never an exception; an honest file scores exactly what evaluateModel says.
 */
const SPEC: EvaluationSpec = { passages: 2, versesPerPassage: 2, maxTokens: 64 }
const corpus = devnetCorpus()
const seed = new Uint8Array(32).fill(5)
const bytes = trainedModelBytes()
const honest: CommittedModel = {
  modelRoot: toHex(testModel().modelRoot),
  fileHash: fileRoot(bytes),
  size: BigInt(bytes.length),
  params: 1_328_256n,
}
const inputs = (commit: Partial<CommittedModel> = {}, rest: Partial<ScoreInputs> = {}) => ({
  commit: { ...honest, ...commit },
  maxParams: 2_000_000n,
  corpus,
  seed,
  spec: SPEC,
  ...rest,
})
const reason = (file: Uint8Array, i: ScoreInputs) => {
  const r = scoreModelFile(file, i)
  expect(r.ok).toBe(false)
  return r.ok ? '' : r.reason
}
/** A file and its honest commitment (size, hash; params and root as given). */
const committed = (file: Uint8Array, params: bigint): Partial<CommittedModel> => ({
  size: BigInt(file.length),
  fileHash: fileRoot(file),
  params,
})

describe('scoring a committed model file', () => {
  it('scores an honest file exactly as evaluateModel does', () => {
    const r = scoreModelFile(bytes, inputs())
    expect(r.ok).toBe(true)
    const direct = evaluateModel(testModel(), corpus, seed, SPEC)
    expect(r).toEqual({ ok: true, ...direct })
  })

  it('gives a reason for a file that is not the committed one', () => {
    expect(reason(bytes.subarray(0, 1000), inputs())).toMatch(
      /file is 1000 bytes, the commitment says 5361248/,
    )
    const flipped = bytes.slice()
    flipped[bytes.length - 1]! ^= 1
    expect(reason(flipped, inputs())).toMatch(/file root 0x[0-9a-f]{64} is not the committed/)
    expect(reason(bytes, inputs({ params: 1_000_000n }))).toMatch(
      /file has 1328256 parameters, the commitment says 1000000/,
    )
    expect(reason(bytes, inputs({}, { maxParams: 1_000_000n }))).toMatch(
      /1328256 parameters is over the competition's limit of 1000000/,
    )
    expect(reason(bytes, inputs({ modelRoot: `0x${'ab'.repeat(32)}` }))).toMatch(
      /modelRoot 0x[0-9a-f]{64} is not the committed 0xabab/,
    )
  })

  it('gives a reason for a file the runtime refuses: not GGUF, another architecture, short context', () => {
    const junk = new TextEncoder().encode('not a model at all')
    expect(reason(junk, inputs(committed(junk, 0n)))).toMatch(/GGUF|magic/i)
    const mamba = writeGguf({
      metadata: [['general.architecture', gguf.string('mamba')]],
      tensors: [],
    })
    expect(reason(mamba, inputs(committed(mamba, 0n)))).toMatch(/mamba/)
    expect(reason(bytes, inputs({}, { spec: { ...SPEC, maxTokens: 1024 } }))).toMatch(
      /context of 256 tokens is shorter than the evaluation's 1024/,
    )
  })
})
