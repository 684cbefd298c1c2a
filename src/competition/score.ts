import { BaseError } from '../errors/base.ts'
import { readGguf } from '../runtime/gguf/read.ts'
import { type LoadModelOptions, loadModelFromGguf } from '../runtime/model/load.ts'
import { toHex } from '../runtime/trace/merkle.ts'
import { type EvaluationResult, type EvaluationSpec, evaluateModel } from './evaluate.ts'
import { fileRoot } from './file-root.ts'

/** A model's commitment as the chain stores it (ModelCompetition.commitOf). */
export type CommittedModel = {
  modelRoot: `0x${string}`
  /** The file root (file-root.ts), not a sha256 of the whole file. */
  fileHash: `0x${string}`
  size: bigint
  params: bigint
}

/** A scored file, or the reason it scores 0 (weights.ts takes `loss: null`). */
export type ScoreOutcome =
  | ({ ok: true } & EvaluationResult)
  | { ok: false; loss: null; reason: string }

export type ScoreInputs = {
  commit: CommittedModel
  /** The competition's limit (ModelCompetition.competition(netuid).maxParams). */
  maxParams: bigint
  corpus: readonly string[]
  seed: Uint8Array
  spec: EvaluationSpec
  /** Kernel, threads, native sha256 for the weight leaves. */
  load?: LoadModelOptions
}

/**
 * Scores a downloaded file against its commitment; never throws for a bad file. In order: the
 * size and file root (file-root.ts) must be the committed ones, the GGUF must parse and load (a supported
 * architecture), its parameter count must be the committed one and within the limit, its
 * modelRoot the committed one; then the exact evaluation loss (evaluate.ts). Any failure is a
 * reason (the model scores 0), first failure first.
 */
export function scoreModelFile(bytes: Uint8Array, inputs: ScoreInputs): ScoreOutcome {
  const fail = (reason: string): ScoreOutcome => ({ ok: false, loss: null, reason })
  const { commit } = inputs
  if (BigInt(bytes.length) !== commit.size)
    return fail(`file is ${bytes.length} bytes, the commitment says ${commit.size}`)
  if (bytes.length === 0) return fail('the file is empty')
  const root = fileRoot(bytes)
  if (root !== commit.fileHash.toLowerCase())
    return fail(`file root ${root} is not the committed ${commit.fileHash}`)
  try {
    const gguf = readGguf(bytes)
    let params = 0n
    for (const t of gguf.tensors) params += t.dims.reduce((a, b) => a * BigInt(b), 1n)
    if (params !== commit.params)
      return fail(`file has ${params} parameters, the commitment says ${commit.params}`)
    if (params > inputs.maxParams)
      return fail(`${params} parameters is over the competition's limit of ${inputs.maxParams}`)
    const model = loadModelFromGguf(gguf, inputs.load)
    const modelRoot = toHex(model.modelRoot)
    if (modelRoot !== commit.modelRoot.toLowerCase())
      return fail(`modelRoot ${modelRoot} is not the committed ${commit.modelRoot}`)
    return { ok: true, ...evaluateModel(model, inputs.corpus, inputs.seed, inputs.spec) }
  } catch (error) {
    // a file the runtime refuses (bad GGUF, unsupported architecture, too short a context)
    if (error instanceof BaseError) return fail(error.shortMessage)
    if (error instanceof RangeError || error instanceof TypeError) return fail(error.message)
    throw error
  }
}
