/**
 * Kernel throughput, single thread: G multiply-adds/s for int8 matvec/matmul and MB/s (input) for
 * sha256Pairs, TypeScript vs WebAssembly SIMD; best of many short batches after warm-up. `node bin/run-ts.js bench/kernels.bench.ts [--json]`
 */
import { performance } from 'node:perf_hooks'
import { createKernel, type Kernel } from '../src/runtime/kernels/index.ts'

const MIN_SECONDS = Number(process.env.BENCH_SECONDS ?? 0.6)
const BATCH_MS = 5

/**
 * Seconds per call: the fastest of many short batches (robust against other processes on a
 * shared machine). Warms up first: V8 runs WebAssembly in its baseline tier until hot.
 */
function time(fn: () => void): number {
  const warm = performance.now()
  let calls = 0
  while (performance.now() - warm < 300) {
    fn()
    calls++
  }
  const perBatch = Math.max(1, Math.round((calls * BATCH_MS) / 300))
  let best = Number.POSITIVE_INFINITY
  const start = performance.now()
  while (performance.now() - start < MIN_SECONDS * 1000) {
    const t0 = performance.now()
    for (let i = 0; i < perBatch; i++) fn()
    best = Math.min(best, performance.now() - t0)
  }
  return best / 1000 / perBatch
}

function fillRandom(k: Kernel, ptr: number, bytes: number, seed: number): void {
  let s = seed
  for (let i = 0; i < bytes; i++) {
    s = (Math.imul(s, 1103515245) + 12345) | 0
    k.u8[ptr + i] = s >>> 24
  }
}

type Row = { case: string; unit: string; typescript: number; wasm: number }
const rows: Row[] = []
const kinds = ['typescript', 'wasm'] as const

const matCases: [string, number, number, number][] = [
  ['matvec 288x288', 288, 288, 1],
  ['matvec 768x288', 768, 288, 1],
  ['matvec 32000x288', 32000, 288, 1],
  ['matmul 288x288 n=16', 288, 288, 16],
  ['matmul 768x288 n=16', 768, 288, 16],
  ['matmul 32000x288 n=16', 32000, 288, 16],
]
for (const [name, r, c, n] of matCases) {
  const result = { case: name, unit: 'G MAC/s', typescript: 0, wasm: 0 }
  for (const kind of kinds) {
    const k = createKernel(kind, r * c + n * c + 4 * n * r + 1024)
    const w = k.alloc(r * c)
    const x = k.alloc(n * c)
    const acc = k.alloc(4 * n * r)
    fillRandom(k, w, r * c, 1)
    fillRandom(k, x, n * c, 2)
    const seconds =
      n === 1 ? time(() => k.matvecI8(w, r, c, x, acc)) : time(() => k.matmulI8(w, r, c, x, n, acc))
    result[kind === 'wasm' ? 'wasm' : 'typescript'] = (r * c * n) / seconds / 1e9
  }
  rows.push(result)
}

{
  const count = 4096
  const result = { case: `sha256Pairs x${count}`, unit: 'MB/s', typescript: 0, wasm: 0 }
  for (const kind of kinds) {
    const k = createKernel(kind, 96 * count)
    const inPtr = k.alloc(64 * count)
    const outPtr = k.alloc(32 * count)
    fillRandom(k, inPtr, 64 * count, 3)
    const seconds = time(() => k.sha256Pairs(inPtr, count, outPtr))
    result[kind === 'wasm' ? 'wasm' : 'typescript'] = (64 * count) / seconds / 1e6
  }
  rows.push(result)
}

if (process.argv.includes('--json')) {
  console.log(JSON.stringify(rows))
} else {
  const fmt = (v: number) => (v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v.toFixed(2))
  console.log(`kernels, single thread, node ${process.version}`)
  console.log(
    `${'case'.padEnd(24)}${'unit'.padEnd(9)}${'typescript'.padStart(11)}${'wasm-simd'.padStart(11)}${'ratio'.padStart(8)}`,
  )
  for (const r of rows)
    console.log(
      `${r.case.padEnd(24)}${r.unit.padEnd(9)}${fmt(r.typescript).padStart(11)}${fmt(r.wasm).padStart(11)}${`${(r.wasm / r.typescript).toFixed(1)}x`.padStart(8)}`,
    )
}
