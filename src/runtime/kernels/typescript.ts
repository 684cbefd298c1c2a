import { checkMatmul, checkPairs, createBumpAllocator } from './arena.ts'
import { sha256Of64 } from './sha256.ts'
import type { Kernel } from './types.ts'

/**
 * The plain TypeScript kernel: the fallback where WebAssembly is missing (`node --jitless`) and
 * the reference the WebAssembly kernel is checked against. Sums stay within int32 (|Σ| <= 2^30
 * for cols <= 65536), so `| 0` never wraps: it only keeps the engine on small-integer arithmetic.
 */
export function createTypeScriptKernel(arenaBytes: number): Kernel {
  const buffer = new ArrayBuffer(arenaBytes)
  const i8 = new Int8Array(buffer)
  const u8 = new Uint8Array(buffer)
  const i32 = new Int32Array(buffer, 0, Math.floor(arenaBytes / 4))
  return {
    name: 'typescript',
    buffer,
    i8,
    u8,
    i32,
    alloc: createBumpAllocator(0, arenaBytes),
    matvecI8(wPtr, rows, cols, xPtr, accPtr) {
      checkMatmul(arenaBytes, wPtr, rows, cols, xPtr, 1, accPtr)
      const acc = accPtr >>> 2
      let r = 0
      for (; r + 4 <= rows; r += 4) dot4(i8, i32, wPtr + r * cols, cols, xPtr, acc + r)
      for (; r < rows; r++) i32[acc + r] = dot1(i8, wPtr + r * cols, cols, xPtr)
    },
    matmulI8(wPtr, rows, cols, xPtr, n, accPtr) {
      checkMatmul(arenaBytes, wPtr, rows, cols, xPtr, n, accPtr)
      const acc = accPtr >>> 2
      // Row groups outside, vectors inside: a group of weight rows stays in cache for all n inputs.
      let r = 0
      for (; r + 4 <= rows; r += 4) {
        const w = wPtr + r * cols
        for (let v = 0; v < n; v++) dot4(i8, i32, w, cols, xPtr + v * cols, acc + v * rows + r)
      }
      for (; r < rows; r++) {
        const w = wPtr + r * cols
        for (let v = 0; v < n; v++) i32[acc + v * rows + r] = dot1(i8, w, cols, xPtr + v * cols)
      }
    },
    sha256Pairs(inPtr, count, outPtr) {
      checkPairs(arenaBytes, inPtr, count, outPtr)
      for (let i = 0; i < count; i++) sha256Of64(u8, inPtr + 64 * i, outPtr + 32 * i)
    },
  }
}

/** Four consecutive weight rows at `w` against one input vector; sums go to acc[a .. a+4). */
function dot4(i8: Int8Array, acc: Int32Array, w: number, cols: number, x: number, a: number): void {
  const w1 = w + cols
  const w2 = w1 + cols
  const w3 = w2 + cols
  let s0 = 0
  let s1 = 0
  let s2 = 0
  let s3 = 0
  for (let j = 0; j < cols; j++) {
    const xj = i8[x + j] as number
    s0 = (s0 + (i8[w + j] as number) * xj) | 0
    s1 = (s1 + (i8[w1 + j] as number) * xj) | 0
    s2 = (s2 + (i8[w2 + j] as number) * xj) | 0
    s3 = (s3 + (i8[w3 + j] as number) * xj) | 0
  }
  acc[a] = s0
  acc[a + 1] = s1
  acc[a + 2] = s2
  acc[a + 3] = s3
}

function dot1(i8: Int8Array, w: number, cols: number, x: number): number {
  let s = 0
  for (let j = 0; j < cols; j++) s = (s + (i8[w + j] as number) * (i8[x + j] as number)) | 0
  return s
}
