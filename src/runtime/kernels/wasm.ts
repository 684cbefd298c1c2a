import { KernelError } from '../../errors/runtime.ts'
import { checkMatmul, checkPairs, createBumpAllocator } from './arena.ts'
import { SHA256_TABLES } from './sha256.ts'
import type { Kernel } from './types.ts'
import { KERNELS_SHARED_WASM_BASE64, KERNELS_WASM_BASE64 } from './wasm/kernels.wasm.ts'

/** The slice of the WebAssembly JS API we use (the project's lib has no DOM types). */
type WasmMemory = { readonly buffer: ArrayBuffer }
type WasmApi = {
  validate(bytes: Uint8Array): boolean
  Module: new (bytes: Uint8Array) => object
  Instance: new (module: object, imports: object) => { readonly exports: Record<string, unknown> }
  Memory: new (descriptor: { initial: number; maximum: number; shared?: boolean }) => WasmMemory
}
type Exports = {
  matvec(w: number, rows: number, cols: number, x: number, acc: number): void
  matmul(w: number, rows: number, cols: number, x: number, n: number, acc: number): void
  matmul_strided(
    w: number,
    rows: number,
    cols: number,
    x: number,
    n: number,
    acc: number,
    stride: number,
  ): void
  sha256_pairs(inPtr: number, count: number, outPtr: number): void
}

/** Bytes [0, RESERVED) of the memory belong to the kernels (see kernels.wat). */
const RESERVED = 4096
const PAGE = 65536
const MAX_PAGES = 65536

let bytes: Uint8Array | undefined
let compiled: object | null | undefined
let compiledShared: object | undefined

function decode(base64: string): Uint8Array {
  const text = atob(base64)
  const out = new Uint8Array(text.length)
  for (let i = 0; i < text.length; i++) out[i] = text.charCodeAt(i)
  return out
}

function wasmApi(): WasmApi | undefined {
  return (globalThis as { WebAssembly?: WasmApi }).WebAssembly
}

function binary(): Uint8Array {
  bytes ??= decode(KERNELS_WASM_BASE64)
  return bytes
}

/** The compiled module, or null when this engine has no WebAssembly or no SIMD. */
function wasmModule(): object | null {
  if (compiled === undefined) {
    const api = wasmApi()
    compiled = api?.validate(binary()) ? new api.Module(binary()) : null
  }
  return compiled
}

/** Whether this engine can run the WebAssembly SIMD kernel (false under `node --jitless`). */
export function wasmSimdAvailable(): boolean {
  try {
    return wasmModule() !== null
  } catch {
    return false
  }
}

/**
 * The WebAssembly SIMD kernel. Its arena is the module's memory, created with exactly the pages
 * needed for 4 KiB of kernel tables and scratch plus `arenaBytes`, and never grown, so typed-array views stay valid.
 */
export function createWasmKernel(arenaBytes: number): Kernel {
  return instantiate(arenaBytes, false).kernel
}

/**
 * The same kernel over a shared memory (a SharedArrayBuffer arena), with the memory and the
 * compiled module that worker threads instantiate to compute bands of rows of the same products
 * (src/parallel). `matmulBand` is matmul for rows [r0, r1) of a product whose output has `rows`
 * rows (acc keeps its full layout).
 */
export function createSharedWasmKernel(arenaBytes: number): {
  kernel: Kernel
  memory: object
  module: object
  matvecBand(w: number, r0: number, r1: number, cols: number, x: number, acc: number): void
  matmulBand(
    w: number,
    rows: number,
    r0: number,
    r1: number,
    cols: number,
    x: number,
    n: number,
    acc: number,
  ): void
} {
  const { kernel, memory, module, exports } = instantiate(arenaBytes, true)
  return {
    kernel,
    memory,
    module,
    matvecBand: (w, r0, r1, cols, x, acc) =>
      exports.matvec(w + r0 * cols, r1 - r0, cols, x, acc + 4 * r0),
    matmulBand: (w, rows, r0, r1, cols, x, n, acc) =>
      exports.matmul_strided(w + r0 * cols, r1 - r0, cols, x, n, acc + 4 * r0, rows),
  }
}

function instantiate(
  arenaBytes: number,
  shared: boolean,
): { kernel: Kernel; memory: WasmMemory; module: object; exports: Exports } {
  const api = wasmApi()
  if (!api)
    throw new KernelError('WebAssembly is not available in this engine', {
      details: "node --jitless has no WebAssembly; use createKernel('auto' | 'typescript')",
    })
  let module = wasmModule()
  if (!module)
    throw new KernelError('WebAssembly SIMD is not supported by this engine', {
      details: "use createKernel('auto' | 'typescript')",
    })
  if (shared) {
    compiledShared ??= new api.Module(decode(KERNELS_SHARED_WASM_BASE64))
    module = compiledShared
  }
  const pages = Math.max(1, Math.ceil((RESERVED + arenaBytes) / PAGE))
  if (pages > MAX_PAGES)
    throw new KernelError(`arena of ${arenaBytes} bytes exceeds the 4 GiB WebAssembly memory`)
  let memory: WasmMemory
  try {
    memory = new api.Memory({ initial: pages, maximum: pages, ...(shared ? { shared } : {}) })
  } catch (cause) {
    throw new KernelError(`cannot allocate a WebAssembly memory of ${pages} pages`, { cause })
  }
  const exports = new api.Instance(module, { env: { memory } }).exports as unknown as Exports
  const buffer = memory.buffer as ArrayBuffer
  const size = buffer.byteLength
  const view = new DataView(buffer)
  const { K, KW_PAD, IV } = SHA256_TABLES
  for (let i = 0; i < 64; i++) {
    view.setInt32(4 * i, K[i] as number, true)
    view.setInt32(256 + 4 * i, KW_PAD[i] as number, true)
    for (let lane = 0; lane < 4; lane++)
      view.setInt32(2048 + 16 * i + 4 * lane, KW_PAD[i] as number, true)
  }
  for (let i = 0; i < 8; i++) view.setInt32(768 + 4 * i, IV[i] as number, true)
  const { matvec, matmul, sha256_pairs } = exports
  const kernel: Kernel = {
    name: 'wasm-simd',
    buffer,
    i8: new Int8Array(buffer),
    u8: new Uint8Array(buffer),
    i32: new Int32Array(buffer),
    alloc: createBumpAllocator(RESERVED, size),
    matvecI8(wPtr, rows, cols, xPtr, accPtr) {
      checkMatmul(size, wPtr, rows, cols, xPtr, 1, accPtr)
      matvec(wPtr, rows, cols, xPtr, accPtr)
    },
    matmulI8(wPtr, rows, cols, xPtr, n, accPtr) {
      checkMatmul(size, wPtr, rows, cols, xPtr, n, accPtr)
      matmul(wPtr, rows, cols, xPtr, n, accPtr)
    },
    sha256Pairs(inPtr, count, outPtr) {
      checkPairs(size, inPtr, count, outPtr)
      sha256_pairs(inPtr, count, outPtr)
    },
  }
  return { kernel, memory, module, exports }
}
