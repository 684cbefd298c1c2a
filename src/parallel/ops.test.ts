import { describe, expect, it } from 'vitest'
import { INT32_MAX } from '../runtime/fixed/int.ts'
import type { KernelOps } from '../runtime/kernels/types.ts'
import { headScores, invSqrtQ16, mixValues, reduce16, softmax } from '../runtime/ops/attention.ts'
import { requantize } from '../runtime/ops/project.ts'
import { quantizeActivation } from '../runtime/ops/quantize-activation.ts'
import { rmsnorm } from '../runtime/ops/rmsnorm.ts'
import { swiglu } from '../runtime/ops/swiglu.ts'
import { createThreadedKernel } from './kernel.ts'
import { nativeKernel, nativeOps } from './native.ts'

const native = nativeKernel()
const ops = native ? nativeOps(native) : undefined

/** A seeded stream of uint32s (an LCG: the test's inputs are the same on every run). */
function stream(seed: number) {
  let s = seed >>> 0
  const next = () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0
    return s
  }
  return {
    /** An int32 in [-INT32_MAX, INT32_MAX], with the extremes and small values often. */
    value(scale: 'full' | 'q16' | 'small'): number {
      const r = next()
      if (r % 17 === 0) return INT32_MAX
      if (r % 19 === 0) return -INT32_MAX
      if (r % 23 === 0) return 0
      const v = next() | 0
      const bounded = scale === 'full' ? v : scale === 'q16' ? v >> 8 : v >> 20
      return Math.max(bounded, -INT32_MAX)
    },
  }
}

function fill(n: number, seed: number, scale: 'full' | 'q16' | 'small'): Int32Array {
  const s = stream(seed)
  return Int32Array.from({ length: n }, () => s.value(scale))
}

/** The forward pass's TypeScript attention for one position t (src/runtime/forward.ts). */
function referenceAttention(
  q: Int32Array,
  k16: Int32Array,
  kShift: Int32Array,
  v: Int32Array,
  t: number,
  nHeads: number,
  nKv: number,
  hd: number,
) {
  const n = t + 1
  const kvDim = nKv * hd
  const group = nHeads / nKv
  const c = invSqrtQ16(hd)
  const scores = new Int32Array(nHeads * n)
  const probs = new Int32Array(nHeads * n)
  const mix = new Int32Array(nHeads * hd)
  const q16 = new Int32Array(nHeads * hd)
  for (let h = 0; h < nHeads; h++) {
    const g = Math.floor(h / group)
    const shq = reduce16(q, h * hd, hd, q16, h * hd)
    headScores(q16, h * hd, shq, k16, kShift, kvDim, g * hd, nKv, g, hd, t, c, scores, h * n)
  }
  const tmp = new Float64Array(n)
  for (let h = 0; h < nHeads; h++) softmax(scores, h * n, n, probs, tmp)
  const acc = new Float64Array(hd)
  for (let h = 0; h < nHeads; h++) {
    const g = Math.floor(h / group)
    mixValues(probs, h * n, v, kvDim, g * hd, hd, t, mix, h * hd, acc)
  }
  return { scores, probs, mix, c }
}

/** Keys as the cache holds them: each KV head's key reduced to 16 bits, with its shift. */
function keyCache(keys: Int32Array, n: number, nKv: number, hd: number) {
  const k16 = new Int32Array(n * nKv * hd)
  const kShift = new Int32Array(n * nKv)
  for (let s = 0; s < n; s++)
    for (let g = 0; g < nKv; g++)
      kShift[s * nKv + g] = reduce16(keys, (s * nKv + g) * hd, hd, k16, (s * nKv + g) * hd)
  return { k16, kShift }
}

describe('native element-wise ops', () => {
  it('are built with the kernel and used by the threaded kernel', async () => {
    // VERITY_NATIVE=0 is the only way to run without them (CI sets VERITY_REQUIRE_NATIVE=1).
    if (process.env.VERITY_NATIVE === '0') return
    expect(ops).toBeDefined()
    const k = createThreadedKernel(1 << 16, 1)
    try {
      expect(k.ops).toBe(ops)
    } finally {
      await k.close()
    }
    const wasm = createThreadedKernel(1 << 16, 1, { native: false })
    try {
      expect(wasm.ops).toBeUndefined()
    } finally {
      await wasm.close()
    }
  })
})

describe.runIf(ops !== undefined)(
  'native element-wise ops against the TypeScript reference',
  () => {
    const op = ops as KernelOps

    it('swiglu: every element equal, over the whole int32 range and a sweep of the gate', () => {
      for (const [seed, scale] of [
        [1, 'full'],
        [2, 'q16'],
        [3, 'small'],
      ] as const) {
        const n = 20_000
        const gate = fill(n, seed, scale)
        const up = fill(n, seed + 100, scale)
        const want = new Int32Array(n)
        const got = new Int32Array(n)
        swiglu(gate, up, want, 0, n)
        op.swiglu(gate, up, got, 0, n)
        expect(got).toEqual(want)
      }
      // The gate through the sigmoid's whole domain (|g| < 40 in Q16, past exp's cut-off at -32),
      // in steps of a prime, against up = +-1.0 and a large up.
      const gate = Int32Array.from({ length: 40_000 }, (_, i) => -40 * 65536 + i * 131)
      for (const u of [65536, -65536, 123_456_789, -INT32_MAX, INT32_MAX]) {
        const up = new Int32Array(gate.length).fill(u)
        const want = new Int32Array(gate.length)
        const got = new Int32Array(gate.length)
        swiglu(gate, up, want, 0, gate.length)
        op.swiglu(gate, up, got, 0, gate.length)
        expect(got).toEqual(want)
      }
      // An offset window writes only inside it.
      const g = fill(64, 9, 'q16')
      const u = fill(64, 10, 'q16')
      const out = new Int32Array(64).fill(7)
      op.swiglu(g, u, out, 10, 20)
      const want = new Int32Array(64).fill(7)
      swiglu(g, u, want, 10, 20)
      expect(out).toEqual(want)
    })

    it('attention: scores, softmax and mix equal for every head layout, length and extreme', () => {
      const shapes = [
        { nHeads: 4, nKv: 4, hd: 16 },
        { nHeads: 8, nKv: 2, hd: 64 },
        { nHeads: 6, nKv: 1, hd: 128 },
        { nHeads: 2, nKv: 2, hd: 3 },
      ]
      let seed = 50
      for (const { nHeads, nKv, hd } of shapes) {
        for (const t of [0, 1, 7, 40]) {
          for (const scale of ['full', 'q16', 'small'] as const) {
            const n = t + 1
            const q = fill(nHeads * hd + 5, seed++, scale)
            const keys = fill(n * nKv * hd, seed++, scale)
            const v = fill(n * nKv * hd, seed++, scale)
            const { k16, kShift } = keyCache(keys, n, nKv, hd)
            const want = referenceAttention(q, k16, kShift, v, t, nHeads, nKv, hd)
            const scores = new Int32Array(nHeads * n)
            const probs = new Int32Array(nHeads * n)
            const mix = new Int32Array(nHeads * hd + 4)
            op.attentionScores(q, 0, k16, kShift, t, nHeads, nKv, hd, want.c, scores)
            expect(scores, `scores ${nHeads}/${nKv}x${hd} t=${t} ${scale}`).toEqual(want.scores)
            op.softmaxRows(scores, nHeads, n, probs)
            expect(probs, `softmax ${nHeads}/${nKv}x${hd} t=${t} ${scale}`).toEqual(want.probs)
            op.attentionMix(probs, v, t, nHeads, nKv, hd, mix, 4)
            expect(mix.subarray(4), `mix ${nHeads}/${nKv}x${hd} t=${t} ${scale}`).toEqual(want.mix)
            expect(Array.from(mix.subarray(0, 4))).toEqual([0, 0, 0, 0])
          }
        }
      }
    })

    it('attention at the extremes: all-max and all-min queries, keys and values, equal scores', () => {
      const nHeads = 4
      const nKv = 2
      const hd = 32
      const t = 9
      const n = t + 1
      for (const [qv, kv, vv] of [
        [INT32_MAX, INT32_MAX, INT32_MAX],
        [-INT32_MAX, INT32_MAX, -INT32_MAX],
        [0, INT32_MAX, 1],
        [1, -1, INT32_MAX],
      ]) {
        const q = new Int32Array(nHeads * hd).fill(qv!)
        const keys = new Int32Array(n * nKv * hd).fill(kv!)
        const v = new Int32Array(n * nKv * hd).fill(vv!)
        const { k16, kShift } = keyCache(keys, n, nKv, hd)
        const want = referenceAttention(q, k16, kShift, v, t, nHeads, nKv, hd)
        const scores = new Int32Array(nHeads * n)
        const probs = new Int32Array(nHeads * n)
        const mix = new Int32Array(nHeads * hd)
        op.attentionScores(q, 0, k16, kShift, t, nHeads, nKv, hd, want.c, scores)
        op.softmaxRows(scores, nHeads, n, probs)
        op.attentionMix(probs, v, t, nHeads, nKv, hd, mix, 0)
        expect([scores, probs, mix]).toEqual([want.scores, want.probs, want.mix])
      }
      // Softmax alone on rows that span the whole int32 range and rows of equal scores.
      const rows = Int32Array.from([INT32_MAX, -INT32_MAX, 0, 5, 5, 5, -7, -7, -7])
      const want = new Int32Array(9)
      const tmp = new Float64Array(3)
      for (let r = 0; r < 3; r++) softmax(rows, r * 3, 3, want, tmp)
      const got = new Int32Array(9)
      op.softmaxRows(rows, 3, 3, got)
      expect(got).toEqual(want)
    })

    it('quantizeActivation: same int8 rows and scales for every magnitude, zero rows included', () => {
      let seed = 300
      for (const n of [1, 7, 64, 2048, 8192]) {
        for (const scale of ['full', 'q16', 'small'] as const) {
          const x = fill(n + 3, seed++, scale)
          const want = new Int8Array(n + 8)
          const got = new Int8Array(n + 8)
          const s = new Int32Array(2)
          const [m, e] = quantizeActivation(x, 3, n, want, 5)
          op.quantizeActivation(x, 3, n, got, 5, s)
          expect(got).toEqual(want)
          expect([s[0], s[1]]).toEqual([m, e])
        }
      }
      // Every magnitude class of amax (each sets a different exponent e), and the all-zero row.
      for (let bits = 0; bits <= 31; bits++) {
        const amax = bits === 31 ? INT32_MAX : 2 ** bits
        const x = Int32Array.from({ length: 40 }, (_, j) =>
          Math.max(-INT32_MAX, Math.round(((j - 20) / 20) * amax)),
        )
        const want = new Int8Array(40)
        const got = new Int8Array(40).fill(9)
        const s = new Int32Array(2).fill(9)
        const [m, e] = quantizeActivation(x, 0, 40, want, 0)
        op.quantizeActivation(x, 0, 40, got, 0, s)
        expect(got, `amax 2^${bits}`).toEqual(want)
        expect([s[0], s[1]], `amax 2^${bits}`).toEqual([m, e])
      }
    })

    it('requantize: same Q16 outputs with and without bias, for zero and extreme sums and scales', () => {
      let seed = 400
      for (const rows of [1, 5, 300]) {
        for (const withBias of [false, true]) {
          const s = stream(seed++)
          const acc = Int32Array.from({ length: rows + 2 }, () => s.value('full') >> 4)
          const scaleM = Int32Array.from(
            { length: rows },
            () => 2048 + (Math.abs(s.value('full')) % 2048),
          )
          const scaleE = Int32Array.from(
            { length: rows },
            () => (Math.abs(s.value('full')) % 40) - 4,
          )
          const bias = withBias ? fill(rows, seed++, 'full') : undefined
          for (const [mx, ex] of [
            [0, 0],
            [2065, 7],
            [4095, -12],
            [3000, 19],
          ] as const) {
            const w = {
              name: 'w',
              rows,
              cols: 1,
              ptr: 0,
              scaleM,
              scaleE,
              leafBase: 0,
              ...(bias ? { bias } : {}),
            }
            const want = new Int32Array(rows + 1).fill(5)
            const got = new Int32Array(rows + 1).fill(5)
            requantize(w, acc, 2, mx, ex, want, 1)
            op.requantize(acc, 2, rows, scaleM, scaleE, bias ?? null, mx, ex, got, 1)
            expect(got, `rows ${rows} bias ${withBias} mx ${mx} ex ${ex}`).toEqual(want)
          }
        }
      }
    })

    it('rmsnorm: same outputs for every magnitude of input and gain, zero rows included', () => {
      let seed = 500
      for (const n of [1, 3, 64, 2048, 8192]) {
        for (const scale of ['full', 'q16', 'small'] as const) {
          const x = fill(n + 1, seed++, scale)
          // Gains in Q16 as models have them (|g| < 2^24: DETERMINISM's bound).
          const g = Int32Array.from(fill(n, seed++, 'full'), (v) => v >> 8)
          for (const epsQ of [0, 11, 1_099_512]) {
            const want = new Int32Array(n + 2)
            const got = new Int32Array(n + 2)
            rmsnorm(x, 1, n, g, epsQ, want, 2)
            op.rmsnorm(x, 1, n, g, epsQ, got, 2)
            expect(got, `n ${n} ${scale} eps ${epsQ}`).toEqual(want)
          }
        }
      }
      const zero = new Int32Array(16)
      const got = new Int32Array(16).fill(4)
      op.rmsnorm(zero, 0, 16, new Int32Array(16).fill(65536), 11, got, 0)
      expect(Array.from(got)).toEqual(new Array(16).fill(0))
      const tiny = Int32Array.from({ length: 16 }, (_, j) => j - 8)
      const want = new Int32Array(16)
      rmsnorm(tiny, 0, 16, new Int32Array(16).fill(65536), 0, want, 0)
      op.rmsnorm(tiny, 0, 16, new Int32Array(16).fill(65536), 0, got, 0)
      expect(got).toEqual(want)
    })

    it('refuses wrong arrays, arity and out-of-range windows by name, and writes nothing', () => {
      const a = new Int32Array(8)
      const out = new Int32Array(8).fill(3)
      const call = (f: () => void) => {
        try {
          f()
        } catch (error) {
          return (error as Error).message
        }
        return 'no error'
      }
      expect(call(() => op.swiglu(a, a, out, 4, 5))).toMatch(/swiglu: a range extends past/)
      expect(call(() => op.swiglu(a, new Float64Array(8) as never, out, 0, 8))).toMatch(
        /swiglu: expected/,
      )
      expect(call(() => (op.swiglu as (...x: unknown[]) => void)(a, a, out))).toMatch(
        /swiglu: expected/,
      )
      expect(call(() => op.swiglu(a, a, out, -1, 2))).toMatch(/swiglu: expected/)
      expect(Array.from(out)).toEqual(new Array(8).fill(3))
      const k16 = new Int32Array(2 * 4)
      const kShift = new Int32Array(2)
      expect(call(() => op.attentionScores(a, 0, k16, kShift, 1, 2, 1, 4, 8192, out))).toBe(
        'no error',
      )
      expect(call(() => op.attentionScores(a, 1, k16, kShift, 1, 2, 1, 4, 8192, out))).toMatch(
        /attentionScores: a range extends past/,
      )
      expect(call(() => op.attentionScores(a, 0, k16, kShift, 2, 2, 1, 4, 8192, out))).toMatch(
        /attentionScores: a range extends past/,
      )
      expect(call(() => op.attentionScores(a, 0, k16, kShift, 1, 3, 2, 4, 8192, out))).toMatch(
        /multiple of KV heads/,
      )
      expect(call(() => op.softmaxRows(a, 3, 3, out))).toMatch(/softmaxRows: a range extends past/)
      expect(call(() => op.attentionMix(a, k16, 1, 2, 1, 4, out, 1))).toMatch(
        /attentionMix: a range extends past/,
      )
      expect(call(() => op.attentionMix(a, k16, 1, 2, 0, 4, out, 0))).toMatch(
        /multiple of KV heads/,
      )
    })
  },
)
