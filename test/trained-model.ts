import { readFileSync } from 'node:fs'
import { join } from 'node:path'

/**
 * The committed default model, verity-tiny (docs/MODEL.md), for tests and golden vectors. Kept out
 * of src/runtime, which does no I/O; src/cli/model-file.ts reads the same file for the CLI.
 */
export const TRAINED_MODEL_PATH = join(import.meta.dirname, '../models/verity-tiny.gguf')

let bytes: Uint8Array | undefined
/** The trained default model's GGUF bytes, read once per process. */
export function trainedModelBytes(): Uint8Array {
  bytes ??= new Uint8Array(readFileSync(TRAINED_MODEL_PATH))
  return bytes
}
