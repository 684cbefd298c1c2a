import { KernelError } from '../../errors/runtime.ts'
import { MAX_COLS } from './types.ts'

/**
 * A bump allocator over `[start, end)` of an arena. Returns byte offsets aligned to `align`
 * (a power of two, default 16); throws `KernelError` when the arena is full.
 */
export function createBumpAllocator(
  start: number,
  end: number,
): (bytes: number, align?: number) => number {
  let top = start
  return (bytes, align = 16) => {
    if (!Number.isSafeInteger(bytes) || bytes < 0)
      throw new KernelError(`alloc: bytes must be a non-negative integer, got ${bytes}`)
    if (!Number.isSafeInteger(align) || align < 1 || (align & (align - 1)) !== 0)
      throw new KernelError(`alloc: align must be a power of two, got ${align}`)
    const offset = Math.ceil(top / align) * align
    if (offset + bytes > end)
      throw new KernelError(`alloc: arena full: ${bytes} bytes requested, ${end - top} left`, {
        details: `arena ends at byte ${end}; pass a larger arenaBytes to createKernel`,
      })
    top = offset + bytes
    return offset
  }
}

function isIndex(v: number): boolean {
  return Number.isSafeInteger(v) && v >= 0
}

/** Rejects shapes and pointers that would read or write outside the arena (O(1), once per call). */
export function checkMatmul(
  byteLength: number,
  wPtr: number,
  rows: number,
  cols: number,
  xPtr: number,
  n: number,
  accPtr: number,
): void {
  if (!isIndex(wPtr) || !isIndex(rows) || !isIndex(cols) || !isIndex(xPtr) || !isIndex(n))
    throw new KernelError('matmul: pointers and sizes must be non-negative integers', {
      details: `wPtr=${wPtr} rows=${rows} cols=${cols} xPtr=${xPtr} n=${n}`,
    })
  if (cols > MAX_COLS) throw new KernelError(`matmul: cols ${cols} exceeds ${MAX_COLS}`)
  if (!isIndex(accPtr) || accPtr % 4 !== 0)
    throw new KernelError(`matmul: accPtr must be a 4-aligned byte offset, got ${accPtr}`)
  if (wPtr + rows * cols > byteLength || xPtr + n * cols > byteLength)
    throw new KernelError('matmul: weights or inputs extend past the arena', {
      details: `w=[${wPtr}, +${rows * cols}) x=[${xPtr}, +${n * cols}) arena=${byteLength}`,
    })
  if (accPtr + 4 * n * rows > byteLength)
    throw new KernelError('matmul: output extends past the arena', {
      details: `acc=[${accPtr}, +${4 * n * rows}) arena=${byteLength}`,
    })
}

/** Rejects a sha256Pairs call that would read or write outside the arena. */
export function checkPairs(byteLength: number, inPtr: number, count: number, outPtr: number): void {
  if (!isIndex(inPtr) || !isIndex(count) || !isIndex(outPtr))
    throw new KernelError('sha256Pairs: pointers and count must be non-negative integers', {
      details: `inPtr=${inPtr} count=${count} outPtr=${outPtr}`,
    })
  if (inPtr + 64 * count > byteLength || outPtr + 32 * count > byteLength)
    throw new KernelError('sha256Pairs: input or output extends past the arena', {
      details: `in=[${inPtr}, +${64 * count}) out=[${outPtr}, +${32 * count}) arena=${byteLength}`,
    })
}
