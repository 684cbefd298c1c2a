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
import { samplingParams } from '../src/runtime/sampler/sample.ts'
import { OpKind, type TraceFault } from '../src/runtime/trace/ops.ts'
import { positionOpCount, shapeOf } from '../src/runtime/trace/schedule.ts'
import {
  answer,
  type DisputeFixture,
  dispute,
  makeRequest,
  startDisputeFixture,
} from '../test/dispute-fixture.ts'
import { measureOneStepGas, type OneStepGasRow } from './onestep.bench.ts'

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
  return { rows, gasPerMove }
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

const fx = await startDisputeFixture({ partElements: [4096], miners: 2, challengers: 2 })
let rounds: Awaited<ReturnType<typeof roundsAndGas>>
try {
  rounds = await roundsAndGas(fx)
} finally {
  await fx.stop()
}
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
  console.log(`end to end, 1-block windows: ${JSON.stringify(e2e)}`)
}
