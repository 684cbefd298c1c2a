import { availableParallelism } from 'node:os'
import { Worker } from 'node:worker_threads'
import { KernelError } from '../errors/runtime.ts'
import { checkMatmul } from '../runtime/kernels/arena.ts'
import type { Kernel } from '../runtime/kernels/types.ts'
import { createSharedWasmKernel, wasmSimdAvailable } from '../runtime/kernels/wasm.ts'
import { NATIVE_KERNEL_PATH, nativeKernel, nativeOps } from './native.ts'

/**
 * The runtime's kernel on several cores: the arena is a shared WebAssembly memory, and every
 * int8 matrix product is split into bands of rows, one per thread (the calling thread computes
 * band 0, worker threads the others, each with its own instance of the same WebAssembly module
 * over the same memory). Each output element is one row's exact int32 sum, computed by the same
 * code whichever thread runs it, so the results are bit-identical for every thread count (the
 * kernel conformance suite checks it). The interface stays synchronous: the caller waits on an
 * Atomics counter until every band is done.
 *
 * Where the native kernel is built (./native.ts), every thread computes its band with it over
 * the same memory instead of with WebAssembly: the same sums, streamed about twice as fast.
 *
 * This lives outside src/runtime because threads and native code are I/O to the runtime's pure core.
 */
export type ThreadedKernel = Kernel & {
  readonly threads: number
  /** Stops the worker threads; the kernel must not be used afterwards. */
  close(): Promise<void>
}

/** Products smaller than this many weight bytes run on the calling thread alone (waking workers costs more). */
const MIN_PARALLEL_BYTES = 1 << 16

// Control block (Int32Array over a SharedArrayBuffer).
const SEQ = 0 // bumped once per dispatched product
const OP = 1 // 1 matvec, 2 matmul, 0 stop
const ARGS = 2 // w, rows, cols, x, n, acc
const DONE = 8 // bands finished by workers
const STOPPED = 9 // workers that have left their loop
const SPIN_AT = 10 // polls a worker spins after this product before it sleeps
const CONTROL_INTS = 16
/** Polls of the control block before a thread sleeps on it (tens of microseconds). */
const SPIN = 20_000
/**
 * Only products at least this large spin: a decode step of a real model chains them back to
 * back, while a small model's products take microseconds and spinning after each would keep a
 * core busy for nothing (a devnet runs every node on the same cores).
 */
const SPIN_MIN_BYTES = 1 << 20

// Worker threads run this plain script (no TypeScript, no imports of ours).
const WORKER_SOURCE = `
const { workerData } = require('node:worker_threads')
const { memory, module, control, index, threads, nativePath } = workerData
const c = new Int32Array(control)
let { matvec, matmul_strided } = new WebAssembly.Instance(module, { env: { memory } }).exports
if (nativePath) {
  const native = require(nativePath)
  const arena = new Int8Array(memory.buffer)
  matvec = (w, rows, cols, x, acc) => native.matmul(arena, w, rows, cols, x, 1, acc, rows)
  matmul_strided = (w, rows, cols, x, n, acc, stride) => native.matmul(arena, w, rows, cols, x, n, acc, stride)
}
let seen = 0
for (;;) {
  // Products come back to back in a decode step: spin a little before sleeping, since a wake-up
  // costs about as much as computing a small product.
  const polls = c[${SPIN_AT}]
  for (let spin = 0; spin < polls && Atomics.load(c, ${SEQ}) === seen; spin++);
  Atomics.wait(c, ${SEQ}, seen)
  const seq = Atomics.load(c, ${SEQ})
  if (seq === seen) continue
  seen = seq
  const op = c[${OP}]
  if (op === 0) break
  const w = c[${ARGS}], rows = c[${ARGS + 1}], cols = c[${ARGS + 2}], x = c[${ARGS + 3}], n = c[${ARGS + 4}], acc = c[${ARGS + 5}]
  const per = Math.ceil(Math.ceil(rows / 4) / threads) * 4
  const r0 = Math.min(rows, index * per), r1 = Math.min(rows, (index + 1) * per)
  if (r1 > r0) {
    if (op === 1) matvec(w + r0 * cols, r1 - r0, cols, x, acc + 4 * r0)
    else matmul_strided(w + r0 * cols, r1 - r0, cols, x, n, acc + 4 * r0, rows)
  }
  Atomics.add(c, ${DONE}, 1)
  Atomics.notify(c, ${DONE})
}
Atomics.add(c, ${STOPPED}, 1)
Atomics.notify(c, ${STOPPED})
`

/** The number of threads `--threads` defaults to: every core this process may use. */
export function defaultThreads(): number {
  return availableParallelism()
}

/**
 * A kernel whose arena holds `arenaBytes` and whose products run on `threads` threads (the
 * caller's and threads - 1 workers). Needs WebAssembly SIMD and shared memory. `native`
 * (default: whenever it is built) computes the products with the native kernel.
 */
export function createThreadedKernel(
  arenaBytes: number,
  threads: number,
  options: { minParallelBytes?: number; native?: boolean } = {},
): ThreadedKernel {
  const minParallel = options.minParallelBytes ?? MIN_PARALLEL_BYTES
  const native = options.native === false ? null : nativeKernel()
  if (options.native === true && !native)
    throw new KernelError('the native kernel is not built', {
      details: 'run `npm run build:native` (needs a C++ compiler), or leave VERITY_NATIVE unset',
    })
  if (!Number.isSafeInteger(threads) || threads < 1 || threads > 256)
    throw new KernelError(`threads must be an integer in 1..256, got ${threads}`)
  if (!wasmSimdAvailable())
    throw new KernelError(
      'worker threads need the WebAssembly SIMD kernel, which this engine lacks',
    )
  const shared = createSharedWasmKernel(arenaBytes)
  const base = shared.kernel
  const size = base.buffer.byteLength
  const control = new Int32Array(new SharedArrayBuffer(CONTROL_INTS * 4))
  const workers: Worker[] = []
  for (let index = 1; index < threads; index++) {
    const worker = new Worker(WORKER_SOURCE, {
      eval: true,
      workerData: {
        memory: shared.memory,
        module: shared.module,
        control: control.buffer,
        index,
        threads,
        nativePath: native ? NATIVE_KERNEL_PATH : undefined,
      },
    })
    // Workers wait on the control block, never on the event loop: they must not keep a process alive.
    worker.unref()
    workers.push(worker)
  }
  let closed = false
  const ops = native ? nativeOps(native) : undefined
  const arena = new Int8Array(base.buffer)
  const matvecBand = native
    ? (w: number, r0: number, r1: number, cols: number, x: number, acc: number) =>
        native.matmul(arena, w + r0 * cols, r1 - r0, cols, x, 1, acc + 4 * r0, r1 - r0)
    : shared.matvecBand
  const matmulBand = native
    ? (
        w: number,
        rows: number,
        r0: number,
        r1: number,
        cols: number,
        x: number,
        n: number,
        acc: number,
      ) => native.matmul(arena, w + r0 * cols, r1 - r0, cols, x, n, acc + 4 * r0, rows)
    : shared.matmulBand

  /** Runs band 0 here, the others on the workers, and returns when all are done. */
  const dispatch = (
    op: 1 | 2,
    w: number,
    rows: number,
    cols: number,
    x: number,
    n: number,
    acc: number,
  ) => {
    if (closed) throw new KernelError('the threaded kernel is closed')
    const polls = rows * cols >= SPIN_MIN_BYTES ? SPIN : 0
    control.set([w, rows, cols, x, n, acc], ARGS)
    control[SPIN_AT] = polls
    control[OP] = op
    Atomics.store(control, DONE, 0)
    Atomics.add(control, SEQ, 1)
    Atomics.notify(control, SEQ)
    const per = Math.ceil(Math.ceil(rows / 4) / threads) * 4
    const r1 = Math.min(rows, per)
    if (r1 > 0) {
      if (op === 1) matvecBand(w, 0, r1, cols, x, acc)
      else matmulBand(w, rows, 0, r1, cols, x, n, acc)
    }
    for (let spin = 0; spin < polls && Atomics.load(control, DONE) < workers.length; spin++);
    for (
      let done = Atomics.load(control, DONE);
      done < workers.length;
      done = Atomics.load(control, DONE)
    )
      Atomics.wait(control, DONE, done)
  }

  return {
    name: native ? 'native' : base.name,
    buffer: base.buffer,
    i8: base.i8,
    u8: base.u8,
    i32: base.i32,
    alloc: base.alloc,
    sha256Pairs: base.sha256Pairs,
    ...(ops ? { ops } : {}),
    threads,
    matvecI8(wPtr, rows, cols, xPtr, accPtr) {
      checkMatmul(size, wPtr, rows, cols, xPtr, 1, accPtr)
      if (workers.length === 0 || rows * cols < minParallel)
        matvecBand(wPtr, 0, rows, cols, xPtr, accPtr)
      else dispatch(1, wPtr, rows, cols, xPtr, 1, accPtr)
    },
    matmulI8(wPtr, rows, cols, xPtr, n, accPtr) {
      checkMatmul(size, wPtr, rows, cols, xPtr, n, accPtr)
      if (workers.length === 0 || rows * cols < minParallel)
        matmulBand(wPtr, rows, 0, rows, cols, xPtr, n, accPtr)
      else dispatch(2, wPtr, rows, cols, xPtr, n, accPtr)
    },
    async close() {
      if (closed) return
      closed = true
      control[OP] = 0
      Atomics.add(control, SEQ, 1)
      Atomics.notify(control, SEQ)
      await Promise.all(workers.map((w) => w.terminate()))
    },
  }
}
