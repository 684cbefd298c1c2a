import type { Hex } from 'viem'
import { fileTreeOfSource } from '../competition/file-root.ts'
import { readGguf } from '../runtime/gguf/read.ts'
import { loadModelFromGguf } from '../runtime/model/load.ts'
import { toHex } from '../runtime/trace/merkle.ts'
import { nativeSha256, openModelFile } from './model-file.ts'

/** What a model competition commitment names a model file by (ModelCompetition.commitModel). */
export type ModelCommitment = {
  path: string
  name: string
  architecture: string
  modelRoot: Hex
  /** The file root (src/competition/file-root.ts): a Merkle root over 1 MiB chunks and the size. */
  fileHash: Hex
  size: bigint
  /** Elements of every tensor in the file (as `verity model info` counts them). */
  params: bigint
}

/**
 * Reads a GGUF file once for its commitment: the modelRoot as the runtime loads it (a file the
 * runtime refuses is an error here, before anything is sent), the file root over its 1 MiB
 * chunks (read one at a time), the size and the parameter count.
 */
export function modelCommitment(arg: string): ModelCommitment {
  const file = openModelFile(arg)
  try {
    const gguf = readGguf(file)
    const model = loadModelFromGguf(gguf, { sha256: nativeSha256 })
    let params = 0n
    for (const t of gguf.tensors) params += t.dims.reduce((a, b) => a * BigInt(b), 1n)
    return {
      path: file.path,
      name: model.config.name,
      architecture: model.config.arch ?? 'llama',
      modelRoot: toHex(model.modelRoot) as Hex,
      fileHash: fileTreeOfSource(file).root,
      size: BigInt(file.size),
      params,
    }
  } finally {
    file.close()
  }
}
