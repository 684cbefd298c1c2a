/**
 * The runtime's hot loops behind one interface: int8 matrix-vector products with exact int32
 * accumulation, and sha256 over 64-byte messages (Merkle internal nodes). Every implementation
 * must give the same bits; `kernel.case.ts` is the conformance suite they all pass.
 */
export interface Kernel {
  readonly name: 'wasm-simd' | 'typescript' | 'native'
  /** The arena: weights and scratch live here; byte offsets below index into it. Never grows after creation. */
  readonly buffer: ArrayBuffer
  readonly i8: Int8Array
  readonly u8: Uint8Array
  readonly i32: Int32Array
  /** Bump allocator over the arena; returns a byte offset aligned to `align` (default 16). Throws a clear error when full. */
  alloc(bytes: number, align?: number): number
  /** acc[r] = Σ_{j<cols} w[wPtr + r*cols + j] * x[xPtr + j] for r < rows, as exact int32 written at accPtr (byte offset, 4-aligned). w and x are int8. Requires cols <= 65536. */
  matvecI8(wPtr: number, rows: number, cols: number, xPtr: number, accPtr: number): void
  /** The same for n input vectors stored consecutively at xPtr (n*cols int8); acc is n×rows int32, row-major by vector. Reuses each weight row across the n vectors (prefill). */
  matmulI8(wPtr: number, rows: number, cols: number, xPtr: number, n: number, accPtr: number): void
  /** For i < count: out[i] (32 bytes at outPtr + 32*i) = sha256(in[64 bytes at inPtr + 64*i]). One Merkle level: in = children pairs. */
  sha256Pairs(inPtr: number, count: number, outPtr: number): void
}

export type KernelKind = 'auto' | 'wasm' | 'typescript'

/** Largest `cols` a matvec accepts: keeps every int32 sum exact (|Σ| <= 65536 * 128 * 128 = 2^30). */
export const MAX_COLS = 65536
