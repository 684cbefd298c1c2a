import { type Address, type Hex, toHex } from 'viem'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  answer,
  type DisputeFixture,
  dispute,
  type GameSetup,
  honestRoot,
  makeRequest,
  STAKE,
  startDisputeFixture,
  type Wallet,
} from '../../../test/dispute-fixture.ts'
import { disputeCoreStandInAbi, verityTokenAbi } from '../../chain/abis.ts'
import { getDispute } from '../../chain/actions/getDispute.ts'
import { openDispute } from '../../chain/actions/openDispute.ts'
import { DisputePhase, DisputeReason, waitMined } from '../../chain/dispute.ts'
import { generate } from '../../runtime/generate.ts'
import { Prng } from '../../runtime/sampler/prng.ts'
import { samplingParams } from '../../runtime/sampler/sample.ts'
import { NO_LAYER, OP_NAMES, OpKind, type TraceFault } from '../../runtime/trace/ops.ts'
import { opLength } from '../../runtime/trace/schedule.ts'
import { disputeRequest, openParams } from './open.ts'
import { isProjection } from './openings.ts'
import { type PlayResult, playDispute, readDispute, sendMove } from './play.ts'
import { DisputePlayer, minerToMove } from './player.ts'

/**
 * The dispute game played on anvil against the core's stand-in, by the player library on both
 * sides: for every op kind a miner lying at a random element of a random op (its receipt signed
 * over the lie) loses and is slashed through the hook, in the direct one-step form (game A) and
 * with long projections and softmax rows played as sums (game B, 16 elements a part); an honest
 * miner beats a lying challenger, who loses its bond; stalling loses; the tokens that move are
 * exactly the hook's slash and the bonds. Seeded; one devnet for the file.
 */
const SEED = 20_261_203
let fx: DisputeFixture
let gameA: GameSetup
let gameB: GameSetup

beforeAll(async () => {
  fx = await startDisputeFixture({ partElements: [4096, 16], miners: 4, challengers: 3 })
  ;[gameA, gameB] = fx.games as [GameSetup, GameSetup]
})

afterAll(async () => {
  await fx?.stop()
})

const params = samplingParams({ temperature: 0.8, topP: 0.95 })
/** 18 prompt tokens: positions 16.. have more than 16 scores per head (game B's softmax sums). */
const prompt = Array.from({ length: 18 }, (_, i) => 1 + ((i * 101) % 1500))

async function read<T>(address: Address, abi: unknown, functionName: string, args: unknown[] = []) {
  return (await fx.devnet.publicClient.readContract({
    address,
    abi,
    functionName,
    args,
  } as never)) as T
}

const balance = (who: Address) => read<bigint>(fx.token, verityTokenAbi, 'balanceOf', [who])
const supply = () => read<bigint>(fx.token, verityTokenAbi, 'totalSupply')

async function send(wallet: Wallet, address: Address, abi: unknown, fn: string, args: unknown[]) {
  const hash = await wallet.writeContract({ address, abi, functionName: fn, args } as never)
  await waitMined(fx.devnet.publicClient, hash)
}

/** Tops the miner's pool up to STAKE, so every slash takes a real amount. */
async function topUp(setup: GameSetup, miner: Wallet) {
  const stake = await read<bigint>(setup.core, disputeCoreStandInAbi, 'stakeOf', [
    1,
    miner.account.address,
  ])
  if (stake >= STAKE) return
  await send(miner, fx.token, verityTokenAbi, 'approve', [setup.core, STAKE - stake])
  await send(miner, setup.core, disputeCoreStandInAbi, 'stake', [
    1,
    miner.account.address,
    STAKE - stake,
  ])
}

type Ledger = {
  challenger: bigint
  miner: bigint
  game: bigint
  core: bigint
  supply: bigint
  slashable: bigint
}

async function ledger(setup: GameSetup, miner: Wallet, challenger: Wallet): Promise<Ledger> {
  const [active, locked] = await read<[bigint, bigint]>(
    setup.core,
    disputeCoreStandInAbi,
    'slashable',
    [1, miner.account.address],
  )
  return {
    challenger: await balance(challenger.account.address),
    miner: await balance(miner.account.address),
    game: await balance(setup.game),
    core: await balance(setup.core),
    supply: await supply(),
    slashable: active + locked,
  }
}

/**
 * What moved is exactly the hook's slash and the bond: the loser's side pays, the core's balance
 * falls by the slash, the supply by its burned part, and the game holds nothing afterwards.
 */
async function expectConservation(
  setup: GameSetup,
  before: Ledger,
  miner: Wallet,
  challenger: Wallet,
  result: PlayResult & { id: bigint },
) {
  const after = await ledger(setup, miner, challenger)
  const d = await getDispute(fx.devnet.publicClient, { address: setup.game, id: result.id })
  const bond = d.bond
  expect(after.game).toBe(before.game)
  if (result.minerLost) {
    const slashed = smaller(before.slashable, d.slashAmount)
    const paid = (slashed * BigInt(d.rewardBps)) / 10_000n
    expect(result.slashed).toBe(slashed)
    expect(slashed).toBeGreaterThan(0n)
    expect(after.challenger - before.challenger).toBe(paid)
    expect(after.miner).toBe(before.miner)
    expect(before.core - after.core).toBe(slashed)
    expect(before.supply - after.supply).toBe(slashed - paid)
    expect(before.slashable - after.slashable).toBe(slashed)
  } else {
    expect(result.slashed).toBe(0n)
    expect(before.challenger - after.challenger).toBe(bond)
    expect(after.miner - before.miner).toBe(bond)
    expect(after.core).toBe(before.core)
    expect(after.supply).toBe(before.supply)
  }
}

const L = () => fx.model.config.nLayers

/** The smaller of two amounts (bigints have no Math.min). */
function smaller(a: bigint, b: bigint): bigint {
  if (a < b) return a
  return b
}

/** One fault of `kind` at a random place whose change shows in the trace. */
function randomFault(prng: Prng, kind: number, request: ReturnType<typeof makeRequest>) {
  const { config } = fx.model
  const run = disputeRequest(request, Array(request.maxTokens).fill(0))
  const honest = generate(fx.model, run)
  const P = honest.traceLeafCount!
  const T = request.promptTokens.length
  for (;;) {
    const head = kind >= OpKind.FINAL_NORM
    const first = head ? T - 1 : 0
    const pos = first + prng.below(P - first)
    const layer = kind === OpKind.EMBED || head ? NO_LAYER : prng.below(L())
    const element = prng.below(opLength(config, pos, kind))
    let fault: TraceFault
    if (kind === OpKind.SAMPLE && element === 0)
      fault = { pos, layer, kind, element, value: prng.below(config.vocabSize) }
    else if (head) fault = { pos, layer, kind, element, delta: 1 << 23 }
    else {
      const size = 1 + prng.below(1 << 20)
      fault = { pos, layer, kind, element, delta: prng.below(2) === 0 ? size : -size }
    }
    const lie = generate(fx.model, run, { fault })
    // A change nothing later reads (or rounded away) leaves the receipt honest: try again.
    if (toHex(lie.traceRoot!) !== toHex(honest.traceRoot!)) return fault
  }
}

let turn = 0
function parties() {
  const i = turn++
  return {
    miner: fx.miners[i % fx.miners.length]!,
    challenger: fx.challengers[i % fx.challengers.length]!,
  }
}

describe('a miner lying at a random element of a random op loses, for every op kind', () => {
  const prng = new Prng(SEED)
  for (const which of ['A', 'B'] as const) {
    const reasons = new Map<number, number>()
    for (let kind = 0; kind <= OpKind.SAMPLE; kind++) {
      it(`game ${which}: a lie in ${OP_NAMES[kind]} is refuted and slashed`, {
        timeout: 300_000,
      }, async () => {
        const setup = which === 'A' ? gameA : gameB
        const request = makeRequest(fx.model, prompt, params, 11 + kind, 5)
        const fault = randomFault(prng, kind, request)
        const { miner, challenger } = parties()
        await topUp(setup, miner)
        const a = await answer(fx, setup, miner, request, { fault })
        const before = await ledger(setup, miner, challenger)
        const r = await dispute(fx, setup, { miner, challenger, request, answer: a, fault })
        const label = `${OP_NAMES[kind]} at ${fault.pos}/${fault.layer}[${fault.element}]`
        expect(r.minerLost, label).toBe(true)
        expect(r.moves.at(-1)!.role, label).toBe('challenger')
        await expectConservation(setup, before, miner, challenger, r)
        reasons.set(r.reason, (reasons.get(r.reason) ?? 0) + 1)
        // Game A plays attn_mix as a sum; game B also long projections and softmax rows (16 a
        // part). A sum's cheater whose claim no last partial sum gives (the final check's
        // rounding skips values) cannot post at all and times out.
        const sum =
          kind === OpKind.ATTN_MIX ||
          (which === 'B' && (isProjection(kind) || (kind === OpKind.SOFTMAX && fault.pos + 1 > 16)))
        if (sum) expect([DisputeReason.SUM_STEP, DisputeReason.TIMEOUT], label).toContain(r.reason)
        else expect(r.reason, label).toBe(DisputeReason.ONE_STEP)
      })
    }
    it(`game ${which}: settled by the one step and by sums`, () => {
      expect(reasons.get(DisputeReason.ONE_STEP)).toBeGreaterThan(10)
      expect(reasons.get(DisputeReason.SUM_STEP)).toBeGreaterThan(which === 'A' ? 0 : 4)
    })
  }

  it('a lazy cheater (the honest R_p beside its own checkpoint) is caught by the binding move', async () => {
    const setup = gameA
    const request = makeRequest(fx.model, prompt, params, 7, 5)
    const fault = { pos: 19, layer: 2, kind: OpKind.V, element: 9, delta: 40_000 }
    const { miner, challenger } = parties()
    await topUp(setup, miner)
    const a = await answer(fx, setup, miner, request, { fault })
    const before = await ledger(setup, miner, challenger)
    const r = await dispute(fx, setup, { miner, challenger, request, answer: a, fault, lazy: true })
    expect(r.moves.map((m) => m.kind)).toContain('challengeBinding')
    expect(r.minerLost).toBe(true)
    expect(r.reason).toBe(DisputeReason.TIMEOUT)
    await expectConservation(setup, before, miner, challenger, r)
  })
})

describe('resuming and small traces', () => {
  it('both sides resume from the chain alone: new players finish a game old ones started', async () => {
    const setup = gameA
    const request = makeRequest(fx.model, prompt, params, 31, 4)
    const fault = { pos: 19, layer: 1, kind: OpKind.ATTN_OUT, element: 77, delta: 70_000 }
    const { miner, challenger } = parties()
    await topUp(setup, miner)
    const a = await answer(fx, setup, miner, request, { fault })
    const before = await ledger(setup, miner, challenger)
    const { id } = await openDispute(challenger, {
      address: setup.game,
      open: openParams({
        receipt: a.receipt,
        request,
        tokens: a.tokens,
        model: fx.model,
        claimedRoot: honestRoot(fx.model, request, a.tokens),
      }),
    })
    const run = disputeRequest(request, a.tokens)
    const players = () => ({
      miner: new DisputePlayer({
        model: fx.model,
        request: run,
        role: 'miner',
        fault,
        partElements: 4096,
      }),
      challenger: new DisputePlayer({
        model: fx.model,
        request: run,
        role: 'challenger',
        partElements: 4096,
      }),
    })
    // Twelve moves (into R_p's bisection), then both nodes "restart".
    const first = players()
    for (let n = 0; n < 12; n++) {
      const view = await readDispute(fx.devnet.publicClient, setup.game, id)
      const role = minerToMove(view.dispute) ? 'miner' : 'challenger'
      await sendMove(
        role === 'miner' ? miner : challenger,
        setup.game,
        id,
        first[role].nextMove(view)!,
      )
    }
    expect((await getDispute(fx.devnet.publicClient, { address: setup.game, id })).phase).toBe(
      DisputePhase.BISECT2,
    )
    const second = players()
    const r = await playDispute({
      client: fx.devnet.publicClient,
      game: setup.game,
      id,
      miner: { wallet: miner, player: second.miner },
      challenger: { wallet: challenger, player: second.challenger },
    })
    expect(r.minerLost).toBe(true)
    expect(r.reason).toBe(DisputeReason.ONE_STEP)
    await expectConservation(setup, before, miner, challenger, { ...r, id })
  })

  it('a one-position trace (one prompt token, one token sampled) starts at the position post', async () => {
    const setup = gameA
    const request = makeRequest(fx.model, [42], params, 3, 1)
    const fault = { pos: 0, layer: 2, kind: OpKind.V, element: 5, delta: 70_000 }
    const { miner, challenger } = parties()
    await topUp(setup, miner)
    const a = await answer(fx, setup, miner, request, { fault })
    expect(a.receipt.traceLeaves).toBe(1)
    const before = await ledger(setup, miner, challenger)
    const r = await dispute(fx, setup, { miner, challenger, request, answer: a, fault })
    expect(r.moves[0]!.kind).toBe('postPosition')
    expect(r.minerLost).toBe(true)
    await expectConservation(setup, before, miner, challenger, r)
  })
})

describe('an honest miner against a lying challenger', () => {
  it('random claims at every level (binding, chunks, lanes, sums): the challenger loses its bond', {
    timeout: 600_000,
  }, async () => {
    const reasons = new Set<number>()
    const kinds = new Set<string>()
    // Random honest runs: prompt lengths 1 to 24, greedy or sampled, 1 to 5 tokens.
    const rng = new Prng(SEED + 1)
    for (let g = 0; g < 10; g++) {
      const setup = g % 2 === 0 ? gameA : gameB
      const length = 1 + rng.below(24)
      const runParams =
        rng.below(3) === 0
          ? samplingParams({})
          : samplingParams({ temperature: 0.5 + rng.below(10) / 10, topK: rng.below(50) })
      const request = makeRequest(
        fx.model,
        Array.from({ length }, () => rng.below(fx.model.config.vocabSize)),
        runParams,
        100 + g,
        1 + rng.below(5),
      )
      const { miner, challenger } = parties()
      await topUp(setup, miner)
      const a = await answer(fx, setup, miner, request)
      const before = await ledger(setup, miner, challenger)
      const claimedRoot = toHex(Uint8Array.from({ length: 32 }, () => rng.below(256))) as Hex
      const r = await dispute(fx, setup, {
        miner,
        challenger,
        request,
        answer: a,
        claimedRoot,
        liar: { seed: SEED + g },
      })
      expect(r.minerLost, `game ${g}`).toBe(false)
      await expectConservation(setup, before, miner, challenger, r)
      reasons.add(r.reason)
      for (const m of r.moves) kinds.add(m.kind)
    }
    expect(reasons.has(DisputeReason.ONE_STEP) || reasons.has(DisputeReason.SUM_STEP)).toBe(true)
    expect(reasons.has(DisputeReason.BINDING_PROVEN)).toBe(true)
    expect([...kinds]).toEqual(expect.arrayContaining(['revealLeaf', 'oneStep', 'proveBinding']))
  })

  it('a false output claim: the miner opens the token and wins', async () => {
    const setup = gameA
    const request = makeRequest(fx.model, prompt, params, 55, 4)
    const { miner, challenger } = parties()
    const a = await answer(fx, setup, miner, request)
    const before = await ledger(setup, miner, challenger)
    const r = await dispute(fx, setup, { miner, challenger, request, answer: a, outputIndex: 2 })
    expect(r.minerLost).toBe(false)
    expect(r.reason).toBe(DisputeReason.OUTPUT_PROVEN)
    await expectConservation(setup, before, miner, challenger, r)
  })

  it('a token the trace did not sample: the miner cannot open it and loses', async () => {
    const setup = gameA
    const request = makeRequest(fx.model, prompt, params, 56, 4)
    const { miner, challenger } = parties()
    await topUp(setup, miner)
    // The honest run's trace, with the returned token 3 changed.
    const a = await answer(fx, setup, miner, request, {
      tokens: (t) => t.map((x, i) => (i === 3 ? (x + 1) % fx.model.config.vocabSize : x)),
    })
    const before = await ledger(setup, miner, challenger)
    const r = await dispute(fx, setup, { miner, challenger, request, answer: a, outputIndex: 3 })
    expect(r.minerLost).toBe(true)
    expect(r.reason).toBe(DisputeReason.TIMEOUT)
    await expectConservation(setup, before, miner, challenger, r)
  })
})

describe('stalling loses', () => {
  const request = () => makeRequest(fx.model, prompt, params, 77 + turn, 4)
  for (const after of [0, 3, 9]) {
    it(`a cheating miner that stops after ${after} moves is timed out and slashed`, async () => {
      const fault = { pos: 18, layer: 1, kind: OpKind.UP, element: 5, delta: 90_000 }
      const { miner, challenger } = parties()
      await topUp(gameA, miner)
      const req = request()
      const a = await answer(fx, gameA, miner, req, { fault })
      const before = await ledger(gameA, miner, challenger)
      const r = await dispute(fx, gameA, {
        miner,
        challenger,
        request: req,
        answer: a,
        fault,
        stall: { role: 'miner', after },
      })
      expect(r.minerLost).toBe(true)
      expect(r.reason).toBe(DisputeReason.TIMEOUT)
      expect(r.moves.filter((m) => m.role === 'miner' && m.kind !== 'timeout')).toHaveLength(after)
      await expectConservation(gameA, before, miner, challenger, r)
    })
  }
  for (const after of [0, 4, 11]) {
    it(`an honest challenger that stops after ${after} moves loses its bond`, async () => {
      const fault = { pos: 20, layer: 2, kind: OpKind.SWIGLU, element: 70, delta: 90_000 }
      const { miner, challenger } = parties()
      const req = request()
      const a = await answer(fx, gameA, miner, req, { fault })
      const before = await ledger(gameA, miner, challenger)
      const r = await dispute(fx, gameA, {
        miner,
        challenger,
        request: req,
        answer: a,
        fault,
        stall: { role: 'challenger', after },
      })
      expect(r.minerLost).toBe(false)
      expect(r.reason).toBe(DisputeReason.TIMEOUT)
      await expectConservation(gameA, before, miner, challenger, r)
    })
  }
})
