/**
 * The dispute game's figures, on an anvil devnet with the trained test model (dim 128, 4 layers,
 * ffn 352, vocab 2048) against the core's stand-in:
 * - rounds per dispute against trace size: a cheater lies at one element of a projection (and,
 *   separately, of an attention mix, a sum game) at the last position of traces of growing length;
 *   a round is one of the miner's moves (each answers one challenge); the target is
 *   log2(total op leaves) + 4, the op leaves being every op output of every position;
 * - gas per move kind (mean and max over those games);
 * - one-step gas per op kind at hidden sizes 288, 2048 and 4096 (bench/onestep.bench.ts);
 * - the end-to-end time of one dispute with 1-block response windows.
 *
 *   npm run bench:dispute              tables
 *   npm run bench:dispute -- --json    one JSON line: rounds, gasPerMove, oneStepGas,
 *                                      oneStepGasMax4096, endToEnd
 */

import { sha256 } from '@noble/hashes/sha2.js'
import {
  type Address,
  concatHex,
  encodeAbiParameters,
  type Hex,
  keccak256,
  toBytes,
  toHex,
} from 'viem'
import { stepLibAbi } from '../src/chain/abis.ts'
import { maxAbsIndex } from '../src/chain/onestep.ts'
import { configBytes, type ModelConfig } from '../src/runtime/model/config.ts'
import { samplingParams } from '../src/runtime/sampler/sample.ts'
import { traceLeaf, vecRoot, ZERO_SUBTREES } from '../src/runtime/trace/hasher.ts'
import { MerkleTree } from '../src/runtime/trace/merkle.ts'
import { openElement } from '../src/runtime/trace/open.ts'
import { OpKind, opIdBytes, type TraceFault } from '../src/runtime/trace/ops.ts'
import {
  positionOpCount,
  positionOpIndex,
  shapeOf,
  weightLeafCount,
  weightLeafIndex,
} from '../src/runtime/trace/schedule.ts'
import { configArg, type StepContextArg, stepContext } from '../src/verify/dispute/context.ts'
import { compactFromFull, type StepProofArg } from '../src/verify/dispute/openings.ts'
import { chunkRange, compactProof, hexes, treeNodes } from '../src/verify/dispute/proofs.ts'
import {
  answer,
  type DisputeFixture,
  dispute,
  makeRequest,
  startDisputeFixture,
} from '../test/dispute-fixture.ts'
import { measureOneStepGas, type OneStepGasRow } from './onestep.bench.ts'

/** StepLib.recompute called directly (libraries' view functions may be): its selector names the structs. */
const RECOMPUTE = keccak256(toBytes('recompute(StepContext,StepProof)')).slice(0, 10) as Hex

function recomputeData(ctx: StepContextArg, proof: StepProofArg): Hex {
  const f = stepLibAbi.find((x) => x.type === 'function' && x.name === 'recompute')!
  return concatHex([
    RECOMPUTE,
    encodeAbiParameters((f as unknown as { inputs: never }).inputs, [ctx, proof] as never),
  ])
}

/** Gas of a transaction that runs one one-step check (StepLib.recompute) with this proof. */
async function stepGas(
  fx: DisputeFixture,
  stepLib: Address,
  ctx: StepContextArg,
  proof: StepProofArg,
) {
  const data = recomputeData(ctx, proof)
  const gas = await fx.devnet.publicClient.estimateGas({
    to: stepLib,
    data,
    account: fx.owner.account,
  })
  return Number(gas)
}

type RoundsRow = {
  positions: number
  opLeaves: number
  log2OpLeaves: number
  target: number
  /** A lie in a projection element: levels 1 and 2, the op, its chunk, the one step. */
  rounds: number
  /** A lie in an attention-mix element: the same, then the partial sums. */
  roundsMix: number
  moves: number
  /** Gas of every move of the projection dispute: the miner's, the challenger's (open included). */
  minerGas: number
  challengerGas: number
}

const params = samplingParams({ temperature: 0.8, topK: 40 })

function prompt(n: number): number[] {
  return Array.from({ length: n }, (_, i) => 1 + ((i * 131 + 7) % 2000))
}

async function roundsAndGas(fx: DisputeFixture) {
  const setup = fx.games[0]!
  const rows: RoundsRow[] = []
  const gas = new Map<string, number[]>()
  let turn = 0
  for (const [promptLength, maxTokens] of [
    [2, 2],
    [6, 3],
    [14, 3],
    [30, 3],
    [62, 3],
    [126, 3],
    [200, 8],
  ] as const) {
    const request = makeRequest(fx.model, prompt(promptLength), params, promptLength, maxTokens)
    const positions = promptLength + maxTokens - 1
    const shape = shapeOf(promptLength, positions)
    let opLeaves = 0
    for (let p = 0; p < positions; p++) opLeaves += positionOpCount(fx.model.config, shape, p)
    const last = positions - 1
    const result: number[] = []
    let moves = 0
    const sides = { miner: 0, challenger: 0 }
    for (const fault of [
      { pos: last, layer: 1, kind: OpKind.GATE, element: 33, delta: 80_000 },
      { pos: last, layer: 2, kind: OpKind.ATTN_MIX, element: 21, delta: 80_000 },
    ] satisfies TraceFault[]) {
      const miner = fx.miners[turn % fx.miners.length]!
      const challenger = fx.challengers[turn++ % fx.challengers.length]!
      const a = await answer(fx, setup, miner, request, { fault })
      const r = await dispute(fx, setup, { miner, challenger, request, answer: a, fault })
      if (!r.minerLost) throw new Error('the cheater won')
      result.push(r.rounds)
      moves = Math.max(moves, r.moves.length)
      if (fault.kind === OpKind.GATE) {
        for (const m of r.moves) sides[m.role] += Number(m.gas)
        sides.challenger += r.openGas
        const step = r.moves.find((m) => m.kind === 'oneStep')
        if (step?.move?.kind === 'oneStep' && step.view && !stepSample) {
          const ctx = stepContext(step.view, fx.model.config, 4096, Number(step.move.proof.lane))
          stepSample = {
            tx: Number(step.gas),
            library: await stepGas(fx, setup.stepLib, ctx, step.move.proof),
          }
        }
      }
      for (const m of r.moves) {
        const list = gas.get(m.kind) ?? []
        list.push(Number(m.gas))
        gas.set(m.kind, list)
      }
    }
    const log2 = Math.log2(opLeaves)
    rows.push({
      positions,
      opLeaves,
      log2OpLeaves: Number(log2.toFixed(2)),
      target: Number((log2 + 4).toFixed(2)),
      rounds: result[0]!,
      roundsMix: result[1]!,
      moves,
      minerGas: sides.miner,
      challengerGas: sides.challenger,
    })
  }
  const gasPerMove = Object.fromEntries(
    [...gas].map(([kind, list]) => [
      kind,
      {
        mean: Math.round(list.reduce((a, b) => a + b, 0) / list.length),
        max: Math.max(...list),
        count: list.length,
      },
    ]),
  )
  return { rows, gasPerMove, stepSample }
}

let stepSample: { tx: number; library: number } | undefined

/** A seeded xorshift stream of Q16 activations around +-1 with a few outliers, and int8 rows. */
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
  const gauss = () =>
    Math.sqrt(-2 * Math.log(u32() / 4294967296 + 1e-12)) *
    Math.cos((2 * Math.PI * u32()) / 4294967296)
  return { u32, gauss }
}

/**
 * The game's one step at hidden size 4096, off the test model: a projection (q at layer 5), an
 * rmsnorm (ffn_norm) and a rope element (q_rope), each with its input proven under a synthetic
 * R_p and its weight under a synthetic modelRoot of a Llama-3-8B shape (every other leaf zero),
 * as one transaction to StepLib: calldata, the proofs, the vecRoot binding and the kernel. The
 * same shape as config v2: q with a bias (attnBias, the qwen2 row leaf), NEOX rope, and rope
 * frequency factors (Llama 3.1: the step also opens the config leaf for its factor).
 */
async function stepAt4096(fx: DisputeFixture, stepLib: Address) {
  const plain: ModelConfig = {
    name: 'llama-3-8b shape',
    vocabSize: 128256,
    dim: 4096,
    nLayers: 32,
    nHeads: 32,
    nKvHeads: 8,
    headDim: 128,
    ffnDim: 14336,
    contextLength: 8192,
    ropeDim: 128,
    ropeTheta: 500000,
    normEps: 1e-5,
    tiedOutput: false,
  }
  const biased: ModelConfig = { ...plain, attnBias: true }
  const neox: ModelConfig = { ...plain, arch: 'qwen2', ropeType: 'neox', attnBias: true }
  // Llama 3.1's shape of factors: 1 for the fast pairs, 8 for the slow ones, a ramp between.
  const ropeFreqFactors = Array.from({ length: 64 }, (_, i) =>
    Math.fround(i < 20 ? 1 : i >= 44 ? 8 : 1 + ((i - 20) * 7) / 24),
  )
  const factored: ModelConfig = { ...plain, ropeFreqFactors }
  const config = plain
  const r = stream(4096)
  const x = Int32Array.from({ length: 4096 }, (_, i) =>
    Math.round(r.gauss() * (i % 97 === 0 ? 8 : 1) * 65536),
  )
  const pos = 100
  const layer = 5
  const count = 1 + 17 * config.nLayers + 3
  const leaves = new Uint8Array(count * 32)
  const put = (kind: number, vec: Int32Array) => {
    const index = positionOpIndex(config, layer, kind)
    leaves.set(traceLeaf(opIdBytes(pos, layer, kind, vec.length), vecRoot(vec)), 32 * index)
    return index
  }
  const norm = put(1, x) // attn_norm at layer 5: the q projection's input
  const qIndex = put(2, x) // q at layer 5: q_rope's input
  const resid = put(11, x) // resid_attn at layer 5: ffn_norm's input
  const tree = new MerkleTree(leaves, count)
  const weights = weightLeafCount(config)
  // A modelRoot with one non-zero leaf: its path's siblings are zero subtrees.
  const sparse = (index: number, leaf: Uint8Array) => {
    let node = leaf
    const proof: Hex[] = []
    for (let h = 0, i = index; 2 ** h < weights; h++, i = Math.floor(i / 2)) {
      const z = ZERO_SUBTREES[h]!
      if ((i ^ 1) * 2 ** h < weights) proof.push(toHex(z))
      const pair = new Uint8Array(64)
      pair.set(i % 2 === 0 ? node : z, 0)
      pair.set(i % 2 === 0 ? z : node, 32)
      node = sha256(pair)
    }
    return { root: toHex(node), proof }
  }
  const row = new Uint8Array(4096 + 12)
  for (let j = 0; j < 4096; j++)
    row[j] = Math.max(-127, Math.min(127, Math.round(r.gauss() * 40))) & 0xff
  new DataView(row.buffer).setInt32(4096, 3001, true)
  new DataView(row.buffer).setInt32(4100, 22, true)
  new DataView(row.buffer).setInt32(4104, -123456, true)
  const g = Int32Array.from({ length: 4096 }, (_, j) => 60000 + (j % 9000))
  const opening = (index: number, from: number, to: number) => {
    const range = chunkRange(x, from, to - from)
    return {
      ...range,
      firstChunk: BigInt(range.firstChunk),
      leafProof: hexes(compactProof(treeNodes(tree), index)),
      boundaryRoot: toHex(new Uint8Array(32)),
      checkpointProof: [],
    }
  }
  const whole = (index: number) => opening(index, 0, 4096)
  const base = (c: ModelConfig, kind: number, modelRoot: Hex, element = 7): StepContextArg => ({
    config: configArg(c),
    promptLength: 50n,
    positions: 200n,
    pos: BigInt(pos),
    index: BigInt(positionOpIndex(config, layer, kind)),
    layer: BigInt(layer),
    kind: BigInt(kind),
    element: BigInt(element),
    traceRoot: toHex(new Uint8Array(32)),
    modelRoot,
    promptRoot: toHex(new Uint8Array(32)),
    positionRoot: toHex(tree.root),
    seed: 1n,
    temperatureMilli: 0n,
    topK: 0n,
    topPMilli: 1000n,
    partElements: 4096n,
  })
  const proof = (vectors: StepProofArg['vectors'], w: StepProofArg['weights'], element = 7) => ({
    lane: BigInt(element % 8),
    vectors,
    weights: w,
    hint: BigInt(maxAbsIndex(x)),
    order: '0x' as Hex,
  })
  const qRow = weightLeafIndex(config, { tensor: 'q', layer, row: 7 })
  const q = sparse(qRow, sha256(row.subarray(0, 4104)))
  const projection = await stepGas(
    fx,
    stepLib,
    base(plain, 2, q.root),
    proof([whole(norm)], [{ data: toHex(row.subarray(0, 4104)), proof: q.proof }]),
  )
  const qb = sparse(qRow, sha256(row))
  const projectionBias = await stepGas(
    fx,
    stepLib,
    base(biased, 2, qb.root),
    proof([whole(norm)], [{ data: toHex(row), proof: qb.proof }]),
  )
  // The norm's leaf is its vecRoot: g_7 is opened as chunk 0, its proof to the vecRoot (9
  // siblings), then the leaf's to modelRoot.
  const gChunk = openElement(g, 7)
  const n = sparse(weightLeafIndex(config, { tensor: 'ffn_norm', layer }), vecRoot(g))
  const chunkProof = hexes(compactFromFull(gChunk.proof, 0, 512))
  const rmsnorm = await stepGas(
    fx,
    stepLib,
    base(plain, 12, n.root),
    proof([whole(resid)], [{ data: toHex(gChunk.chunk), proof: [...chunkProof, ...n.proof] }]),
  )
  // Element 101 of head 0: NORM pair (100, 101), i = 50 (factor 8); NEOX pair (37, 101).
  const e = 101
  const zeroRoot = toHex(new Uint8Array(32))
  const rope = await stepGas(
    fx,
    stepLib,
    base(plain, 5, zeroRoot, e),
    proof([opening(qIndex, 100, 102)], [], e),
  )
  const ropeNeox = await stepGas(
    fx,
    stepLib,
    base(neox, 5, zeroRoot, e),
    proof([opening(qIndex, 37, 102)], [], e),
  )
  const leaf0 = new Uint8Array([...configBytes(factored), ...new Uint8Array(32)])
  const c0 = sparse(0, sha256(leaf0))
  const ropeFactors = await stepGas(
    fx,
    stepLib,
    base(factored, 5, c0.root, e),
    proof([opening(qIndex, 100, 102)], [{ data: toHex(leaf0), proof: c0.proof }], e),
  )
  return { projection, projectionBias, rmsnorm, rope, ropeNeox, ropeFactors }
}

async function endToEnd() {
  const fx = await startDisputeFixture({
    partElements: [4096],
    miners: 1,
    challengers: 1,
    window: 1,
  })
  try {
    const setup = fx.games[0]!
    const request = makeRequest(fx.model, prompt(30), params, 9, 3)
    const fault = { pos: 31, layer: 2, kind: OpKind.DOWN, element: 5, delta: 80_000 }
    const miner = fx.miners[0]!
    const challenger = fx.challengers[0]!
    const a = await answer(fx, setup, miner, request, { fault })
    const startBlock = await fx.devnet.publicClient.getBlockNumber()
    const started = performance.now()
    const r = await dispute(fx, setup, { miner, challenger, request, answer: a, fault })
    const seconds = (performance.now() - started) / 1000
    const blocks = Number((await fx.devnet.publicClient.getBlockNumber()) - startBlock)
    return {
      seconds: Number(seconds.toFixed(2)),
      blocks,
      moves: r.moves.length + 1,
      minerLost: r.minerLost,
      window: 1,
      positions: 32,
    }
  } finally {
    await fx.stop()
  }
}

function oneStepSummary(rows: OneStepGasRow[]) {
  const oneStepGas: Record<string, Record<string, number>> = {}
  for (const r of rows) {
    oneStepGas[r.op] ??= {}
    oneStepGas[r.op]![r.size] = r.total
  }
  // The heaviest step the game plays at hidden 4096: the down projection's whole sum is played
  // as parts of 4096 inputs, so its one-part row counts, not the whole one.
  const at4096 = rows.filter(
    (r) => r.size.startsWith('hidden 4096') && r.op !== 'projection (down)',
  )
  const max = at4096.reduce((a, b) => (b.total > a.total ? b : a))
  return { oneStepGas, oneStepGasMax4096: max.total, heaviest4096: `${max.op}, ${max.size}` }
}

if (process.argv.includes('--step4096')) {
  // Only the game's one step at hidden 4096 (StepLib's own gas, without the game's overhead).
  const fx = await startDisputeFixture({ partElements: [4096], miners: 1, challengers: 1 })
  try {
    console.log(JSON.stringify(await stepAt4096(fx, fx.games[0]!.stepLib)))
  } finally {
    await fx.stop()
  }
  process.exit(0)
}

const fx = await startDisputeFixture({ partElements: [4096], miners: 2, challengers: 2 })
let rounds: Awaited<ReturnType<typeof roundsAndGas>>
let game4096: Awaited<ReturnType<typeof stepAt4096>>
try {
  rounds = await roundsAndGas(fx)
  game4096 = await stepAt4096(fx, fx.games[0]!.stepLib)
} finally {
  await fx.stop()
}
// What the game's oneStep transaction adds to the step library's own (state reads, the
// decision, the hook): measured on the test model.
const overhead = stepSample ? stepSample.tx - stepSample.library : 0
const e2e = await endToEnd()
const oneStep = oneStepSummary(await measureOneStepGas())

if (process.argv.includes('--json')) {
  console.log(
    JSON.stringify({
      rounds: rounds.rows,
      gasPerMove: rounds.gasPerMove,
      oneStepGas: oneStep.oneStepGas,
      oneStepGasMax4096: oneStep.oneStepGasMax4096,
      heaviest4096: oneStep.heaviest4096,
      gameStep4096: {
        projection: game4096.projection + overhead,
        projectionBias: game4096.projectionBias + overhead,
        rmsnorm: game4096.rmsnorm + overhead,
        rope: game4096.rope + overhead,
        ropeNeox: game4096.ropeNeox + overhead,
        ropeFactors: game4096.ropeFactors + overhead,
        libraryProjection: game4096.projection,
        libraryRmsnorm: game4096.rmsnorm,
        gameOverhead: overhead,
      },
      endToEnd: e2e,
    }),
  )
} else {
  const f = (n: number) => n.toLocaleString('en-US')
  console.log('| positions | op leaves | log2 | target | rounds (projection) | rounds (attn_mix) |')
  console.log('|---|---|---|---|---|---|')
  for (const r of rounds.rows)
    console.log(
      `| ${r.positions} | ${f(r.opLeaves)} | ${r.log2OpLeaves} | ${r.target} | ${r.rounds} | ${r.roundsMix} |`,
    )
  console.log('\n| move | mean gas | max gas | count |\n|---|---|---|---|')
  for (const [k, v] of Object.entries(rounds.gasPerMove))
    console.log(`| ${k} | ${f(v.mean)} | ${f(v.max)} | ${v.count} |`)
  console.log(
    `\none-step max at hidden 4096: ${f(oneStep.oneStepGasMax4096)} (${oneStep.heaviest4096})`,
  )
  console.log(
    `game one step at hidden 4096: projection ${f(game4096.projection + overhead)}, rmsnorm ${f(game4096.rmsnorm + overhead)} (StepLib ${f(game4096.projection)} / ${f(game4096.rmsnorm)} + game ${f(overhead)})`,
  )
  console.log(
    `config v2 at hidden 4096 (StepLib): projection with bias ${f(game4096.projectionBias)}, rope ${f(game4096.rope)}, NEOX ${f(game4096.ropeNeox)}, with factors ${f(game4096.ropeFactors)}`,
  )
  console.log(`end to end, 1-block windows: ${JSON.stringify(e2e)}`)
}
