import { execFileSync } from 'node:child_process'
import { describe, expect, it } from 'vitest'
import { buildWasmModule, readCommittedWasmModule } from '../../../scripts/build-wasm.ts'
import { KernelError } from '../../errors/runtime.ts'
import { createKernel, wasmSimdAvailable } from './index.ts'
import { rng, runKernelCases } from './kernel.case.ts'

runKernelCases({ name: 'typescript', create: (bytes) => createKernel('typescript', bytes) })
runKernelCases({ name: 'wasm-simd', create: (bytes) => createKernel('wasm', bytes) })

describe('createKernel', () => {
  it("'auto' picks WebAssembly SIMD here; each kind reports its name", () => {
    expect(wasmSimdAvailable()).toBe(true)
    expect(createKernel('auto', 1024).name).toBe('wasm-simd')
    expect(createKernel('wasm', 1024).name).toBe('wasm-simd')
    expect(createKernel('typescript', 1024).name).toBe('typescript')
  })

  it('sizes the WebAssembly memory to whole pages and never less than asked', () => {
    const k = createKernel('wasm', 30 << 20)
    expect(k.buffer.byteLength % 65536).toBe(0)
    expect(k.buffer.byteLength).toBeGreaterThanOrEqual((30 << 20) + 4096)
    expect(k.buffer.byteLength).toBeLessThan((30 << 20) + 4096 + 65536)
    expect(k.alloc(30 << 20)).toBeGreaterThanOrEqual(4096)
  })

  it('rejects bad kinds and arena sizes with KernelError', () => {
    expect(() => createKernel('gpu' as never, 1024)).toThrow(KernelError)
    expect(() => createKernel('typescript', -1)).toThrow(KernelError)
    expect(() => createKernel('wasm', 2 ** 33)).toThrow(KernelError)
  })

  it("under node --jitless: 'auto' falls back to TypeScript silently, 'wasm' is a clear error", () => {
    const script = `
      const { createKernel } = await import('./src/runtime/kernels/index.ts')
      const k = createKernel('auto', 4096)
      let wasm = ''
      try { createKernel('wasm', 4096) } catch (e) { wasm = e.name + ': ' + e.shortMessage }
      process.stdout.write(JSON.stringify({ hasWasm: typeof WebAssembly, auto: k.name, wasm }))`
    const out = execFileSync(
      process.execPath,
      ['--jitless', '--import', 'tsx', '--input-type=module', '-e', script],
      { encoding: 'utf8' },
    )
    expect(JSON.parse(out)).toEqual({
      hasWasm: 'undefined',
      auto: 'typescript',
      wasm: 'KernelError: WebAssembly is not available in this engine',
    })
  })
})

describe('TypeScript and WebAssembly kernels agree bit for bit', () => {
  it('on the same arena contents (model-like shapes and random shapes)', () => {
    const next = rng(0x7e57)
    const shapes: [number, number, number][] = [
      [288, 288, 1],
      [768, 288, 3],
      [288, 768, 16],
      [1000, 999, 9],
      [33, 65536, 2],
    ]
    for (let t = 0; t < 20; t++)
      shapes.push([1 + (next() % 700), 1 + (next() % 700), 1 + (next() % 9)])
    for (const [rows, cols, n] of shapes) {
      const w = new Int8Array(rows * cols).map(() => (next() & 0xff) - 128)
      const x = new Int8Array(n * cols).map(() => (next() & 0xff) - 128)
      const results = (['typescript', 'wasm'] as const).map((kind) => {
        const k = createKernel(kind, rows * cols + n * cols + 4 * n * rows + 64)
        const [wPtr, xPtr, accPtr] = [
          k.alloc(rows * cols),
          k.alloc(n * cols),
          k.alloc(4 * n * rows),
        ]
        k.i8.set(w, wPtr)
        k.i8.set(x, xPtr)
        k.matmulI8(wPtr, rows, cols, xPtr, n, accPtr)
        const all = k.i32.slice(accPtr >> 2, (accPtr >> 2) + n * rows)
        k.matvecI8(wPtr, rows, cols, xPtr + (n - 1) * cols, accPtr)
        return [all, k.i32.slice(accPtr >> 2, (accPtr >> 2) + rows)]
      })
      expect(results[1]).toEqual(results[0])
    }
  })

  it('on sha256Pairs over a whole Merkle tree', () => {
    const leaves = 1024
    const roots = (['typescript', 'wasm'] as const).map((kind) => {
      const k = createKernel(kind, 64 * leaves)
      const p = k.alloc(32 * leaves)
      const r = rng(9)
      for (let i = 0; i < 32 * leaves; i++) k.u8[p + i] = r() & 0xff
      for (let count = leaves / 2; count >= 1; count /= 2) k.sha256Pairs(p, count, p)
      return Buffer.from(k.u8.slice(p, p + 32)).toString('hex')
    })
    expect(roots[1]).toBe(roots[0])
  })
})

describe('generated kernels.wasm.ts', () => {
  it('is up to date with kernels.wat (run `npm run build:wasm` when this fails)', async () => {
    expect(await readCommittedWasmModule()).toBe(await buildWasmModule())
  })
})
