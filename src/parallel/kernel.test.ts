import { afterAll, describe, expect, it } from 'vitest'
import { trainedModelBytes } from '../../test/trained-model.ts'
import { generate } from '../runtime/generate.ts'
import { runKernelCases } from '../runtime/kernels/kernel.case.ts'
import { loadModel } from '../runtime/model/load.ts'
import { samplingParams } from '../runtime/sampler/sample.ts'
import { toHex } from '../runtime/trace/merkle.ts'
import { OpKind } from '../runtime/trace/ops.ts'
import { createThreadedKernel, type ThreadedKernel } from './kernel.ts'
import { nativeKernel } from './native.ts'

const opened: ThreadedKernel[] = []
const threaded =
  (threads: number, native = false) =>
  (bytes: number) => {
    // Every product goes to the workers, however small, so the bands are exercised.
    const k = createThreadedKernel(bytes, threads, { minParallelBytes: 0, native })
    opened.push(k)
    return k
  }
afterAll(async () => {
  await Promise.all(opened.map((k) => k.close()))
})

runKernelCases({ name: 'wasm-simd, 2 threads', create: threaded(2) })
runKernelCases({ name: 'wasm-simd, 3 threads', create: threaded(3) })
runKernelCases({ name: 'native, 1 thread', create: threaded(1, true) })
runKernelCases({ name: 'native, 3 threads', create: threaded(3, true) })

describe('native kernel', () => {
  it('is built by npm install on this machine (scripts/build-native.mjs)', () => {
    // The decode speed figures assume it; VERITY_NATIVE=0 is the only way to run without it.
    expect(process.env.VERITY_NATIVE === '0' || nativeKernel() !== null).toBe(true)
    expect(['avx2', 'portable']).toContain(nativeKernel()?.isa())
  })

  it("gives the WebAssembly kernel's exact sums on random and extreme rows of every length", () => {
    const wasm = threaded(1)(1 << 20)
    const native = threaded(1, true)(1 << 20)
    expect(native.name).toBe('native')
    expect(wasm.name).toBe('wasm-simd')
    let seed = 7
    const next = () => {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0
      return seed >>> 16
    }
    for (const cols of [1, 15, 16, 17, 63, 64, 65, 127, 200, 1000, 4099]) {
      for (const fill of ['random', 'min', 'max'] as const) {
        const rows = 9
        const n = 3
        for (const k of [wasm, native]) {
          const w = 4096
          const x = w + rows * cols + 16
          let s = seed
          for (let i = 0; i < rows * cols + n * cols; i++) {
            s = (Math.imul(s, 1103515245) + 12345) >>> 0
            const v = fill === 'random' ? ((s >>> 16) & 255) - 128 : fill === 'min' ? -128 : 127
            k.i8[(i < rows * cols ? w : x - rows * cols) + i] = v
          }
        }
        next()
        const acc = 4096 + rows * cols + 16 + n * cols + 64
        const accAligned = acc + ((4 - (acc % 4)) % 4)
        wasm.matmulI8(4096, rows, cols, 4096 + rows * cols + 16, n, accAligned)
        native.matmulI8(4096, rows, cols, 4096 + rows * cols + 16, n, accAligned)
        const a = Array.from(wasm.i32.subarray(accAligned / 4, accAligned / 4 + rows * n))
        const b = Array.from(native.i32.subarray(accAligned / 4, accAligned / 4 + rows * n))
        expect(b).toEqual(a)
        if (fill === 'min') expect(b[0]).toBe(cols * 128 * 128)
      }
    }
  })

  it('refuses ranges outside the arena and malformed calls with a clear error', () => {
    const native = nativeKernel()!
    const arena = new Int8Array(4096)
    expect(() => native.matmul(arena, 0, 64, 65, 0, 1, 0, 64)).toThrow(/extends past the arena/)
    expect(() => native.matmul(arena, 0, 1, 16, 0, 1, 4096, 1)).toThrow(/extends past the arena/)
    expect(() => native.matmul(arena, 0, 1, 16, 0, 1, 2, 1)).toThrow(/4-aligned/)
    expect(() => native.matmul(arena, 0, 1, 70000, 0, 1, 0, 1)).toThrow(/cols exceeds 65536/)
    expect(() => native.matmul(arena, 0, 4, 16, 0, 2, 0, 3)).toThrow(/stride is below rows/)
    expect(() => native.matmul(new Uint8Array(64) as never, 0, 1, 1, 0, 1, 0, 1)).toThrow(
      /Int8Array/,
    )
    expect(() => (native.matmul as (...a: unknown[]) => void)(arena, 0)).toThrow(/8 arguments/)
    expect(() => native.matmul(arena, -1, 1, 1, 0, 1, 0, 1)).toThrow()
  })
})

describe('threads', () => {
  it('1, 2, 3 and 4 threads, WebAssembly or native, give the same tokens, traceRoot and modelRoot', () => {
    const request = {
      promptTokens: [1, 40, 90, 300, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21],
      maxTokens: 12,
      params: samplingParams({ temperature: 0.8, topP: 0.95 }),
      seed: 42,
    }
    const runs = [1, 2, 3, 4, -1, -2, -3, -4].map((t) => {
      const threads = Math.abs(t)
      const model = loadModel(trainedModelBytes(), { createKernel: threaded(threads, t < 0) })
      expect((model.kernel as ThreadedKernel).threads).toBe(threads)
      const result = generate(model, request)
      return JSON.stringify({
        tokens: result.tokens,
        traceRoot: toHex(result.traceRoot!),
        modelRoot: toHex(model.modelRoot),
      })
    })
    expect(new Set(runs).size).toBe(1)
    expect(JSON.parse(runs[0]!).tokens).toHaveLength(12)
  })

  it('a fault injected after a native op lands as after the TypeScript op: the same tokens and traceRoot', () => {
    // Cheater simulations inject faults between ops; the native ops run between the same
    // recording points (scores, softmax, mix, swiglu, the norms and projections).
    const request = {
      promptTokens: [1, 40, 90, 300, 7, 8, 9, 10],
      maxTokens: 6,
      params: samplingParams({ temperature: 0.8, topP: 0.95 }),
      seed: 43,
    }
    const wasm = loadModel(trainedModelBytes(), { createKernel: threaded(1) })
    const native = loadModel(trainedModelBytes(), { createKernel: threaded(1, true) })
    expect(native.kernel.ops).toBeDefined()
    const honest = toHex(generate(wasm, request).traceRoot!)
    for (const kind of [
      OpKind.ATTN_NORM,
      OpKind.Q,
      OpKind.SCORES,
      OpKind.SOFTMAX,
      OpKind.ATTN_MIX,
      OpKind.GATE,
      OpKind.SWIGLU,
      OpKind.FFN_NORM,
      OpKind.DOWN,
    ]) {
      const fault = {
        pos: 9,
        layer: 0,
        kind,
        element: 2,
        delta: 40_000,
      }
      const [a, b] = [wasm, native].map((model) => {
        const r = generate(model, { ...request }, { fault })
        return JSON.stringify({ tokens: r.tokens, traceRoot: toHex(r.traceRoot!) })
      })
      expect(b, `fault in op kind ${kind}`).toBe(a)
      expect(JSON.parse(a!).traceRoot, `fault in op kind ${kind}`).not.toBe(honest)
    }
  })

  it('refuses a bad thread count, and a closed kernel', async () => {
    expect(() => createThreadedKernel(1 << 16, 0)).toThrow(/threads must be an integer in 1..256/)
    const k = createThreadedKernel(1 << 20, 2, { minParallelBytes: 0 })
    await k.close()
    expect(() => k.matvecI8(4096, 4, 16, 8192, 16384)).toThrow(/closed/)
  })
})
