import { createHash } from 'node:crypto'
import { closeSync, fstatSync, openSync, readFileSync, readSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { sha256 } from '@noble/hashes/sha2.js'
import { UsageError } from '../errors/cli.ts'
import { createThreadedKernel, defaultThreads } from '../parallel/kernel.ts'
import { nativeKernel } from '../parallel/native.ts'
import type { ByteSource } from '../runtime/gguf/source.ts'
import type { KernelKind } from '../runtime/kernels/types.ts'
import { wasmSimdAvailable } from '../runtime/kernels/wasm.ts'
import { loadModel, type Model } from '../runtime/model/load.ts'

/**
 * The default model: verity-tiny, trained by the project on the King James Bible and committed
 * (scripts/train-model.ts; docs/MODEL.md). A 1.33M-parameter demo, not a model to talk to.
 */
export const DEFAULT_MODEL_PATH = join(import.meta.dirname, '../../models/verity-tiny.gguf')

/** A model file open for reading: the runtime pulls byte ranges from it (no whole-file buffer). */
export type ModelFile = ByteSource & {
  readonly path: string
  /** sha256 of the whole file, read in chunks (the model registry records it). */
  sha256(): Uint8Array
  close(): void
}

function resolve(arg: string | undefined): string {
  const path = arg === undefined || arg === 'default' ? DEFAULT_MODEL_PATH : arg
  try {
    if (!statSync(path).isFile()) throw new UsageError(`model '${path}' is not a file`)
  } catch (error) {
    if (error instanceof UsageError) throw error
    throw new UsageError(
      `model file '${path}' cannot be read (${(error as NodeJS.ErrnoException).code ?? 'error'})`,
    )
  }
  return path
}

/**
 * Opens a model given on the command line (a GGUF path, or 'default') as a ByteSource that reads
 * with positioned reads into one reused buffer: loading a model of any size holds only the
 * chunk being decoded, so files over 2 GiB load and peak memory stays near the int8 weights.
 */
export function openModelFile(arg: string | undefined): ModelFile {
  const path = resolve(arg)
  const fd = openSync(path, 'r')
  const size = fstatSync(fd).size
  let buffer = new Uint8Array(1 << 20)
  const read = (offset: number, length: number): Uint8Array => {
    if (
      !Number.isSafeInteger(offset) ||
      !Number.isSafeInteger(length) ||
      offset < 0 ||
      length < 0 ||
      offset + length > size
    )
      throw new RangeError(`read [${offset}, +${length}) is outside '${path}' (${size} bytes)`)
    if (length > buffer.length) buffer = new Uint8Array(Math.max(length, 2 * buffer.length))
    for (let done = 0; done < length; ) {
      const n = readSync(fd, buffer, done, length - done, offset + done)
      if (n === 0) throw new RangeError(`'${path}' ended at ${offset + done} while reading`)
      done += n
    }
    return buffer.subarray(0, length)
  }
  return {
    path,
    size,
    read,
    sha256() {
      const h = sha256.create()
      for (let at = 0; at < size; at += 1 << 24) h.update(read(at, Math.min(1 << 24, size - at)))
      return h.digest()
    },
    close: () => closeSync(fd),
  }
}

/** The bytes of a small model file given on the command line (a GGUF path, or 'default'). */
export function readModelFile(arg: string | undefined): Uint8Array {
  const file = openModelFile(arg)
  try {
    return file.read(0, file.size).slice()
  } finally {
    file.close()
  }
}

/** OpenSSL's sha256 for the weight leaves: the same digests, several times faster than JavaScript. */
export function nativeSha256(bytes: Uint8Array): Uint8Array {
  return new Uint8Array(createHash('sha256').update(bytes).digest())
}

/**
 * Peak resident memory of this process so far, in MiB (what `verity model info` reports). On Linux
 * it is /proc/self/status's VmHWM: getrusage's maxRSS survives exec, so a process started by a
 * large parent would report the parent's size.
 */
export function peakRssMiB(): number {
  let kib = process.resourceUsage().maxRSS
  try {
    const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'))
    if (m) kib = Number(m[1])
  } catch {
    // not Linux: maxRSS it is
  }
  return Math.round((kib / 1024) * 10) / 10
}

/**
 * Loads the model named on the command line, reading the file in chunks, with its products on
 * `threads` threads over shared memory, computed by the native kernel where it is built
 * (`--kernel auto`) or by WebAssembly (`--kernel wasm`, or no native build); the same bits
 * either way. Without a count: every core, or one where there is no WebAssembly SIMD or the
 * TypeScript kernel is asked for.
 */
export function loadModelFile(
  arg: string | undefined,
  options: { threads?: number | undefined; kernel?: KernelKind } = {},
): Model {
  const kernel = options.kernel ?? 'auto'
  const threads =
    options.threads ?? (kernel === 'typescript' || !wasmSimdAvailable() ? 1 : defaultThreads())
  if (threads > 1 && kernel === 'typescript')
    throw new UsageError('--threads above 1 needs the WebAssembly kernel (--kernel auto or wasm)')
  const file = openModelFile(arg)
  try {
    return loadModel(file, {
      kernel,
      sha256: nativeSha256,
      ...(threads > 1 || (kernel === 'auto' && nativeKernel() && wasmSimdAvailable())
        ? {
            createKernel: (bytes: number) =>
              createThreadedKernel(bytes, threads, kernel === 'auto' ? {} : { native: false }),
          }
        : {}),
    })
  } finally {
    file.close()
  }
}

/** The --threads flag: an integer in 1..256, or undefined (loadModelFile then uses every core). */
export function threadsFlag(flags: Record<string, unknown>): number | undefined {
  const value = flags.threads
  if (value === undefined) return undefined
  const n = Number(value)
  if (!Number.isSafeInteger(n) || n < 1 || n > 256)
    throw new UsageError(`--threads must be an integer from 1 to 256, got '${String(value)}'`)
  return n
}
