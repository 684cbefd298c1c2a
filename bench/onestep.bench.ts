/**
 * Gas of the dispute game's one-step check (OneStepLib) per op kind, on an anvil devnet: one
 * transaction to OneStepHarness per case, which forwards to the linked library as the game will
 * (DELEGATECALL). Hidden sizes 288, 2048, 4096 (ffn 768, 5632, 14336), attention at context
 * 128 and 2048 with head dim 64 and 128, the sampler at vocab 512, 32000 and 128256.
 *
 *   node bin/run-ts.js bench/onestep.bench.ts            a table
 *   node bin/run-ts.js bench/onestep.bench.ts --json     one JSON line
 *
 * `total` is the receipt's gasUsed. `calldata` is the transaction's data at 16 gas per non-zero
 * byte and 4 per zero byte; `execution` is the call's gas inside the harness (`gasOf`: the
 * argument copy into the library call and the library's work). Without EIP-7623 the total is
 * 21,000 + calldata + execution; `floor` is EIP-7623's minimum charge for that calldata
 * (21,000 + 10 per zero byte + 40 per non-zero byte), charged instead when it is higher.
 * `vecRoot` is the execution gas of hashing the case's input vectors to their vecRoots (the
 * binding the game adds; their calldata is already paid by the step). Inputs are seeded: the
 * figures repeat exactly.
 */
import { encodeFunctionData, type Hex, hexToBytes } from 'viem'
import { oneStepHarnessAbi } from '../src/chain/abis.ts'
import { type Devnet, startDevnet } from '../src/chain/devnet.ts'
import {
  deployOneStep,
  float32Bits,
  float64Bits,
  maxAbsIndex,
  maxIndex,
  orderBytes,
  rowBytes,
  samplerOrder,
  vectorBytes,
} from '../src/chain/onestep.ts'
import { Prng } from '../src/runtime/sampler/prng.ts'
import { type SamplingParams, samplingParams } from '../src/runtime/sampler/sample.ts'

export type OneStepGasRow = {
  op: string
  size: string
  total: number
  calldata: number
  execution: number
  floor: number
  vecRoot: number
  /** Bytes of transaction data. */
  bytes: number
  note?: string
}

/** Deterministic inputs: a xorshift stream. */
function stream(seed: number) {
  let s = seed >>> 0 || 1
  const u32 = () => {
    s ^= s << 13
    s >>>= 0
    s ^= s >>> 17
    s ^= s << 5
    s >>>= 0
    return s
  }
  const unit = () => u32() / 4294967296
  const gauss = () => Math.sqrt(-2 * Math.log(unit() + 1e-12)) * Math.cos(2 * Math.PI * unit())
  return { u32, unit, gauss }
}

/** Activations of a plausible scale: Q16 values around +-1 with a few larger outliers. */
function activations(n: number, seed: number): Int32Array {
  const r = stream(seed)
  return Int32Array.from({ length: n }, (_, i) =>
    Math.round(r.gauss() * (i % 97 === 0 ? 8 : 1) * 65536),
  )
}

function int8Row(n: number, seed: number): Int8Array {
  const r = stream(seed)
  return Int8Array.from({ length: n }, () =>
    Math.max(-127, Math.min(127, Math.round(r.gauss() * 40))),
  )
}

function calldataGas(data: Hex): { standard: number; floor: number; bytes: number } {
  const bytes = hexToBytes(data)
  let zero = 0
  for (const b of bytes) if (b === 0) zero++
  const nonzero = bytes.length - zero
  return {
    standard: 4 * zero + 16 * nonzero,
    floor: 21_000 + 10 * (zero + 4 * nonzero),
    bytes: bytes.length,
  }
}

type Case = {
  op: string
  size: string
  fn: string
  args: readonly unknown[]
  bind: Hex[]
  note?: string
}

function cases(): Case[] {
  const out: Case[] = []
  const hidden = [
    [288, 768],
    [2048, 5632],
    [4096, 14336],
  ] as const
  for (const [dim, ffn] of hidden) {
    const xv = activations(dim, dim)
    const jmax = BigInt(maxAbsIndex(xv))
    const x = vectorBytes(xv)
    const row = int8Row(dim, dim + 1)
    const size = `hidden ${dim}`
    out.push({ op: 'embed', size, fn: 'embed', args: [rowBytes(row), 3001n, 22n, 7n], bind: [] })
    out.push({
      op: 'rmsnorm',
      size,
      fn: 'rmsnorm',
      args: [x, BigInt(dim), 5n, 70000n, 10995116n, jmax],
      bind: [x],
    })
    out.push({
      op: 'projection (q, k, v, attn_out, gate, up, logits)',
      size,
      fn: 'projection',
      args: [x, rowBytes(row), 3001n, 22n, 0n, jmax],
      bind: [x],
    })
    out.push({
      op: 'projection with bias (q, k, v of qwen2)',
      size,
      fn: 'projection',
      args: [x, rowBytes(row), 3001n, 22n, -123456n, jmax],
      bind: [x],
    })
    const hv = activations(ffn, ffn)
    const hrow = int8Row(ffn, ffn + 1)
    const h = vectorBytes(hv)
    out.push({
      op: 'projection (down)',
      size: `${size}, ffn ${ffn}`,
      fn: 'projection',
      args: [h, rowBytes(hrow), 2500n, 21n, 0n, BigInt(maxAbsIndex(hv))],
      bind: [h],
    })
    if (ffn > 4096) {
      // The same sum bisected: one part of 4096 elements (of ceil(ffn / 4096)), then the final.
      const part = vectorBytes(hv.subarray(0, 4096))
      out.push({
        op: 'projection (down), one part',
        size: `${size}, 4096 of ffn ${ffn}`,
        fn: 'projectionPartial',
        args: [part, rowBytes(hrow.subarray(0, 4096)), BigInt(Math.abs(hv[maxAbsIndex(hv)]!)), 0n],
        bind: [part],
        note: `${Math.ceil(ffn / 4096)} parts`,
      })
    }
  }
  for (const theta of [10000, 500000]) {
    out.push({
      op: 'rope (q_rope, k_rope)',
      size: `theta ${theta}, pair 31 of 64, pos 2^20 - 1`,
      fn: 'rope',
      args: [123456n, -98765n, 2n ** 20n - 1n, 62n, 128n, false, float64Bits(theta), 0],
      bind: [],
    })
  }
  out.push({
    op: 'rope, NEOX (qwen2)',
    size: 'theta 1000000, pair 31 of 64, pos 2^20 - 1',
    fn: 'rope',
    args: [123456n, -98765n, 2n ** 20n - 1n, 31n, 128n, true, float64Bits(1e6), 0],
    bind: [],
  })
  out.push({
    op: 'rope with a frequency factor (Llama 3.1)',
    size: 'theta 500000, factor 8, pair 31 of 64, pos 2^20 - 1',
    fn: 'rope',
    args: [123456n, -98765n, 2n ** 20n - 1n, 62n, 128n, false, float64Bits(500000), float32Bits(8)],
    bind: [],
    note: 'the game adds the config leaf opening (bench:dispute)',
  })
  for (const d of [64, 128]) {
    const q = vectorBytes(activations(d, d + 5))
    const k = vectorBytes(activations(d, d + 6))
    out.push({
      op: 'score',
      size: `head dim ${d}`,
      fn: 'score',
      args: [q, 0n, k, 0n, BigInt(d)],
      bind: [q, k],
    })
  }
  for (const t of [128, 2048]) {
    const r = stream(t)
    const scores = Int32Array.from({ length: t }, () => Math.round(r.gauss() * 3 * 65536))
    const s = vectorBytes(scores)
    out.push({
      op: 'softmax',
      size: `context ${t}`,
      fn: 'softmax',
      args: [s, 0n, BigInt(t), 5n, BigInt(maxIndex(scores))],
      bind: [s],
    })
    // Probabilities summing to about 2^16, values of activation scale.
    const probs = Int32Array.from({ length: t }, () => Math.floor((r.unit() * 2 * 65536) / t))
    const p = vectorBytes(probs)
    const v = vectorBytes(activations(t, t + 9))
    out.push({
      op: 'attn_mix (whole sum)',
      size: `context ${t}`,
      fn: 'attnMix',
      args: [p, 0n, v, BigInt(t)],
      bind: [p],
      note: 'the value column is not one vector: the game bisects the sum instead',
    })
  }
  out.push({
    op: 'attn_mix (one partial-sum step)',
    size: 'any context',
    fn: 'attnMixStep',
    args: [123456789012n, 40000n, -1234567n],
    bind: [],
  })
  out.push({
    op: 'attn_mix (final)',
    size: 'any context',
    fn: 'attnMixFinal',
    args: [-123456789012n],
    bind: [],
  })
  out.push({
    op: 'projection (final of the parts)',
    size: 'any',
    fn: 'projectionFinal',
    args: [-1234567n, 300000n, 3001n, 22n, 0n],
    bind: [],
  })
  out.push({ op: 'residual', size: 'any', fn: 'residual', args: [2n ** 31n - 5n, 77n], bind: [] })
  out.push({ op: 'swiglu', size: 'any', fn: 'swiglu', args: [-150000n, 98765n], bind: [] })
  const samplers: [string, SamplingParams][] = [
    ['greedy', samplingParams({})],
    ['T 0.8, top-k 40, top-p 0.95', samplingParams({ temperature: 0.8, topK: 40, topP: 0.95 })],
    ['T 1, no top-k, top-p 0.9', samplingParams({ temperature: 1, topP: 0.9 })],
  ]
  for (const vocab of [512, 32000, 128256]) {
    const logits = llmLogits(vocab, vocab)
    const z = vectorBytes(logits)
    for (const [name, params] of samplers) {
      const order = samplerOrder(logits, params)
      out.push({
        op: `sample (${name})`,
        size: `vocab ${vocab}`,
        fn: 'sample',
        args: [
          z,
          BigInt(vocab),
          {
            temperatureMilli: BigInt(params.temperatureMilli),
            topK: BigInt(params.topK),
            topPMilli: BigInt(params.topPMilli),
          },
          Array.from(new Prng(vocab).s),
          orderBytes(order),
        ],
        bind: [z],
        note: `order hint of ${order.length}`,
      })
    }
  }
  return out
}

/**
 * Logits shaped like a language model's: the bulk around 0 with a spread of 2.5 (natural log
 * units, Q16), a handful of tokens 8 to 16 above it.
 */
function llmLogits(vocab: number, seed: number): Int32Array {
  const r = stream(seed)
  const z = Int32Array.from({ length: vocab }, () => Math.round(r.gauss() * 2.5 * 65536))
  for (let i = 0; i < 12; i++) z[r.u32() % vocab] = Math.round((8 + r.unit() * 8) * 65536)
  return z
}

/**
 * Sends one transaction to the harness (its receipt's gasUsed is the total) and measures its
 * execution with the harness's `gasOf` (an eth_call): the total minus intrinsic gas is not it
 * when the EIP-7623 floor applies.
 */
async function measure(devnet: Devnet, harness: Hex, fn: string, args: readonly unknown[]) {
  const data = encodeFunctionData({ abi: oneStepHarnessAbi, functionName: fn, args } as never)
  const wallet = devnet.walletClients[0]!
  const hash = await wallet.sendTransaction({ to: harness, data, gas: 1_000_000_000n } as never)
  const receipt = await devnet.publicClient.waitForTransactionReceipt({ hash, pollingInterval: 20 })
  if (receipt.status !== 'success') throw new Error(`${fn} reverted`)
  const cd = calldataGas(data)
  return {
    total: Number(receipt.gasUsed),
    calldata: cd.standard,
    execution: await execution(devnet, harness, data),
    floor: cd.floor,
    bytes: cd.bytes,
  }
}

async function execution(devnet: Devnet, harness: Hex, data: Hex): Promise<number> {
  const [used, ok] = (await devnet.publicClient.readContract({
    address: harness,
    abi: oneStepHarnessAbi,
    functionName: 'gasOf',
    args: [data],
    gas: 1_000_000_000n,
  } as never)) as unknown as readonly [bigint, boolean]
  if (!ok) throw new Error('gasOf: the call reverted')
  return Number(used)
}

/**
 * Measures every case on a fresh devnet and returns one row per case (for `npm run bench:dispute`
 * and this script's table).
 */
export async function measureOneStepGas(): Promise<OneStepGasRow[]> {
  const devnet = await startDevnet({ accounts: 2 })
  try {
    const { harness } = await deployOneStep(devnet.publicClient, devnet.walletClients[0]!)
    const rows: OneStepGasRow[] = []
    for (const c of cases()) {
      const m = await measure(devnet, harness, c.fn, c.args)
      let vecRoot = 0
      for (const v of c.bind) {
        const data = encodeFunctionData({
          abi: oneStepHarnessAbi,
          functionName: 'vecRoot',
          args: [v],
        })
        vecRoot += await execution(devnet, harness, data)
      }
      rows.push({ op: c.op, size: c.size, ...m, vecRoot, ...(c.note ? { note: c.note } : {}) })
    }
    return rows
  } finally {
    await devnet.stop()
  }
}

function table(rows: OneStepGasRow[]): string {
  const f = (n: number) => n.toLocaleString('en-US')
  const lines = [
    '| op | size | total gas | calldata | execution | EIP-7623 floor | + vecRoot binding | bytes |',
    '|---|---|---|---|---|---|---|---|',
  ]
  for (const r of rows) {
    lines.push(
      `| ${r.op} | ${r.size}${r.note ? ` (${r.note})` : ''} | ${f(r.total)} | ${f(r.calldata)} | ${f(r.execution)} | ${f(r.floor)} | ${r.vecRoot ? f(r.vecRoot) : '-'} | ${f(r.bytes)} |`,
    )
  }
  return lines.join('\n')
}

if (process.argv[1]?.endsWith('onestep.bench.ts')) {
  const rows = await measureOneStepGas()
  console.log(process.argv.includes('--json') ? JSON.stringify(rows) : table(rows))
}
