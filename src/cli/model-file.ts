import { readFileSync, statSync } from 'node:fs'
import { UsageError } from '../errors/cli.ts'
import { defaultModelBytes } from '../runtime/model/default.ts'

/** The bytes of a model given on the command line: a GGUF path, or 'default'. */
export function readModelFile(arg: string | undefined): Uint8Array {
  if (arg === undefined || arg === 'default') return defaultModelBytes()
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
