import { existsSync } from 'node:fs'
import { createRequire } from 'node:module'
import { fileURLToPath } from 'node:url'
import { EXP2_TABLE } from '../runtime/fixed/exp.ts'
import type { KernelOps } from '../runtime/kernels/types.ts'

/**
 * The native int8 kernel (native/kernels.cc, built at install by scripts/build-native.mjs): the
 * same exact int32 sums as the WebAssembly kernel, streamed about twice as fast on x86 with AVX2.
 * It computes over the arena the WebAssembly memory already holds, so the rest of the runtime,
 * and the bits, do not change. VERITY_NATIVE=0 turns it off (the WebAssembly kernel is used).
 */
export type NativeKernel = {
  /** acc[v * stride + r] = Σ_j w[r * cols + j] · x[v * cols + j], byte offsets into `arena` but stride (int32s). */
  matmul(
    arena: Int8Array,
    w: number,
    rows: number,
    cols: number,
    x: number,
    n: number,
    acc: number,
    stride: number,
  ): void
  /** 'avx2' or 'portable'. */
  isa(): string
  /** Hands the runtime's exp table (src/runtime/fixed/exp.ts) to the element-wise ops. */
  setExpTable?(table: Int32Array): void
} & Partial<KernelOps>

const OPS = [
  'swiglu',
  'attentionScores',
  'softmaxRows',
  'attentionMix',
  'quantizeActivation',
  'requantize',
  'rmsnorm',
] as const

/**
 * The native element-wise ops (native/ops.cc), or undefined when the built addon predates them
 * (built before an update, without reinstalling): the TypeScript ops then serve.
 */
export function nativeOps(native: NativeKernel): KernelOps | undefined {
  if (!native.setExpTable || OPS.some((op) => typeof native[op] !== 'function')) return undefined
  return native as KernelOps
}

/** Where the built addon lives; worker threads load it from this path too. */
export const NATIVE_KERNEL_PATH = fileURLToPath(
  new URL('../../native/build/verity-kernels.node', import.meta.url),
)

let loaded: NativeKernel | null | undefined

/** The native kernel, or null when it is not built or VERITY_NATIVE=0. */
export function nativeKernel(): NativeKernel | null {
  if (loaded === undefined) {
    loaded = null
    if (process.env.VERITY_NATIVE !== '0' && existsSync(NATIVE_KERNEL_PATH)) {
      try {
        loaded = createRequire(import.meta.url)(NATIVE_KERNEL_PATH) as NativeKernel
        loaded.setExpTable?.(EXP2_TABLE)
      } catch {
        // A file built for another platform or Node: the WebAssembly kernel serves instead.
        loaded = null
      }
    }
  }
  return loaded
}
