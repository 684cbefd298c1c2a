import { KernelError } from '../../errors/runtime.ts'
import type { Kernel, KernelKind } from './types.ts'
import { createTypeScriptKernel } from './typescript.ts'
import { createWasmKernel, wasmSimdAvailable } from './wasm.ts'

export type { Kernel, KernelKind } from './types.ts'
export { MAX_COLS } from './types.ts'
export { createTypeScriptKernel } from './typescript.ts'
export { createWasmKernel, wasmSimdAvailable } from './wasm.ts'

/**
 * Creates a kernel whose arena holds at least `arenaBytes` bytes.
 * 'auto' picks WebAssembly SIMD when the engine has it (not under `node --jitless`), else
 * TypeScript; 'wasm' throws `KernelError` when WebAssembly SIMD is unavailable.
 */
export function createKernel(kind: KernelKind, arenaBytes: number): Kernel {
  if (!Number.isSafeInteger(arenaBytes) || arenaBytes < 0)
    throw new KernelError(`arenaBytes must be a non-negative integer, got ${arenaBytes}`)
  switch (kind) {
    case 'typescript':
      return createTypeScriptKernel(arenaBytes)
    case 'wasm':
      return createWasmKernel(arenaBytes)
    case 'auto':
      return wasmSimdAvailable() ? createWasmKernel(arenaBytes) : createTypeScriptKernel(arenaBytes)
    default:
      throw new KernelError(`unknown kernel kind ${String(kind)}`, {
        details: "expected 'auto', 'wasm' or 'typescript'",
      })
  }
}
