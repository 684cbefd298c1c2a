import { KernelError } from '../../errors/runtime.ts'
import type { Kernel } from './types.ts'

/** Whether this engine can run the WebAssembly SIMD kernel. */
export function wasmSimdAvailable(): boolean {
  return false
}

export function createWasmKernel(_arenaBytes: number): Kernel {
  throw new KernelError('the WebAssembly kernel is not built yet')
}
