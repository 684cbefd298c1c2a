import { readFileSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { UsageError } from '../errors/cli.ts'

/**
 * The default model: verity-tiny, trained by the project on the King James Bible and committed
 * (scripts/train-model.ts; docs/MODEL.md).
 */
export const DEFAULT_MODEL_PATH = join(import.meta.dirname, '../../models/verity-tiny.gguf')

/** The bytes of a model given on the command line: a GGUF path, or 'default'. */
export function readModelFile(arg: string | undefined): Uint8Array {
  if (arg === undefined || arg === 'default') arg = DEFAULT_MODEL_PATH
  let size: number
  try {
    const st = statSync(arg)
    if (!st.isFile()) throw new UsageError(`model '${arg}' is not a file`)
    size = st.size
  } catch (error) {
    if (error instanceof UsageError) throw error
    throw new UsageError(
      `model file '${arg}' cannot be read (${(error as NodeJS.ErrnoException).code ?? 'error'})`,
    )
  }
  if (size > 4 * 2 ** 30)
    throw new UsageError(`model file '${arg}' is ${size} bytes: larger than 4 GiB is not supported`)
  return readFileSync(arg)
}
