import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { DEFAULT_YUMA_PARAMS } from './defaults.ts'
import { runEpoch } from './epoch.ts'
import type { EpochInput, EpochOutput, SparseMatrix, SparseRow, YumaParams } from './types.ts'

// Pins every bit of runEpoch's output on a few large, randomised multi-epoch runs, so that a
// rework of the epoch's internals (layout, buffers, fast paths) cannot drift unnoticed. The
// inputs are generated here from a fixed seed; the expected outputs were computed by the
// tuple-based implementation and committed in vectors/yuma-epoch-golden.json.
// Regenerate (only when the arithmetic is meant to change): GOLDEN_UPDATE=1 npx vitest run <this>.

const FILE = join(import.meta.dirname, '../../vectors/yuma-epoch-golden.json')

type Case = {
  name: string
  n: number
  /** uids 0..staked−1 hold stake; more than maxAllowedValidators so permits move. */
  staked: number
  epochs: number
  seed: number
  params: Partial<YumaParams>
  /** Adds commit blocks (with params.commitReveal) and columns ≥ n to some rows. */
  extras: boolean
}

const CASES: Case[] = [
  {
    name: 'classic 256 uids, 64 validators',
    n: 256,
    staked: 72,
    epochs: 3,
    seed: 1,
    params: {},
    extras: false,
  },
  {
    name: 'yuma3 + liquid alpha 256 uids, 64 validators',
    n: 256,
    staked: 72,
    epochs: 3,
    seed: 2,
    params: { yuma3: true, liquidAlpha: true },
    extras: false,
  },
  {
    name: 'classic 128 uids, partial bonds penalty, owner, threshold, commit-reveal',
    n: 128,
    staked: 40,
    epochs: 3,
    seed: 3,
    params: {
      bondsPenalty: 32768,
      kappa: 40000,
      ownerUid: 3,
      stakeThreshold: 2_000_000_000_000n,
      commitReveal: true,
      maxAllowedValidators: 32,
    },
    extras: true,
  },
  {
    name: 'yuma3 fixed alpha 128 uids, bonds penalty 0',
    n: 128,
    staked: 40,
    epochs: 3,
    seed: 4,
    params: { yuma3: true, bondsPenalty: 0, maxAllowedValidators: 32 },
    extras: true,
  },
  {
    name: 'yuma3 + liquid alpha 128 uids, partial penalty, steep sigmoid',
    n: 128,
    staked: 40,
    epochs: 3,
    seed: 5,
    params: {
      yuma3: true,
      liquidAlpha: true,
      bondsPenalty: 20000,
      alphaSigmoidSteepness: 3000,
      maxAllowedValidators: 32,
      ownerUid: 0,
    },
    extras: false,
  },
]

const BASE: YumaParams = DEFAULT_YUMA_PARAMS

/** Deterministic LCG (same constants as the bench). */
function lcg(seed: number): () => number {
  let s = seed
  return () => {
    s = (s * 1103515245 + 12345) % 2147483648
    return s / 2147483648
  }
}

/** A validator's stored weight row: mostly dense, some explicit zeros, some absent uids. */
function weightRow(rand: () => number, c: Case, i: number): SparseRow {
  const row: SparseRow = []
  for (let j = 0; j < c.n; j++) {
    const r = rand()
    if (r < 0.05) continue
    row.push([j, r < 0.1 ? 0 : Math.floor(rand() * 65536)])
  }
  // A self-weight (dropped except for the owner) and, with extras, uids beyond n (ignored).
  if (i % 7 === 0 && !row.some(([j]) => j === i)) {
    row.push([i, 65535])
    row.sort((a, b) => a[0] - b[0])
  }
  if (c.extras && i % 5 === 0) row.push([c.n + 3, 1234])
  return row
}

function initialInput(c: Case, rand: () => number): EpochInput {
  const n = c.n
  return {
    block: 10_000,
    params: { ...BASE, ...c.params },
    stake: Array.from({ length: n }, (_, i) =>
      i < c.staked ? BigInt(Math.floor(1e12 + rand() * 1e13)) : 0n,
    ),
    lastUpdate: Array.from({ length: n }, (_, i) => (i % 11 === 5 ? 1000 : 9990)),
    blockAtRegistration: Array.from({ length: n }, (_, i) => (i % 13 === 7 ? 9995 : 0)),
    // Stored permits and bonds as if earlier epochs ran, so the first epoch already has bonds.
    validatorPermit: Array.from({ length: n }, (_, i) => i < (c.params.maxAllowedValidators ?? 64)),
    weights: Array.from({ length: n }, (_, i) => (i < c.staked ? weightRow(rand, c, i) : [])),
    bonds: Array.from({ length: n }, (_, i) => (i < c.staked ? weightRow(rand, c, i) : [])),
    ...(c.extras
      ? { commitBlock: Array.from({ length: n }, (_, i) => (i % 4 === 1 ? 9000 : null)) }
      : {}),
    emission: 1_000_000_000n,
  }
}

/** The next epoch: stored outputs fed back, some weights, stakes and registrations changed. */
function nextInput(c: Case, prev: EpochInput, out: EpochOutput, rand: () => number): EpochInput {
  const block = prev.block + prev.params.tempo
  const weights: SparseMatrix = prev.weights.map((row, i) =>
    i < c.staked && rand() < 0.3 ? weightRow(rand, c, i) : row,
  )
  const stake = prev.stake.map((s) => (s > 0n ? s + BigInt(Math.floor(rand() * 3e12)) : s))
  // A few miners re-register just before this epoch: their stored bonds get masked.
  const blockAtRegistration = prev.blockAtRegistration.map((b, j) =>
    j >= c.staked && rand() < 0.04 ? block - 2 : b,
  )
  return {
    ...prev,
    block,
    stake,
    lastUpdate: prev.lastUpdate.map((u, i) => (rand() < 0.05 ? u : block - 1 - (i % 3))),
    blockAtRegistration,
    validatorPermit: out.validatorPermit,
    weights,
    bonds: out.bonds.map((row, i) => row ?? prev.bonds[i]!),
    emission: prev.emission + 123_456_789n,
  }
}

// Compact, formatter-stable encodings: one string per vector or bond row.
const nums = (xs: readonly (number | bigint)[]) => xs.join(' ')
const bools = (xs: readonly boolean[]) => xs.map((b) => (b ? '1' : '0')).join('')

/** A bond row as n dense slots ('-' = absent); rows must be strictly ascending in uid. */
function bondRow(row: SparseRow | null, n: number): string | null {
  if (row === null) return null
  const slots: string[] = new Array(n).fill('-')
  let last = -1
  for (const [j, v] of row) {
    if (j <= last || j >= n) throw new Error(`bond row not ascending within n: uid ${j}`)
    last = j
    slots[j] = String(v)
  }
  return row.length === 0 ? '' : slots.join(' ')
}

function encode(out: EpochOutput, n: number) {
  return {
    stakeWeight: nums(out.stakeWeight),
    activeStake: nums(out.activeStake),
    active: bools(out.active),
    consensus: nums(out.consensus),
    incentive: nums(out.incentive),
    dividends: nums(out.dividends),
    validatorTrust: nums(out.validatorTrust),
    validatorPermit: bools(out.validatorPermit),
    emission: nums(out.emission),
    serverEmission: nums(out.serverEmission),
    validatorEmission: nums(out.validatorEmission),
    stakeWeightU16: nums(out.stakeWeightU16),
    consensusU16: nums(out.consensusU16),
    incentiveU16: nums(out.incentiveU16),
    dividendsU16: nums(out.dividendsU16),
    validatorTrustU16: nums(out.validatorTrustU16),
    bonds: out.bonds.map((row) => bondRow(row, n)),
  }
}

function runCase(c: Case) {
  const rand = lcg(c.seed)
  let input = initialInput(c, rand)
  const epochs = []
  for (let e = 0; e < c.epochs; e++) {
    const out = runEpoch(input)
    epochs.push(encode(out, c.n))
    input = nextInput(c, input, out, rand)
  }
  return { name: c.name, epochs }
}

describe('golden epochs (vectors/yuma-epoch-golden.json)', () => {
  if (process.env.GOLDEN_UPDATE === '1') {
    it('regenerates the vector file', () => {
      const cases = CASES.map(runCase)
      writeFileSync(FILE, `${JSON.stringify({ cases }, null, 2)}\n`)
    })
    return
  }
  const golden = JSON.parse(readFileSync(FILE, 'utf8')) as {
    cases: ReturnType<typeof runCase>[]
  }
  it('has every case', () => {
    expect(golden.cases.map((c) => c.name)).toEqual(CASES.map((c) => c.name))
  })
  for (const [k, c] of CASES.entries()) {
    it(`${c.name}: every output bit of ${c.epochs} consecutive epochs`, () => {
      const got = runCase(c)
      const want = golden.cases[k]!
      // Epoch by epoch and field by field, so a failure names the first drifting term.
      for (let e = 0; e < c.epochs; e++) {
        for (const [field, value] of Object.entries(want.epochs[e]!)) {
          expect(
            got.epochs[e]![field as keyof (typeof got.epochs)[number]],
            `${field}@${e}`,
          ).toEqual(value)
        }
      }
      expect(got.epochs.length).toBe(c.epochs)
    })
  }
})
