import fc from 'fast-check'
import type { Address, Hex } from 'viem'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { variantModel } from '../../test/variant-models.ts'
import { EXP2_TABLE, expQ30 } from '../runtime/fixed/exp.ts'
import { bitLength, INT32_MAX, isqrt } from '../runtime/fixed/int.ts'
import { ropeInverseFrequencies, ropeRow } from '../runtime/fixed/rope.ts'
import { generate } from '../runtime/generate.ts'
import { isPlainLlama } from '../runtime/model/config.ts'
import { activationScale } from '../runtime/ops/quantize-activation.ts'
import { sigmoidQ16 } from '../runtime/ops/swiglu.ts'
import { Prng } from '../runtime/sampler/prng.ts'
import { type SamplingParams, samplingParams } from '../runtime/sampler/sample.ts'
import { testModel } from '../runtime/test-model.ts'
import { TraceCapture } from '../runtime/trace/capture.ts'
import { vecRoot } from '../runtime/trace/hasher.ts'
import { elementInputs } from '../runtime/trace/inputs.ts'
import { toHex as bytesHex } from '../runtime/trace/merkle.ts'
import { weightRowBytes } from '../runtime/trace/open.ts'
import { OP_NAMES, OpKind } from '../runtime/trace/ops.ts'
import { type ElementInputs, recomputeElement } from '../runtime/trace/recompute.ts'
import {
  oneStepAttentionLibAbi,
  oneStepHarnessAbi,
  oneStepLibAbi,
  oneStepSamplerLibAbi,
} from './abis.ts'
import { type Devnet, startDevnet } from './devnet.ts'
import {
  deployOneStep,
  float32Bits,
  float64Bits,
  maxAbsIndex,
  maxIndex,
  oneStepCall,
  orderBytes,
  rowBytes,
  samplerOrder,
  vectorBytes,
} from './onestep.ts'

/**
 * OneStepLib (contracts/src/dispute) against recomputeElement, the TypeScript one-step reference:
 * property tests per op kind with edge cases, the commitments against hasher.ts and load.ts, and
 * sampled elements of every op kind of a real trace of the trained model. One anvil for the file;
 * fixed fast-check seed; VERITY_FC_RUNS raises the runs per property (default 25).
 */
const RUNS = Number(process.env.VERITY_FC_RUNS ?? 25)
const SEED = 20_261_202
const opts = { numRuns: RUNS, seed: SEED, endOnFailure: true }

let devnet: Devnet
let harness: Address

beforeAll(async () => {
  devnet = await startDevnet({ accounts: 2 })
  ;({ harness } = await deployOneStep(devnet.publicClient, devnet.walletClients[0]!))
})

afterAll(async () => {
  await devnet?.stop()
})

/** The harness's functions with the library's errors, which revert through it. */
const abi = [
  ...oneStepHarnessAbi,
  ...[...oneStepLibAbi, ...oneStepAttentionLibAbi, ...oneStepSamplerLibAbi].filter(
    (x) => x.type === 'error',
  ),
]

async function call<T = bigint>(functionName: string, args: readonly unknown[]): Promise<T> {
  return (await devnet.publicClient.readContract({
    address: harness,
    abi,
    functionName,
    args,
  } as never)) as T
}

/** The contract's value of element e (the index recomputeElement takes). */
async function onchain(inputs: ElementInputs, e: number, ropeTheta?: number): Promise<number> {
  const c = oneStepCall(inputs, e, ropeTheta === undefined ? {} : { ropeTheta })
  const result = await call<bigint | readonly bigint[]>(c.functionName, c.args)
  return Number(c.pick === undefined ? (result as bigint) : (result as readonly bigint[])[c.pick])
}

async function expectMatch(inputs: ElementInputs, e: number, ropeTheta?: number): Promise<void> {
  // + 0: the reference may give -0 (roundDivSym of a negative tie to 0); the trace stores 0.
  const expected = recomputeElement(inputs, e) + 0
  expect(await onchain(inputs, e, ropeTheta), `${OP_NAMES[inputs.kind]} element ${e}`).toBe(
    expected,
  )
}

/* ARBITRARIES */

const INT32_MIN = -0x80000000
const pow2s = Array.from({ length: 31 }, (_, k) => 2 ** k)
/** int32 values weighted toward the edges: 0, +-1, powers of two and their neighbours, saturation. */
const edgeInt = fc.constantFrom(
  0,
  1,
  -1,
  INT32_MAX,
  -INT32_MAX,
  ...pow2s,
  ...pow2s.map((p) => -p),
  ...pow2s.map((p) => p - 1),
  ...pow2s.map((p) => 1 - p),
)
const int32 = fc.oneof(
  { weight: 3, arbitrary: fc.integer({ min: -INT32_MAX, max: INT32_MAX }) },
  { weight: 3, arbitrary: fc.integer({ min: -(2 ** 20), max: 2 ** 20 }) },
  { weight: 2, arbitrary: edgeInt },
)

/** A Q16 vector: random, all zero, tiny, or with its largest magnitude at a power of two. */
function vectorArb(minLength: number, maxLength: number): fc.Arbitrary<Int32Array> {
  return fc
    .record({
      mode: fc.constantFrom('random', 'small', 'zero', 'pow2', 'pow2m1', 'sat'),
      values: fc.array(int32, { minLength, maxLength }),
      bits: fc.integer({ min: 0, max: 30 }),
      at: fc.nat(),
      sign: fc.boolean(),
    })
    .map(({ mode, values, bits, at, sign }) => {
      const v = Int32Array.from(values)
      if (mode === 'zero') v.fill(0)
      if (mode === 'small') for (let i = 0; i < v.length; i++) v[i] = v[i]! % 300
      if (mode === 'pow2' || mode === 'pow2m1' || mode === 'sat') {
        // Every element below the chosen magnitude, one element at it.
        const top = mode === 'sat' ? INT32_MAX : mode === 'pow2' ? 2 ** bits : 2 ** bits - 1
        for (let i = 0; i < v.length; i++) v[i] = v[i]! % (top + 1)
        if (v.length > 0) v[at % v.length] = sign ? -top : top
      }
      return v
    })
}

const int8Row = (n: number) =>
  fc.array(fc.integer({ min: -127, max: 127 }), { minLength: n, maxLength: n })

/* PRIMITIVES */

describe('primitives', () => {
  it('the EXP2 table: the literal equals exp.ts and the BigInt algorithm run on chain', async () => {
    const [computed, literal] = await call<[readonly bigint[], readonly bigint[]]>('exp2Tables', [])
    expect(literal.map(Number)).toEqual(Array.from(EXP2_TABLE))
    expect(computed.map(Number)).toEqual(Array.from(EXP2_TABLE))
  })

  it('ln 2 and pi computed on chain equal the constants and bigmath.ts', async () => {
    const { LN2, PI } = await import('../runtime/fixed/bigmath.ts')
    const [ln2, pi, ln2c, pic] = await call<bigint[]>('ropeConstants', [])
    expect([ln2, pi, ln2c, pic]).toEqual([LN2, PI, LN2, PI])
  })

  it('expQ30 and sigmoidQ16 match exp.ts and swiglu.ts, across the -32 cut-off', async () => {
    const d = fc.oneof(
      fc.integer({ min: -(2 ** 21) - 5, max: 0 }),
      // Log-uniform: small |d|, where every rounding step shows in the result.
      fc.integer({ min: 0, max: 21 }).chain((b) => fc.integer({ min: -(2 ** b), max: 0 })),
      fc.constantFrom(0, -1, -(2 ** 21), -(2 ** 21) - 1, -(2 ** 18), -65536, -(2 ** 31) + 1),
    )
    await fc.assert(
      fc.asyncProperty(d, int32, async (x, g) => {
        expect(Number(await call('expQ30', [BigInt(x)]))).toBe(expQ30(x))
        expect(Number(await call('sigmoidQ16', [BigInt(g)]))).toBe(sigmoidQ16(g))
        // The softmax kernel's inline copy, in every lane of a word and in the tail: one lane
        // holds mx + x, the others are far below the maximum (their terms are 0).
        for (let lane = 0; lane < 9; lane++) {
          const scores = new Int32Array(9).fill(-(2 ** 30))
          scores[lane] = 2 ** 29 + x
          const sum = await call('softmaxPartial', [
            vectorBytes(scores),
            0n,
            9n,
            BigInt(2 ** 29),
            0n,
          ])
          expect(Number(sum), `lane ${lane}`).toBe(expQ30(x))
        }
      }),
      { ...opts, numRuns: RUNS * 2 },
    )
  })

  it('isqrt and bitLength are exact', async () => {
    const v = fc.oneof(
      fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }),
      fc.constantFrom(0, 1, 2, 3, 4, 2 ** 52, 2 ** 53 - 1, 2 ** 32, 2 ** 32 - 1),
    )
    await fc.assert(
      fc.asyncProperty(v, async (x) => {
        expect(Number(await call('isqrt', [BigInt(x)]))).toBe(isqrt(x))
        expect(Number(await call('bitLength', [BigInt(x)]))).toBe(bitLength(x))
      }),
      opts,
    )
    // Beyond 2^53 the float estimate is gone: check against BigInt.
    const big = 2n ** 255n + 12345n
    const r = await call('isqrt', [big])
    expect(r * r <= big && (r + 1n) * (r + 1n) > big).toBe(true)
    expect(await call('bitLength', [2n ** 255n])).toBe(256n)
  })

  it('the PRNG seeding equals new Prng(seed)', async () => {
    const seed = fc.oneof(
      fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }),
      fc.constantFrom(0, 1, 2 ** 32 - 1, 2 ** 32, Number.MAX_SAFE_INTEGER),
    )
    await fc.assert(
      fc.asyncProperty(seed, async (s) => {
        const words = await call<readonly number[]>('prngSeed', [BigInt(s)])
        expect(Array.from(words)).toEqual(Array.from(new Prng(s).s))
      }),
      opts,
    )
  })
})

/* COMMITMENTS */

describe('commitments', () => {
  it('vecRoot equals hasher.ts for every shape of tree (odd levels, one chunk, empty)', async () => {
    const lengths = [0, 1, 7, 8, 9, 16, 17, 24, 25, 40, 64, 65, 100, 257, 1000]
    for (const n of lengths) {
      const v = Int32Array.from({ length: n }, (_, i) => (i * 2654435761) | 0)
      expect(await call<Hex>('vecRoot', [vectorBytes(v)]), `length ${n}`).toBe(bytesHex(vecRoot(v)))
    }
    await fc.assert(
      fc.asyncProperty(vectorArb(0, 300), async (v) => {
        expect(await call<Hex>('vecRoot', [vectorBytes(v)])).toBe(bytesHex(vecRoot(v)))
      }),
      opts,
    )
  })

  it('vecRoot rejects bytes that are not whole chunks', async () => {
    await expect(call('vecRoot', ['0x'])).rejects.toThrow(/ChunkBytes/)
    await expect(call('vecRoot', [`0x${'00'.repeat(33)}`])).rejects.toThrow(/ChunkBytes/)
  })

  it("rowLeaf, and vecRoot of a norm, equal the model's modelRoot leaves", async () => {
    const model = testModel()
    const leaf = (i: number) => bytesHex(model.weightLeaves.subarray(32 * i, 32 * i + 32))
    const matrices = [model.embed, model.layers[1]!.wq, model.layers[3]!.wDown, model.output]
    for (const w of matrices) {
      for (const r of [0, 5, w.rows - 1]) {
        const start = w.ptr + r * w.cols
        const row = model.kernel.i8.slice(start, start + w.cols)
        const got = await call<Hex>('rowLeaf', [
          rowBytes(row),
          BigInt(w.scaleM[r]!),
          BigInt(w.scaleE[r]!),
        ])
        expect(got, `${w.name} row ${r}`).toBe(leaf(w.leafBase + r))
        // The same bytes open.ts proves a row with.
        expect(bytesHex(weightRowBytes(model, w, r).subarray(0, w.cols))).toBe(rowBytes(row))
      }
    }
    // A norm's leaf is the vecRoot of its Q16 values (the chunk tree of an op output).
    for (const [g, i] of [
      [model.layers[2]!.ffnNorm, model.layers[2]!.ffnNormLeaf],
      [model.layers[0]!.attnNorm, model.layers[0]!.attnNormLeaf],
      [model.outputNorm, model.outputNormLeaf],
    ] as const)
      expect(await call<Hex>('vecRoot', [vectorBytes(g)])).toBe(leaf(i))
  })
})

/* OPS */

describe('ops against recomputeElement', () => {
  it('embed', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 64 }).chain((n) => int8Row(n)),
        fc.integer({ min: 2048, max: 4095 }),
        fc.integer({ min: -40, max: 60 }),
        fc.nat(),
        async (q, m, e, j) => {
          const row = { q: Int8Array.from(q), m, e }
          await expectMatch({ kind: OpKind.EMBED, row }, j % q.length)
        },
      ),
      opts,
    )
    // An all-zero row has m = e = 0.
    await expectMatch({ kind: OpKind.EMBED, row: { q: new Int8Array(8), m: 0, e: 0 } }, 3)
  })

  it('rmsnorm, with ties at the shift and a tiny amax (shift -8)', async () => {
    const arb = fc.record({
      x: vectorArb(1, 300),
      g: fc.oneof(
        fc.integer({ min: -(2 ** 24) + 1, max: 2 ** 24 - 1 }),
        fc.constantFrom(65536, -1, 0),
      ),
      epsQ: fc.oneof(fc.integer({ min: 0, max: 2 ** 40 }), fc.constant(10995116)),
      at: fc.nat(),
      ties: fc.boolean(),
    })
    await fc.assert(
      fc.asyncProperty(arb, async ({ x: generated, g, epsQ, at, ties }) => {
        const x = generated.slice()
        if (ties) {
          // Elements at roundShift's ties: k 2^sh +- 2^(sh-1), negative ones too.
          let amax = 0
          for (const v of x) amax = Math.max(amax, Math.abs(v))
          const sh = Math.max(bitLength(amax) - 20, -8)
          if (sh > 0) {
            for (let i = 1; i < x.length; i += 2) {
              const k = Math.trunc(x[i]! / 2 ** sh)
              const v = k * 2 ** sh + (k < 0 ? -1 : 1) * 2 ** (sh - 1)
              if (Math.abs(v) <= amax) x[i] = v
            }
          }
        }
        const e = at % x.length
        const gv = new Int32Array(x.length)
        gv[e] = g
        await expectMatch({ kind: OpKind.ATTN_NORM, x, g: gv, epsQ }, e)
      }),
      opts,
    )
    // -2^31 is no sat32 value, but an int32 lane can hold it: |x| = 2^31 is the maximum.
    const x = Int32Array.from([INT32_MIN, 5, -INT32_MAX, 0, 1 << 20])
    const g = Int32Array.from([65536, -70000, 3, 1 << 23, -1])
    for (let e = 0; e < x.length; e++)
      await expectMatch({ kind: OpKind.FFN_NORM, x, g, epsQ: 1 }, e)
  })

  it('projection, with quantization ties, amax at powers of two and mx past 4095', async () => {
    const arb = fc.record({
      x: vectorArb(1, 300),
      seed: fc.array(fc.integer({ min: -127, max: 127 }), { minLength: 300, maxLength: 300 }),
      m: fc.oneof(fc.integer({ min: 2048, max: 4095 }), fc.constantFrom(2048, 4095)),
      e: fc.integer({ min: -12, max: 48 }),
      ties: fc.boolean(),
    })
    await fc.assert(
      fc.asyncProperty(arb, async ({ x: generated, seed, m, e, ties }) => {
        const x = generated.slice()
        if (ties) {
          // x = +-(2k + 1) mx 2^(-ex-1) is a tie of roundDivSym(x, mx 2^-ex); needs ex <= -1.
          let amax = 0
          for (const v of x) amax = Math.max(amax, Math.abs(v))
          const [mx, ex] = activationScale(amax)
          if (ex <= -1) {
            const unit = mx * 2 ** (-ex - 1)
            for (let i = 1; i < x.length; i += 2) {
              const k = Math.floor(Math.abs(x[i]!) / (2 * unit))
              const v = (2 * k + 1) * unit
              if (v <= amax) x[i] = x[i]! < 0 ? -v : v
            }
          }
        }
        const row = { q: Int8Array.from(seed.slice(0, x.length)), m, e }
        await expectMatch({ kind: OpKind.GATE, x, row }, 0)
      }),
      opts,
    )
    // amax * 2^ex in (4095 * 127, 2^19): mx would be above 4095, so ex drops by one.
    for (const amax of [524_287, 520_066, 4095 * 127 + 1, 2 ** 19 - 1, 2 ** 31 - 1, 2 ** 30, 1]) {
      expect(activationScale(amax)[0]).toBeLessThanOrEqual(4095)
      const x = Int32Array.from(
        { length: 40 },
        (_, i) => ((i * 7919) % (amax + 1)) * (i % 3 ? 1 : -1),
      )
      x[17] = -amax
      const row = {
        q: Int8Array.from({ length: 40 }, (_, i) => ((i * 37) % 255) - 127),
        m: 3001,
        e: 20,
      }
      await expectMatch({ kind: OpKind.DOWN, x, row }, 0)
    }
    // Zero input, and outputs that saturate both ways.
    const row = { q: Int8Array.from({ length: 33 }, () => 127), m: 4095, e: -10 }
    await expectMatch({ kind: OpKind.Q, x: new Int32Array(33), row }, 0)
    await expectMatch({ kind: OpKind.Q, x: new Int32Array(33).fill(INT32_MAX), row }, 0)
    await expectMatch({ kind: OpKind.Q, x: new Int32Array(33).fill(-INT32_MAX), row }, 0)
    await expectMatch({ kind: OpKind.Q, x: new Int32Array(33).fill(INT32_MIN), row }, 0)
  })

  it('projection in chunk-aligned parts equals the whole, and checks amax', async () => {
    const arb = fc.record({
      x: vectorArb(1, 300),
      seed: fc.array(fc.integer({ min: -127, max: 127 }), { minLength: 300, maxLength: 300 }),
      m: fc.integer({ min: 2048, max: 4095 }),
      e: fc.integer({ min: 0, max: 40 }),
      cut: fc.nat(),
    })
    await fc.assert(
      fc.asyncProperty(arb, async ({ x, seed, m, e, cut }) => {
        const row = { q: Int8Array.from(seed.slice(0, x.length)), m, e }
        const expected = recomputeElement({ kind: OpKind.UP, x, row }, 0) + 0
        const amax = BigInt(Math.abs(x[maxAbsIndex(x)]!))
        // Parts end on a chunk (8 elements); the last one is the padded tail.
        const split = 8 * (cut % (Math.ceil(x.length / 8) + 1))
        let acc = 0n
        for (const [from, to] of [
          [0, Math.min(split, x.length)],
          [Math.min(split, x.length), x.length],
        ] as const) {
          if (to === from) continue
          acc = await call('projectionPartial', [
            vectorBytes(x.subarray(from, to)),
            rowBytes(row.q.subarray(from, to)),
            amax,
            acc,
          ])
        }
        const got = await call('projectionFinal', [acc, amax, BigInt(m), BigInt(e), 0n])
        expect(Number(got)).toBe(expected)
        if (amax > 0n) {
          await expect(
            call('projectionPartial', [vectorBytes(x), rowBytes(row.q), amax - 1n, 0n]),
          ).rejects.toThrow(/NotTheMaximum/)
        }
      }),
      opts,
    )
  })

  it('rejects a maximum hint that is not a maximum, accepts any tied one', async () => {
    const x = Int32Array.from([5, -900, 12, 900, -3, 899, 0, 7, 1])
    const row = rowBytes(Int8Array.from([1, 2, 3, 4, 5, 6, 7, 8, 9]))
    const expected = recomputeElement(
      {
        kind: OpKind.Q,
        x,
        row: { q: Int8Array.from([1, 2, 3, 4, 5, 6, 7, 8, 9]), m: 3000, e: 12 },
      },
      0,
    )
    for (const j of [1n, 3n]) {
      expect(Number(await call('projection', [vectorBytes(x), row, 3000n, 12n, 0n, j]))).toBe(
        expected,
      )
    }
    await expect(call('projection', [vectorBytes(x), row, 3000n, 12n, 0n, 5n])).rejects.toThrow(
      /NotTheMaximum/,
    )
    await expect(call('projection', [vectorBytes(x), row, 3000n, 12n, 0n, 9n])).rejects.toThrow(
      /ElementOutOfRange/,
    )
    await expect(call('rmsnorm', [vectorBytes(x), 9n, 2n, 65536n, 10995116n, 0n])).rejects.toThrow(
      /NotTheMaximum/,
    )
    await expect(call('softmax', [vectorBytes(x), 0n, 9n, 2n, 5n])).rejects.toThrow(/NotTheMaximum/)
    expect(Number(await call('softmax', [vectorBytes(x), 0n, 9n, 2n, 3n]))).toBe(
      recomputeElement({ kind: OpKind.SOFTMAX, scores: x }, 2),
    )
    // A vector whose chunk bytes are not its length's.
    await expect(
      call('projection', [vectorBytes(x), rowBytes(new Int8Array(17)), 3000n, 12n, 0n, 1n]),
    ).rejects.toThrow(/VectorLength/)
  })

  it('rope: theta 10000 and 500000 and others, positions 0 and 2^20 - 1, pass-through', async () => {
    const thetaArb = fc.oneof(
      fc.constantFrom(10000, 500000, 1e6, 10000.5, 1.5, 2),
      fc.double({ min: 1.01, max: 1e7, noNaN: true }),
    )
    const arb = fc.record({
      theta: thetaArb,
      half: fc.oneof(fc.integer({ min: 1, max: 64 }), fc.constantFrom(32, 64)),
      extra: fc.constantFrom(0, 0, 2, 8),
      pos: fc.oneof(fc.integer({ min: 0, max: 2 ** 20 - 1 }), fc.constantFrom(0, 1, 2 ** 20 - 1)),
      x: fc.array(int32, { minLength: 264, maxLength: 264 }),
      at: fc.nat(),
    })
    await fc.assert(
      fc.asyncProperty(arb, async ({ theta, half, extra, pos, x, at }) => {
        const ropeDim = 2 * half
        const headDim = ropeDim + extra
        const invFreq = ropeInverseFrequencies(theta, ropeDim)
        const v = Int32Array.from(x.slice(0, headDim))
        await expectMatch(
          { kind: OpKind.Q_ROPE, x: v, pos, headDim, ropeDim, invFreq },
          at % headDim,
          theta,
        )
      }),
      opts,
    )
  })

  it('rope inverse frequencies and cos/sin rows match rope.ts for real models', async () => {
    for (const [theta, ropeDim] of [
      [10000, 64],
      [10000, 128],
      [500000, 128],
      [1e6, 128],
    ] as const) {
      const invFreq = ropeInverseFrequencies(theta, ropeDim)
      for (const i of [0, 1, ropeDim / 4, ropeDim / 2 - 1]) {
        expect(
          await call('ropeInvFreq', [float64Bits(theta), BigInt(i), BigInt(ropeDim), 0]),
          `theta ${theta} pair ${i}`,
        ).toBe(invFreq[i]!)
      }
      for (const pos of [0, 1, 4095, 2 ** 20 - 1]) {
        const row = new Int32Array(ropeDim)
        ropeRow(invFreq, pos, row)
        for (const i of [0, 3, ropeDim / 2 - 1]) {
          const [c, s] = await call<[bigint, bigint]>('ropeCosSin', [
            float64Bits(theta),
            BigInt(pos),
            BigInt(i),
            BigInt(ropeDim),
            0,
          ])
          expect([Number(c), Number(s)], `theta ${theta} pos ${pos} pair ${i}`).toEqual([
            row[2 * i],
            row[2 * i + 1],
          ])
        }
      }
    }
  })

  it('projection with a bias (q, k, v rows of qwen2): added before saturating, zero input', async () => {
    const bias = fc.oneof(int32, fc.constantFrom(0, 1, -1, INT32_MAX, -INT32_MAX, INT32_MIN))
    const arb = fc.record({
      x: vectorArb(1, 200),
      seed: fc.array(fc.integer({ min: -127, max: 127 }), { minLength: 200, maxLength: 200 }),
      m: fc.integer({ min: 2048, max: 4095 }),
      // Down to e + ex far below 0: products that only saturate, and sums near the int32 edges.
      e: fc.integer({ min: -30, max: 48 }),
      bias,
    })
    await fc.assert(
      fc.asyncProperty(arb, async ({ x, seed, m, e, bias }) => {
        const row = { q: Int8Array.from(seed.slice(0, x.length)), m, e, bias }
        await expectMatch({ kind: OpKind.K, x, row }, 0)
      }),
      opts,
    )
    // Saturated products pulled back by the bias (exact int256, not sat32 then add), zero input.
    const ones = { q: Int8Array.from({ length: 16 }, () => 127), m: 4095 }
    for (const [e, bias] of [
      [-12, -INT32_MAX],
      [-13, INT32_MAX],
      [-14, -(2 ** 30)],
      [4, INT32_MIN],
      [0, 5],
    ] as const) {
      for (const fill of [0, 1, 65536, INT32_MAX, -INT32_MAX]) {
        const x = new Int32Array(16).fill(fill)
        await expectMatch({ kind: OpKind.V, x, row: { ...ones, e, bias } }, 0)
      }
    }
  })

  it('rope: NEOX pairing and Llama 3.1 frequency factors, pass-through past ropeDim', async () => {
    const f32 = fc.oneof(
      fc.constantFrom(1, 1.5, 2.25, 8, 32, 0.5, 2 ** -96, 2 ** -90, 3.4e38, 1e-20),
      fc.float({ min: Math.fround(1e-3), max: Math.fround(1e3), noNaN: true }),
    )
    const arb = fc.record({
      theta: fc.oneof(
        fc.constantFrom(10000, 500000, 1e6),
        fc.double({ min: 1.01, max: 1e7, noNaN: true }),
      ),
      half: fc.oneof(fc.integer({ min: 1, max: 64 }), fc.constantFrom(8, 32, 64)),
      extra: fc.constantFrom(0, 0, 2, 8),
      pos: fc.oneof(fc.integer({ min: 0, max: 2 ** 20 - 1 }), fc.constantFrom(0, 1, 2 ** 20 - 1)),
      x: fc.array(int32, { minLength: 264, maxLength: 264 }),
      factors: fc.option(fc.array(f32, { minLength: 64, maxLength: 64 }), { freq: 3 }),
      neox: fc.boolean(),
      at: fc.nat(),
    })
    await fc.assert(
      fc.asyncProperty(arb, async ({ theta, half, extra, pos, x, factors, neox, at }) => {
        const ropeDim = 2 * half
        const headDim = ropeDim + extra
        const ropeFreqFactors = factors?.slice(0, half).map((f) => Math.fround(f))
        const invFreq = ropeInverseFrequencies(theta, ropeDim, ropeFreqFactors)
        const v = Int32Array.from(x.slice(0, 2 * headDim))
        const inputs: ElementInputs = {
          kind: OpKind.K_ROPE,
          x: v,
          pos,
          headDim,
          ropeDim,
          neox,
          invFreq,
        }
        const e = at % v.length
        const expected = recomputeElement(inputs, e) + 0
        const c = oneStepCall(inputs, e, {
          ropeTheta: theta,
          ...(ropeFreqFactors ? { ropeFreqFactors } : {}),
        })
        expect(Number(await call(c.functionName, c.args)), `element ${e}`).toBe(expected)
      }),
      opts,
    )
  })

  it('rope inverse frequencies with factors equal rope.ts; unsupported factors revert', async () => {
    for (const [theta, ropeDim] of [
      [500000, 128],
      [10000, 16],
    ] as const) {
      const factors = Array.from({ length: ropeDim / 2 }, (_, i) =>
        Math.fround(i < ropeDim / 8 ? 1 : i < ropeDim / 4 ? 1 + i / 7 : 8),
      )
      const invFreq = ropeInverseFrequencies(theta, ropeDim, factors)
      for (let i = 0; i < ropeDim / 2; i += 5) {
        expect(
          await call('ropeInvFreq', [
            float64Bits(theta),
            BigInt(i),
            BigInt(ropeDim),
            float32Bits(factors[i]!),
          ]),
          `theta ${theta} pair ${i}`,
        ).toBe(invFreq[i]!)
      }
    }
    // 2^-96 is the smallest factor with a non-zero fixed-point value (the runtime divides by it).
    const tiny = ropeInverseFrequencies(10000, 16, Array(8).fill(2 ** -96))
    expect(await call('ropeInvFreq', [float64Bits(10000), 3n, 16n, float32Bits(2 ** -96)])).toBe(
      tiny[3]!,
    )
    expect(() => ropeInverseFrequencies(10000, 16, Array(8).fill(2 ** -97))).toThrow()
    for (const bad of [2 ** -97, -1, Number.POSITIVE_INFINITY, Number.NaN, 1e-45]) {
      await expect(
        call('ropeInvFreq', [float64Bits(10000), 3n, 16n, float32Bits(bad)]),
        `factor ${bad}`,
      ).rejects.toThrow(/FactorUnsupported/)
    }
  })

  it('score, for slices that start mid-chunk', async () => {
    const arb = fc.integer({ min: 1, max: 256 }).chain((d) =>
      fc.record({
        q: vectorArb(d, d),
        k: vectorArb(d, d),
        qOff: fc.integer({ min: 0, max: 9 }),
        kOff: fc.integer({ min: 0, max: 9 }),
      }),
    )
    await fc.assert(
      fc.asyncProperty(arb, async ({ q, k, qOff, kOff }) => {
        const expected = recomputeElement({ kind: OpKind.SCORES, q, keys: [k] }, 0) + 0
        // Embed each slice in a longer vector at its offset, with other data around it.
        const qv = new Int32Array(qOff + q.length + 3).fill(-123456)
        qv.set(q, qOff)
        const kv = new Int32Array(kOff + k.length + 3).fill(987654)
        kv.set(k, kOff)
        const got = await call('score', [
          vectorBytes(qv),
          BigInt(qOff),
          vectorBytes(kv),
          BigInt(kOff),
          BigInt(q.length),
        ])
        expect(Number(got)).toBe(expected)
      }),
      opts,
    )
  })

  it('softmax: one score, scores 32 * 2^16 apart, a head mid-chunk', async () => {
    const arb = fc.record({
      scores: fc.oneof(
        vectorArb(1, 300),
        vectorArb(1, 1),
        // Scores of an attention head's scale: most terms of the denominator are not 0.
        fc
          .array(fc.integer({ min: -12 * 65536, max: 12 * 65536 }), {
            minLength: 1,
            maxLength: 300,
          })
          .map((v) => Int32Array.from(v)),
      ),
      spread: fc.constantFrom(0, 32 * 65536, 32 * 65536 + 1, 32 * 65536 - 1),
      off: fc.integer({ min: 0, max: 15 }),
      at: fc.nat(),
    })
    await fc.assert(
      fc.asyncProperty(arb, async ({ scores: generated, spread, off, at }) => {
        const scores = generated.slice()
        if (spread > 0 && scores.length > 1) {
          // Two scores exactly `spread` apart around the maximum's neighbourhood.
          scores[0] = 1000
          scores[scores.length - 1] = 1000 - spread
        }
        const s = at % scores.length
        const expected = recomputeElement({ kind: OpKind.SOFTMAX, scores }, s) + 0
        const all = new Int32Array(off + scores.length + 5).fill(INT32_MAX)
        all.set(scores, off)
        const got = await call('softmax', [
          vectorBytes(all),
          BigInt(off),
          BigInt(scores.length),
          BigInt(s),
          BigInt(maxIndex(scores)),
        ])
        expect(Number(got)).toBe(expected)
        // The same through the bisectable form: the denominator in two parts, then the final.
        const mx = scores[maxIndex(scores)]!
        const cut = at % (scores.length + 1)
        let sum = 0n
        for (const [from, to] of [
          [0, cut],
          [cut, scores.length],
        ] as const) {
          sum = await call('softmaxPartial', [
            vectorBytes(all),
            BigInt(off + from),
            BigInt(to - from),
            BigInt(mx),
            sum,
          ])
        }
        expect(Number(await call('softmaxFinal', [BigInt(scores[s]!), BigInt(mx), sum]))).toBe(
          expected,
        )
        // The denominator itself, exactly: one ulp of one term would rarely move a rounded P.
        let want = 0
        for (const v of scores) want += expQ30(v - mx)
        expect(sum).toBe(BigInt(want))
      }),
      opts,
    )
  })

  it('attention mix: the whole sum and its partial-sum steps', async () => {
    const arb = fc.record({
      scores: vectorArb(1, 200),
      values: fc.array(int32, { minLength: 200, maxLength: 200 }),
      off: fc.integer({ min: 0, max: 7 }),
    })
    await fc.assert(
      fc.asyncProperty(arb, async ({ scores, values, off }) => {
        const n = scores.length
        const probs = Int32Array.from({ length: n }, (_, s) =>
          recomputeElement({ kind: OpKind.SOFTMAX, scores }, s),
        )
        const column = Int32Array.from(values.slice(0, n))
        const inputs: ElementInputs = {
          kind: OpKind.ATTN_MIX,
          probs,
          values: Array.from(column, (v) => Int32Array.of(v)),
        }
        const expected = recomputeElement(inputs, 0) + 0
        const all = new Int32Array(off + n + 2).fill(-7)
        all.set(probs, off)
        const got = await call('attnMix', [
          vectorBytes(all),
          BigInt(off),
          vectorBytes(column),
          BigInt(n),
        ])
        expect(Number(got)).toBe(expected)
        // The same value through single steps (the bisected form), at a few prefixes.
        let acc = 0n
        for (let s = 0; s < n; s++) acc += BigInt(probs[s]!) * BigInt(column[s]!)
        const s = n - 1
        const before = acc - BigInt(probs[s]!) * BigInt(column[s]!)
        const stepped = await call('attnMixStep', [before, BigInt(probs[s]!), BigInt(column[s]!)])
        expect(stepped).toBe(acc)
        expect(Number(await call('attnMixFinal', [stepped]))).toBe(expected)
      }),
      opts,
    )
    expect(Number(await call('attnMixFinal', [2n ** 50n]))).toBe(INT32_MAX)
    expect(Number(await call('attnMixFinal', [-(2n ** 50n)]))).toBe(-INT32_MAX)
    expect(Number(await call('attnMixFinal', [-(2n ** 15n)]))).toBe(0) // -0.5 rounds up
    expect(Number(await call('attnMixFinal', [-(2n ** 15n) - 1n]))).toBe(-1)
  })

  it('residual add, saturating', async () => {
    await fc.assert(
      fc.asyncProperty(int32, int32, async (a, b) => {
        const inputs: ElementInputs = {
          kind: OpKind.RESID_FFN,
          a: Int32Array.of(a),
          b: Int32Array.of(b),
        }
        await expectMatch(inputs, 0)
      }),
      opts,
    )
  })

  it('swiglu, with u at the 2^16 split', async () => {
    const u = fc.oneof(
      int32,
      fc.integer({ min: -1000, max: 1000 }).map((k) => k * 65536),
      fc.integer({ min: -1000, max: 1000 }).map((k) => k * 65536 - 1),
      fc.constantFrom(-1, -65536, -65537, 65535, 32768, -32768),
    )
    await fc.assert(
      fc.asyncProperty(int32, u, async (g, uv) => {
        await expectMatch({ kind: OpKind.SWIGLU, gate: Int32Array.of(g), up: Int32Array.of(uv) }, 0)
      }),
      { ...opts, numRuns: RUNS * 2 },
    )
  })
})

/* SAMPLER */

async function expectSample(
  logits: Int32Array,
  params: SamplingParams,
  state: Uint32Array,
): Promise<number[]> {
  const inputs: ElementInputs = { kind: OpKind.SAMPLE, logits, state, params }
  const expected = [0, 1, 2, 3, 4].map((e) => recomputeElement(inputs, e) + 0)
  const c = oneStepCall(inputs, 0)
  const got = (await call<readonly bigint[]>(c.functionName, c.args)).map(Number)
  expect(got).toEqual(expected)
  return got
}

describe('sampler', () => {
  const paramsArb = fc.record({
    temperatureMilli: fc.oneof(
      fc.constantFrom(0, 1, 2, 1000, 100_000, 700),
      fc.integer({ min: 0, max: 100_000 }),
    ),
    topK: fc.oneof(fc.constantFrom(0, 1, 2, 40), fc.integer({ min: 0, max: 700 })),
    topPMilli: fc.oneof(fc.constantFrom(1000, 1, 2, 950), fc.integer({ min: 1, max: 1000 })),
  })
  const stateArb = fc
    .array(fc.integer({ min: 0, max: 0xffffffff }), { minLength: 4, maxLength: 4 })
    .map((s) => Uint32Array.from(s[0]! | s[1]! | s[2]! | s[3]! ? s : [1, 0, 0, 0]))
  const logitsArb = fc.oneof(
    vectorArb(1, 600),
    // Few distinct values: ties everywhere.
    fc
      .array(fc.integer({ min: -3, max: 3 }), { minLength: 1, maxLength: 600 })
      .map((v) => Int32Array.from(v, (k) => k * 65536)),
    // Logits of a plausible scale (a few units in Q16).
    fc
      .array(fc.integer({ min: -20 * 65536, max: 20 * 65536 }), { minLength: 1, maxLength: 600 })
      .map((v) => Int32Array.from(v)),
  )

  it('matches sample.ts: greedy, temperature, top-k, top-p, ties, extremes', async () => {
    await fc.assert(
      fc.asyncProperty(logitsArb, paramsArb, stateArb, async (logits, params, state) => {
        await expectSample(logits, params, state)
      }),
      { ...opts, numRuns: RUNS * 3 },
    )
  })

  it('covers the named edge cases', async () => {
    const state = new Prng(42).s
    const flat = new Int32Array(50).fill(-5 * 65536)
    const tied = Int32Array.from({ length: 64 }, (_, i) => (i % 4 === 0 ? 65536 : 0))
    const wide = Int32Array.from({ length: 300 }, (_, i) => (i - 150) * 65536 * 3)
    for (const logits of [flat, tied, wide, Int32Array.of(7), new Int32Array(9)]) {
      for (const params of [
        samplingParams({}),
        samplingParams({ temperature: 1, topK: 1 }),
        samplingParams({ temperature: 0.9, topP: 0.001 }),
        samplingParams({ temperature: 0.001 }),
        samplingParams({ temperature: 100 }),
        samplingParams({ temperature: 100, topK: 3, topP: 0.5 }),
      ]) {
        await expectSample(logits, params, state)
      }
    }
  })

  it('rejects an order hint that is not the visited prefix', async () => {
    const logits = Int32Array.from({ length: 40 }, (_, i) => ((i * 7919) % 23) * 20000)
    const params = samplingParams({ temperature: 0.8, topK: 10 })
    const order = samplerOrder(logits, params)
    expect(order.length).toBe(10)
    const run = (o: number[]) => {
      const c = oneStepCall({ kind: OpKind.SAMPLE, logits, state: new Prng(3).s, params }, 0)
      const args = [...c.args]
      args[4] = orderBytes(o)
      return call(c.functionName, args)
    }
    await expect(run(order)).resolves.toBeDefined()
    await expect(run([order[1]!, order[0]!, ...order.slice(2)])).rejects.toThrow(/OrderNotSorted/)
    await expect(run(order.slice(0, 9))).rejects.toThrow(/OrderLength/)
    await expect(run([...order.slice(0, 4), ...order.slice(5), 39])).rejects.toThrow()
    // A sorted hint that skips a candidate is caught by the count.
    await expect(run([...order.slice(0, 4), ...order.slice(5, 10)])).rejects.toThrow(
      /OrderNotPrefix|OrderLength/,
    )
    await expect(run([])).rejects.toThrow(/OrderLength/)
    await expect(run([...order.slice(0, 9), 40])).rejects.toThrow(/OrderIndex/)
    // Greedy: a non-maximal token, or a later index of a tied maximum.
    const greedy = samplingParams({})
    const tied = Int32Array.from([3, 9, 1, 9, 9])
    const g = (o: number[]) => {
      const c = oneStepCall(
        { kind: OpKind.SAMPLE, logits: tied, state: new Prng(3).s, params: greedy },
        0,
      )
      const args = [...c.args]
      args[4] = orderBytes(o)
      return call<readonly bigint[]>(c.functionName, args)
    }
    expect(Number((await g([1]))[0])).toBe(1)
    await expect(g([3])).rejects.toThrow(/OrderNotPrefix/)
    await expect(g([0])).rejects.toThrow(/OrderNotPrefix/)
  })
})

describe('sampler with logit bias and penalties', () => {
  it('the library on the adjusted logits reproduces every token; a miner ignoring the penalty loses the step', async () => {
    const model = testModel()
    const params = samplingParams({
      temperature: 0.2,
      frequencyPenalty: 2,
      presencePenalty: 1.3,
      logitBias: { 2: 30, 4: -5 },
    })
    const steps: { logits: Int32Array; state: Uint32Array }[] = []
    let logits = new Int32Array(0)
    let state = new Prng(99).s.slice()
    const { tokens } = generate(
      model,
      { promptTokens: [1, 5, 9], maxTokens: 12, params, seed: 99 },
      {
        sink: {
          kinds: (1 << OpKind.LOGITS) | (1 << OpKind.SAMPLE),
          record(_pos, _layer, kind, vec, off, len) {
            if (kind === OpKind.LOGITS) logits = Int32Array.from(vec.subarray(off, off + len))
            else {
              steps.push({ logits, state })
              state = Uint32Array.from(vec.subarray(off + 1, off + 5))
            }
          },
        },
      },
    )
    let lost = 0
    for (const [i, s] of steps.entries()) {
      const honest = oneStepCall(
        { kind: OpKind.SAMPLE, ...s, params, prior: tokens.slice(0, i) },
        0,
      )
      const got = await call<readonly bigint[]>(honest.functionName, honest.args)
      expect(Number(got[0])).toBe(tokens[i])
      // The same step with the penalties ignored (the model's counts forgotten).
      const ignoring = oneStepCall({ kind: OpKind.SAMPLE, ...s, params, prior: [] }, 0)
      const other = await call<readonly bigint[]>(ignoring.functionName, ignoring.args)
      if (Number(other[0]) !== tokens[i]) lost++
    }
    expect(lost).toBeGreaterThan(0)
  })
})

/* REAL TRACE */

describe('a trace of the trained model', () => {
  it('reproduces sampled elements of every op kind', async () => {
    const model = testModel()
    const request = {
      promptTokens: [1, 40, 90, 300, 7],
      maxTokens: 4,
      params: samplingParams({ temperature: 0.9, topK: 40, topP: 0.95 }),
      seed: 7,
    }
    const capture = new TraceCapture()
    generate(model, request, { sink: capture })
    // Per kind, a few entries spread over positions and layers, two elements each (the first
    // and a pseudo-random one), plus every element of one sample entry.
    let r = 12345
    const next = (n: number) => {
      r = (Math.imul(r, 1103515245) + 12345) >>> 0
      return r % n
    }
    const byKind = new Map<number, typeof capture.entries>()
    for (const entry of capture.entries) {
      const list = byKind.get(entry.kind) ?? []
      list.push(entry)
      byKind.set(entry.kind, list)
    }
    expect(byKind.size).toBe(21)
    let checked = 0
    for (const [kind, entries] of byKind) {
      const picks = [entries[0]!, entries[entries.length - 1]!, entries[next(entries.length)]!]
      for (const entry of picks) {
        const elements = kind === OpKind.SAMPLE ? [0, 1, 2, 3, 4] : [0, next(entry.vec.length)]
        for (const e of elements) {
          const { inputs, element } = elementInputs(
            model,
            capture,
            request,
            entry.pos,
            entry.layer,
            entry.kind,
            e,
          )
          const got = await onchain(inputs, element, model.config.ropeTheta)
          expect(got, `${OP_NAMES[kind]} pos ${entry.pos} layer ${entry.layer} el ${e}`).toBe(
            entry.vec[e],
          )
          checked++
        }
      }
    }
    expect(checked).toBeGreaterThan(21 * 6)
    // The inputs bind to the trace: the vecRoot of an op's input bytes is that entry's vecRoot.
    const normed = capture.get(3, 2, OpKind.FFN_NORM)
    expect(await call<Hex>('vecRoot', [vectorBytes(normed)])).toBe(bytesHex(vecRoot(normed)))
  })
})

/* VARIANT MODELS */

describe('traces of the variant models (config v2: biases, NEOX, rope factors)', () => {
  for (const spec of ['qwen2', 'llama-rope-freqs', 'llama-rope-freqs-bias'] as const) {
    it(`${spec}: every op kind at random positions, contract = recompute = trace`, async () => {
      const model = variantModel(spec)
      const { config } = model
      expect(isPlainLlama(config)).toBe(false)
      const request = {
        promptTokens: [1, 40, 90, 300, 7, 211],
        maxTokens: 4,
        params: samplingParams({ temperature: 0.9, topK: 40, topP: 0.95 }),
        seed: 5,
      }
      const capture = new TraceCapture()
      generate(model, request, { sink: capture })
      let r = 777 + spec.length
      const next = (n: number) => {
        r = (Math.imul(r, 1103515245) + 12345) >>> 0
        return r % n
      }
      const byKind = new Map<number, typeof capture.entries>()
      for (const entry of capture.entries) {
        const list = byKind.get(entry.kind) ?? []
        list.push(entry)
        byKind.set(entry.kind, list)
      }
      expect(byKind.size).toBe(21)
      const context = {
        ropeTheta: config.ropeTheta,
        ...(config.ropeFreqFactors ? { ropeFreqFactors: config.ropeFreqFactors } : {}),
      }
      let checked = 0
      for (const [kind, entries] of byKind) {
        // The rope and biased projections get more positions and elements than the others.
        const featured = [OpKind.Q, OpKind.K, OpKind.V, OpKind.Q_ROPE, OpKind.K_ROPE].includes(
          kind as never,
        )
        const picks = Array.from({ length: featured ? 4 : 2 }, () => entries[next(entries.length)]!)
        for (const entry of picks) {
          const n = entry.vec.length
          const elements =
            kind === OpKind.SAMPLE
              ? [0, 1, 2, 3, 4]
              : featured
                ? [0, 1, config.ropeDim / 2 + 1, n - 1, next(n), next(n)]
                : [next(n)]
          for (const e of elements) {
            const { inputs, element } = elementInputs(
              model,
              capture,
              request,
              entry.pos,
              entry.layer,
              entry.kind,
              e,
            )
            const label = `${OP_NAMES[kind]} pos ${entry.pos} layer ${entry.layer} el ${e}`
            expect(recomputeElement(inputs, element) + 0, label).toBe(entry.vec[e])
            const c = oneStepCall(inputs, element, context)
            const got = await call<bigint | readonly bigint[]>(c.functionName, c.args)
            const value = Number(c.pick === undefined ? got : (got as readonly bigint[])[c.pick])
            expect(value, label).toBe(entry.vec[e])
            checked++
          }
        }
      }
      expect(checked).toBeGreaterThan(100)
    })
  }

  it('the bias changes the element: a zero bias in the call gives another value', async () => {
    const model = variantModel('qwen2')
    const request = { promptTokens: [3, 9, 27], maxTokens: 1, params: samplingParams({}), seed: 1 }
    const capture = new TraceCapture()
    generate(model, request, { sink: capture })
    const { inputs, element } = elementInputs(model, capture, request, 2, 1, OpKind.K, 3)
    if (inputs.kind !== OpKind.K) throw new Error('not a projection')
    expect(inputs.row.bias).not.toBe(0)
    const c = oneStepCall({ ...inputs, row: { ...inputs.row, bias: 0 } }, element)
    expect(Number(await call(c.functionName, c.args))).not.toBe(capture.get(2, 1, OpKind.K)[3])
  })
})
