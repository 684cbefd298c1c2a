/**
 * The conformance suite every `Kernel` implementation passes (hono's `common.case.test.ts`
 * pattern): results equal a naive reference bit for bit, and therefore equal each other.
 */
import { sha256 } from '@noble/hashes/sha2.js'
import { describe, expect, it } from 'vitest'
import { KernelError } from '../../errors/runtime.ts'
import type { Kernel } from './types.ts'

export type KernelCaseOptions = {
  name: string
  create: (arenaBytes: number) => Kernel
}

/** A small seeded PRNG (xorshift32) so failures reproduce. */
export function rng(seed: number): () => number {
  let s = seed | 0 || 1
  return () => {
    s ^= s << 13
    s ^= s >>> 17
    s ^= s << 5
    return s >>> 0
  }
}

/** acc[v*rows + r] = Σ_j w[r*cols + j] * x[v*cols + j], in plain numbers. */
export function naiveMatmul(
  w: Int8Array,
  rows: number,
  cols: number,
  x: Int8Array,
  n: number,
): Int32Array {
  const out = new Int32Array(n * rows)
  for (let v = 0; v < n; v++)
    for (let r = 0; r < rows; r++) {
      let s = 0
      for (let j = 0; j < cols; j++) s += (w[r * cols + j] as number) * (x[v * cols + j] as number)
      out[v * rows + r] = s
    }
  return out
}

type Fill = 'random' | 'min' | 'max' | 'mix' | 'alternating'

function fill(a: Int8Array, kind: Fill, next: () => number): void {
  for (let i = 0; i < a.length; i++) {
    const r = next()
    a[i] =
      kind === 'min'
        ? -128
        : kind === 'max'
          ? 127
          : kind === 'mix'
            ? r & 1
              ? -128
              : 127
            : kind === 'alternating'
              ? i & 1
                ? -128
                : 127
              : (r & 0xff) - 128
  }
}

const ARENA = 8 << 20

/** Runs shapes through matvecI8 (n = 1) or matmulI8 and compares with the naive reference. */
function checkShape(
  k: Kernel,
  rows: number,
  cols: number,
  n: number,
  wFill: Fill,
  xFill: Fill,
  next: () => number,
  useMatvec: boolean,
): void {
  k.alloc(next() % 16, 1) // unaligned weights and inputs too
  const wPtr = k.alloc(rows * cols, 1)
  k.alloc(next() % 16, 1)
  const xPtr = k.alloc(n * cols, 1)
  const accPtr = k.alloc(4 * n * rows + 16, 4)
  const w = k.i8.subarray(wPtr, wPtr + rows * cols)
  const x = k.i8.subarray(xPtr, xPtr + n * cols)
  fill(w, wFill, next)
  fill(x, xFill, next)
  // Poison the output plus a guard word after it, which must stay untouched.
  k.i32.fill(0x5a5a5a5a, accPtr >> 2, (accPtr >> 2) + n * rows + 4)
  if (useMatvec) k.matvecI8(wPtr, rows, cols, xPtr, accPtr)
  else k.matmulI8(wPtr, rows, cols, xPtr, n, accPtr)
  const got = k.i32.slice(accPtr >> 2, (accPtr >> 2) + n * rows)
  const want = naiveMatmul(w, rows, cols, x, n)
  expect(got, `rows=${rows} cols=${cols} n=${n} w=${wFill} x=${xFill}`).toEqual(want)
  expect(
    Array.from(k.i32.subarray((accPtr >> 2) + n * rows, (accPtr >> 2) + n * rows + 4)),
  ).toEqual([0x5a5a5a5a, 0x5a5a5a5a, 0x5a5a5a5a, 0x5a5a5a5a])
}

export function runKernelCases({ name, create }: KernelCaseOptions): void {
  describe(`kernel conformance: ${name}`, () => {
    it('reports its name and exposes views over one arena', () => {
      const k = create(1 << 16)
      expect(['wasm-simd', 'typescript', 'native']).toContain(k.name)
      expect(k.buffer.byteLength).toBeGreaterThanOrEqual(1 << 16)
      expect(k.i8.buffer).toBe(k.buffer)
      expect(k.u8.buffer).toBe(k.buffer)
      expect(k.i32.buffer).toBe(k.buffer)
      expect(k.u8.length).toBe(k.buffer.byteLength)
    })

    it('alloc aligns, never overlaps and throws KernelError when full', () => {
      const k = create(1 << 16)
      const a = k.alloc(3)
      expect(a % 16).toBe(0)
      const b = k.alloc(5, 64)
      expect(b % 64).toBe(0)
      expect(b).toBeGreaterThanOrEqual(a + 3)
      const c = k.alloc(1, 1)
      expect(c).toBeGreaterThanOrEqual(b + 5)
      const d = k.alloc(0, 4)
      expect(d % 4).toBe(0)
      expect(() => k.alloc(k.buffer.byteLength)).toThrow(KernelError)
      expect(() => k.alloc(k.buffer.byteLength)).toThrow(/arena full/)
      expect(() => k.alloc(8, 3)).toThrow(KernelError)
      expect(() => k.alloc(-1)).toThrow(KernelError)
      // A failed alloc leaves the allocator usable.
      expect(k.alloc(16) % 16).toBe(0)
    })

    it('alloc can hand out the whole requested arena', () => {
      const k = create(100_000)
      expect(() => k.alloc(100_000, 1)).not.toThrow()
    })

    it('rejects out-of-arena pointers and bad shapes with KernelError', () => {
      const k = create(1 << 16)
      const end = k.buffer.byteLength
      expect(() => k.matvecI8(end - 10, 1, 16, 0, 0)).toThrow(KernelError)
      expect(() => k.matvecI8(0, 1, 16, 0, 2)).toThrow(/4-aligned/)
      expect(() => k.matvecI8(0, 4, 16, 0, end - 8)).toThrow(KernelError)
      expect(() => k.matmulI8(0, 1, 16, end - 32, 4, 64)).toThrow(KernelError)
      expect(() => k.matvecI8(0, 1, 65537, 0, 0)).toThrow(/65536/)
      expect(() => k.matvecI8(0, 1.5, 16, 0, 0)).toThrow(KernelError)
      expect(() => k.sha256Pairs(end - 64, 2, 0)).toThrow(KernelError)
      expect(() => k.sha256Pairs(0, 1, end - 16)).toThrow(KernelError)
    })

    it('matvecI8 equals the naive reference on random shapes (rows, cols 1..1000)', () => {
      const next = rng(0x5eed)
      for (let t = 0; t < 60; t++) {
        const k = create(ARENA)
        const rows = 1 + (next() % 1000)
        const cols = 1 + (next() % 1000)
        checkShape(k, rows, cols, 1, 'random', 'random', next, true)
      }
    })

    it('matvecI8 handles every cols remainder mod 16 and small row counts', () => {
      const next = rng(7)
      const k = create(ARENA)
      for (let cols = 1; cols <= 80; cols++)
        for (const rows of [1, 2, 3, 4, 5, 7, 8, 9])
          checkShape(k, rows, cols, 1, 'random', 'random', next, true)
    })

    it('matvecI8 is exact at the extremes (all -128, all 127, mixes) up to cols = 65536', () => {
      const next = rng(99)
      const fills: Fill[] = ['min', 'max', 'mix', 'alternating', 'random']
      for (const wf of fills)
        for (const xf of fills) {
          const k = create(ARENA)
          checkShape(k, 9, 1000, 1, wf, xf, next, true)
        }
      // The largest sums: 65536 * (-128)(-128) = 2^30 and 65536 * (-128)(127).
      for (const [wf, xf] of [
        ['min', 'min'],
        ['min', 'max'],
        ['max', 'max'],
        ['mix', 'alternating'],
      ] as const) {
        const k = create(ARENA)
        checkShape(k, 5, 65536, 1, wf, xf, next, true)
      }
      const k = create(ARENA)
      const wPtr = k.alloc(65536)
      const xPtr = k.alloc(65536)
      const accPtr = k.alloc(4)
      k.i8.fill(-128, wPtr, wPtr + 65536)
      k.i8.fill(-128, xPtr, xPtr + 65536)
      k.matvecI8(wPtr, 1, 65536, xPtr, accPtr)
      expect(k.i32[accPtr >> 2]).toBe(2 ** 30)
    })

    it('matmulI8 equals the naive reference on random shapes (n 1..9)', () => {
      const next = rng(0xabc)
      for (let t = 0; t < 40; t++) {
        const k = create(ARENA)
        const rows = 1 + (next() % 1000)
        const cols = 1 + (next() % 1000)
        const n = 1 + (next() % 9)
        checkShape(k, rows, cols, n, 'random', 'random', next, false)
      }
      const k = create(ARENA)
      for (let n = 1; n <= 9; n++)
        for (const [rows, cols] of [
          [1, 1],
          [3, 17],
          [4, 16],
          [5, 33],
          [13, 100],
        ] as const)
          checkShape(k, rows, cols, n, 'random', 'random', next, false)
    })

    it('matmulI8 is exact at the extremes', () => {
      const next = rng(3)
      for (const [wf, xf] of [
        ['min', 'min'],
        ['max', 'min'],
        ['mix', 'mix'],
        ['alternating', 'max'],
      ] as const) {
        const k = create(ARENA)
        checkShape(k, 7, 4099, 9, wf, xf, next, false)
      }
    })

    it('matmulI8 with n = 1 equals matvecI8; empty shapes write nothing', () => {
      const next = rng(11)
      const k = create(ARENA)
      const [rows, cols] = [37, 291]
      const w = k.alloc(rows * cols)
      const x = k.alloc(cols)
      const a = k.alloc(4 * rows)
      const b = k.alloc(4 * rows)
      fill(k.i8.subarray(w, w + rows * cols), 'random', next)
      fill(k.i8.subarray(x, x + cols), 'random', next)
      k.matvecI8(w, rows, cols, x, a)
      k.matmulI8(w, rows, cols, x, 1, b)
      expect(k.i32.slice(b >> 2, (b >> 2) + rows)).toEqual(k.i32.slice(a >> 2, (a >> 2) + rows))
      k.i32.fill(-1, a >> 2, (a >> 2) + rows)
      k.matvecI8(w, 0, cols, x, a)
      k.matmulI8(w, rows, cols, x, 0, a)
      expect(k.i32[a >> 2]).toBe(-1)
      k.matvecI8(w, rows, 0, x, a)
      expect(Array.from(k.i32.subarray(a >> 2, (a >> 2) + rows))).toEqual(Array(rows).fill(0))
    })

    it('sha256Pairs equals @noble/hashes sha256 on random 64-byte messages', () => {
      const next = rng(42)
      const k = create(1 << 20)
      const count = 257
      const inPtr = k.alloc(64 * count, 1)
      const outPtr = k.alloc(32 * count + 32, 1)
      for (let i = 0; i < 64 * count; i++) k.u8[inPtr + i] = next() & 0xff
      k.u8.fill(0xee, outPtr + 32 * count, outPtr + 32 * count + 32)
      k.sha256Pairs(inPtr, count, outPtr)
      for (let i = 0; i < count; i++) {
        const want = sha256(k.u8.slice(inPtr + 64 * i, inPtr + 64 * i + 64))
        expect(k.u8.slice(outPtr + 32 * i, outPtr + 32 * i + 32), `message ${i}`).toEqual(want)
      }
      expect(Array.from(k.u8.subarray(outPtr + 32 * count, outPtr + 32 * count + 32))).toEqual(
        Array(32).fill(0xee),
      )
    })

    it('sha256Pairs is right for every count 0..12 (vector groups and scalar remainders)', () => {
      const next = rng(17)
      const k = create(1 << 16)
      const inPtr = k.alloc(64 * 12, 1)
      const outPtr = k.alloc(32 * 13, 1)
      for (let i = 0; i < 64 * 12; i++) k.u8[inPtr + i] = next() & 0xff
      for (let count = 0; count <= 12; count++) {
        k.u8.fill(0xee, outPtr, outPtr + 32 * 13)
        k.sha256Pairs(inPtr, count, outPtr)
        for (let i = 0; i < count; i++)
          expect(k.u8.slice(outPtr + 32 * i, outPtr + 32 * i + 32), `count ${count}`).toEqual(
            sha256(k.u8.slice(inPtr + 64 * i, inPtr + 64 * i + 64)),
          )
        expect(k.u8[outPtr + 32 * count]).toBe(0xee)
      }
    })

    it('sha256Pairs on fixed messages: zeros, ones, and a known vector', () => {
      const k = create(1 << 16)
      const inPtr = k.alloc(64 * 3)
      const outPtr = k.alloc(32 * 3)
      k.u8.fill(0, inPtr, inPtr + 64)
      k.u8.fill(0xff, inPtr + 64, inPtr + 128)
      for (let i = 0; i < 64; i++) k.u8[inPtr + 128 + i] = i
      k.sha256Pairs(inPtr, 3, outPtr)
      const hex = (p: number) => Buffer.from(k.u8.slice(p, p + 32)).toString('hex')
      // sha256 of 64 zero bytes (well known).
      expect(hex(outPtr)).toBe('f5a5fd42d16a20302798ef6ed309979b43003d2320d9f0e8ea9831a92759fb4b')
      for (let i = 0; i < 3; i++)
        expect(k.u8.slice(outPtr + 32 * i, outPtr + 32 * i + 32)).toEqual(
          sha256(k.u8.slice(inPtr + 64 * i, inPtr + 64 * i + 64)),
        )
      k.sha256Pairs(inPtr, 0, outPtr) // count 0 is a no-op
    })

    it('sha256Pairs builds a Merkle level in place (out overlapping in at lower addresses)', () => {
      const next = rng(5)
      const k = create(1 << 16)
      const count = 16
      const p = k.alloc(64 * count)
      for (let i = 0; i < 64 * count; i++) k.u8[p + i] = next() & 0xff
      const want = Array.from({ length: count }, (_, i) =>
        sha256(k.u8.slice(p + 64 * i, p + 64 * i + 64)),
      )
      k.sha256Pairs(p, count, p)
      for (let i = 0; i < count; i++)
        expect(k.u8.slice(p + 32 * i, p + 32 * i + 32)).toEqual(want[i])
    })
  })
}
