/**
 * Compares the runtime's logits with llama.cpp's on the same GGUF file, teacher-forced over a
 * token sequence: mean cosine similarity of the logit vectors and top-1 agreement.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { forwardToken, Sequence } from '../src/runtime/forward.ts'
import { loadModel } from '../src/runtime/model/load.ts'
import { buildSyntheticModel, type SyntheticModelSpec } from '../src/runtime/model/synthetic.ts'
import { Prng } from '../src/runtime/sampler/prng.ts'
import { syntheticLlamaVocab } from '../src/runtime/tokenizer/build-vocab.ts'
import { llamaCppLogits } from './llamacpp.ts'

export type Agreement = { positions: number; meanCosine: number; minCosine: number; top1: number }

export function cosine(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let ab = 0
  let aa = 0
  let bb = 0
  for (let i = 0; i < a.length; i++) {
    ab += a[i]! * b[i]!
    aa += a[i]! * a[i]!
    bb += b[i]! * b[i]!
  }
  return ab / Math.sqrt(aa * bb)
}

const argmax = (v: ArrayLike<number>) => {
  let best = 0
  for (let i = 1; i < v.length; i++) if (v[i]! > v[best]!) best = i
  return best
}

/** Teacher-forced logits of the runtime, as floats (Q16 / 2^16). */
export function runtimeLogits(bytes: Uint8Array, tokens: readonly number[]): Float32Array[] {
  const model = loadModel(bytes)
  const seq = new Sequence(model, tokens.length)
  return tokens.map((t) => Float32Array.from(forwardToken(seq, t, true)!, (v) => v / 65536))
}

export async function compareWithLlamaCpp(
  bytes: Uint8Array,
  tokens: readonly number[],
): Promise<Agreement> {
  const dir = mkdtempSync(join(tmpdir(), 'verity-crosscheck-'))
  try {
    const path = join(dir, 'model.gguf')
    writeFileSync(path, bytes)
    const ours = runtimeLogits(bytes, tokens)
    const theirs = await llamaCppLogits(path, tokens, ours[0]!.length)
    let sum = 0
    let min = 1
    let same = 0
    for (let i = 0; i < tokens.length; i++) {
      const c = cosine(ours[i]!, theirs[i]!)
      sum += c
      min = Math.min(min, c)
      if (argmax(ours[i]!) === argmax(theirs[i]!)) same++
    }
    return {
      positions: tokens.length,
      meanCosine: sum / tokens.length,
      minCosine: min,
      top1: same / tokens.length,
    }
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

/** The cross-check model: larger than the default, GQA, random weights, in the given type. */
export function crosscheckModelSpec(
  tensorType: SyntheticModelSpec['tensorType'],
): SyntheticModelSpec {
  return {
    name: `crosscheck-${tensorType}`,
    vocab: syntheticLlamaVocab(2048),
    dim: 128,
    nLayers: 4,
    nHeads: 8,
    nKvHeads: 4,
    ffnDim: 352,
    contextLength: 512,
    seed: 5,
    tensorType,
  }
}

export function crosscheckTokens(count: number, vocabSize: number, seed = 11): number[] {
  const prng = new Prng(seed)
  return [1, ...Array.from({ length: count - 1 }, () => 3 + prng.below(vocabSize - 3))]
}

export async function crosscheckReport(positions = 256): Promise<Record<string, Agreement>> {
  const report: Record<string, Agreement> = {}
  for (const type of ['F32', 'Q8_0'] as const) {
    const spec = crosscheckModelSpec(type)
    report[type] = await compareWithLlamaCpp(
      buildSyntheticModel(spec),
      crosscheckTokens(positions, 2048),
    )
  }
  return report
}
