import {
  BaseError,
  ContractFunctionRevertedError,
  type Hex,
  numberToHex,
  parseEther,
  parseEventLogs,
  toHex,
} from 'viem'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  type Answer,
  answer,
  type DisputeFixture,
  type GameSetup,
  honestRoot,
  makeRequest,
  PARAMS,
  rpc,
  startDisputeFixture,
  UNSTAKE_DELAY,
  type Wallet,
} from '../../../test/dispute-fixture.ts'
import { disputeCoreStandInAbi } from '../../chain/abis.ts'
import { getDispute } from '../../chain/actions/getDispute.ts'
import { getDisputeParams } from '../../chain/actions/getDisputeParams.ts'
import type { OpenParamsArg } from '../../chain/actions/openDispute.ts'
import { openDispute } from '../../chain/actions/openDispute.ts'
import { setDisputeParams } from '../../chain/actions/setDisputeParams.ts'
import { timeoutDispute } from '../../chain/actions/timeoutDispute.ts'
import {
  DisputePhase,
  DisputeReason,
  disputeGameErrorsAbi,
  waitMined,
  writeGame,
} from '../../chain/dispute.ts'
import { openChallenge } from '../../node/challenge.ts'
import { samplingParams } from '../../runtime/sampler/sample.ts'
import { OpKind, type TraceFault } from '../../runtime/trace/ops.ts'
import type { InferenceRequest } from '../../types/inference.ts'
import { disputeRequest, openParams } from './open.ts'
import { type SumOpeningsArg, type VectorOpeningArg, weightOpening } from './openings.ts'
import { readDispute, sendMove } from './play.ts'
import { type DisputeMove, DisputePlayer, type DisputeView, minerToMove } from './player.ts'

/**
 * The game's rules: every way to open or move wrongly reverts with a custom error naming the
 * problem (bad proofs at every step, wrong turns, late moves, forged, unregistered, expired or
 * reused receipts, another model); receipts that contradict themselves are decided at open;
 * disputes on different receipts run side by side; parameters keep to their bounds and apply
 * after their delay. One devnet, games A (direct one step) and B (sums of 16-element parts).
 */
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
const prompt = Array.from({ length: 18 }, (_, i) => 1 + ((i * 37) % 1700))
let seed = 500
const request = (maxTokens = 4, stopTokens: number[] = []) =>
  makeRequest(fx.model, prompt, params, seed++, maxTokens, stopTokens)

/** The custom error a call reverted with. */
async function revertName(p: Promise<unknown>): Promise<string> {
  try {
    await p
  } catch (error) {
    if (error instanceof BaseError) {
      const revert = error.walk((e) => e instanceof ContractFunctionRevertedError)
      if (revert instanceof ContractFunctionRevertedError)
        return revert.data?.errorName ?? revert.shortMessage
    }
    throw error
  }
  return 'no revert'
}

const mine = (n: number) => rpc(fx.devnet, 'anvil_mine', [numberToHex(n)])

function opening(
  _setup: GameSetup,
  a: Answer,
  req: InferenceRequest,
  extra: Partial<OpenParamsArg> = {},
) {
  return {
    ...openParams({
      receipt: a.receipt,
      request: req,
      tokens: a.tokens,
      model: fx.model,
      claimedRoot: honestRoot(fx.model, req, a.tokens),
    }),
    ...extra,
  }
}

const flip = (h: Hex, at = 2): Hex =>
  `${h.slice(0, at)}${(Number.parseInt(h[at]!, 16) ^ 1).toString(16)}${h.slice(at + 1)}` as Hex

describe('opening', () => {
  it('refuses forged, unregistered, other-model, expired, reused and mismatched receipts by name', async () => {
    const [miner, other] = fx.miners as [Wallet, Wallet]
    const challenger = fx.challengers[0]!
    const req = request()
    const fault = { pos: 19, layer: 0, kind: OpKind.K, element: 3, delta: 50_000 }
    const a = await answer(fx, gameA, miner, req, { fault })
    const open = (o: OpenParamsArg) => openDispute(challenger, { address: gameA.game, open: o })

    // Signed by another key than the receipt's hotkey; a malformed signature.
    const forged = await answer(fx, gameA, miner, req, { fault, signer: other })
    expect(await revertName(open(opening(gameA, forged, req)))).toBe('BadSignature')
    expect(
      await revertName(open(opening(gameA, a, req, { signature: `0x${'11'.repeat(65)}` }))),
    ).toBe('BadSignature')
    // A key that never registered signs its own receipt.
    const stranger = fx.challengers[2]!
    const unregistered = await answer(fx, gameA, stranger, req, { fault })
    expect(await revertName(open(opening(gameA, unregistered, req)))).toBe('NotRegistered')
    // The subnet serves another model now.
    await send(fx.owner, gameA.core, 'setSubnetModel', [1, toHex(new Uint8Array(32).fill(7))])
    expect(await revertName(open(opening(gameA, a, req)))).toBe('WrongModel')
    await send(fx.owner, gameA.core, 'setSubnetModel', [1, toHex(fx.model.modelRoot)])
    // The data must be what the receipt signs.
    const o = opening(gameA, a, req)
    expect(await revertName(open({ ...o, request: flip(o.request, 70) }))).toBe('RequestMismatch')
    expect(await revertName(open({ ...o, tokens: `${o.tokens}00000001` }))).toBe('OutputMismatch')
    expect(await revertName(open({ ...o, tokenizerDigest: flip(o.tokenizerDigest) }))).toBe(
      'ConfigNotInModel',
    )
    expect(await revertName(open({ ...o, configProof: o.configProof.slice(1) }))).toBe(
      'ProofLength',
    )
    expect(await revertName(open({ ...o, claimedRoot: a.receipt.traceRoot }))).toBe('SameTraceRoot')
    expect(await revertName(open({ ...o, outputIndex: 4n }))).toBe('OutputIndex')
    const wrongChain = { ...o, receipt: { ...o.receipt, chainId: 1n } }
    expect(await revertName(open(wrongChain))).toBe('WrongChain')
    // Opened once, it cannot be opened again.
    const { id } = await open(o)
    expect(await revertName(open(o))).toBe('ReceiptAlreadyDisputed')
    expect((await getDispute(fx.devnet.publicClient, { address: gameA.game, id })).phase).toBe(
      DisputePhase.BISECT,
    )
    // Expired: past validUntilBlock, and past issuedBlock + maxValidity.
    await mine(PARAMS.maxValidity + 10)
    const block = Number(await fx.devnet.publicClient.getBlockNumber())
    const late = await answer(fx, gameA, miner, req, {
      fault,
      receipt: { validUntilBlock: block + 1 },
    })
    const lateLate = await answer(fx, gameA, miner, req, {
      fault,
      receipt: { issuedBlock: block - PARAMS.maxValidity - 5, validUntilBlock: block + 10_000 },
    })
    await mine(5)
    expect(await revertName(open(opening(gameA, late, req)))).toBe('ReceiptExpired')
    expect(await revertName(open(opening(gameA, lateLate, req)))).toBe('ReceiptExpired')
    // A hotkey dropped from the subnet can no longer be disputed.
    const b = await answer(fx, gameA, other, req, { fault })
    await send(fx.owner, gameA.core, 'deregister', [1, other.account.address])
    expect(await revertName(open(opening(gameA, b, req)))).toBe('NotRegistered')
    await send(other, gameA.core, 'register', [1])
  })

  it('a request with logit bias or penalties is refused by name (the sample step cannot check them yet); logprobs alone open', async () => {
    const miner = fx.miners[1]!
    const challenger = fx.challengers[0]!
    const open = (o: OpenParamsArg) => openDispute(challenger, { address: gameA.game, open: o })
    const fault = { pos: 19, layer: 0, kind: OpKind.K, element: 3, delta: 50_000 }
    for (const p of [{ presencePenalty: 0.5 }, { frequencyPenalty: -1 }, { logitBias: { 3: 5 } }]) {
      const adjusted = samplingParams({ temperature: 0.8, topP: 0.95, ...p })
      const req = makeRequest(fx.model, prompt, adjusted, seed++, 4, [])
      const a = await answer(fx, gameA, miner, req, { fault })
      expect(await revertName(open(opening(gameA, a, req))), JSON.stringify(p)).toBe(
        'LogitAdjustmentsUnsupported',
      )
      // A validator's challenge sees the disagreement and says why it does not open.
      const result = await openChallenge({
        chain: { publicClient: fx.devnet.publicClient, walletClient: challenger as never },
        game: gameA.game,
        model: fx.model,
        bundle: { request: req, tokens: a.tokens, receipt: a.receipt },
      })
      if (result.opened) throw new Error('an adjusted request was opened')
      expect(result.reason).toMatch(/logit_bias or penalties/)
      expect(result.claim).toBeDefined()
    }
    // Logprobs do not change what is sampled: such a request opens like any other.
    const req = { ...request(), logprobs: 3 }
    const a = await answer(fx, gameA, miner, req, { fault })
    const { id } = await open(opening(gameA, a, req))
    expect((await getDispute(fx.devnet.publicClient, { address: gameA.game, id })).phase).toBe(
      DisputePhase.BISECT,
    )
  })

  it('a priced request opens like any other; one with a response format is refused by name', async () => {
    const miner = fx.miners[1]!
    const challenger = fx.challengers[0]!
    const open = (o: OpenParamsArg) => openDispute(challenger, { address: gameA.game, open: o })
    const fault = { pos: 19, layer: 0, kind: OpKind.K, element: 3, delta: 50_000 }
    const priced = { ...request(), price: { promptWei: '1000', completionWei: '3000' } }
    const a = await answer(fx, gameA, miner, priced, { fault })
    const { id } = await open(opening(gameA, a, priced))
    expect((await getDispute(fx.devnet.publicClient, { address: gameA.game, id })).phase).toBe(
      DisputePhase.BISECT,
    )
    const formatted = { ...request(), responseFormat: { type: 'json_object' as const } }
    const b = await answer(fx, gameA, miner, formatted, { fault })
    expect(await revertName(open(opening(gameA, b, formatted)))).toBe('ResponseFormatUnsupported')
    const result = await openChallenge({
      chain: { publicClient: fx.devnet.publicClient, walletClient: challenger as never },
      game: gameA.game,
      model: fx.model,
      bundle: { request: formatted, tokens: b.tokens, receipt: b.receipt },
    })
    if (result.opened) throw new Error('a request with a response format was opened')
    expect(result.reason).toMatch(/response_format/)
  })

  it('decides a receipt that contradicts itself at once, without a bond', async () => {
    const miner = fx.miners[3]!
    const challenger = fx.challengers[1]!
    const cases: [string, number, () => Promise<{ a: Answer; req: InferenceRequest }>][] = [
      [
        'traceLeaves',
        DisputeReason.TRACE_LEAVES,
        async () => {
          const req = request()
          const a = await answer(fx, gameA, miner, req)
          return {
            req,
            a: await answer(fx, gameA, miner, req, {
              receipt: { traceLeaves: a.receipt.traceLeaves + 1 },
            }),
          }
        },
      ],
      [
        'a stop token before the last token',
        DisputeReason.EARLY_STOP,
        async () => {
          const plain = request(4)
          const first = (await answer(fx, gameA, miner, plain)).tokens[1]!
          const req = { ...plain, stopTokens: [first] }
          return { req, a: await answer(fx, gameA, miner, req, { run: plain }) }
        },
      ],
      [
        'more tokens than maxTokens',
        DisputeReason.TOO_MANY_TOKENS,
        async () => {
          const req = request(3)
          return { req, a: await answer(fx, gameA, miner, req, { run: { ...req, maxTokens: 4 } }) }
        },
      ],
      [
        'no token',
        DisputeReason.NO_TOKENS,
        async () => {
          const req = request(3)
          const a = await answer(fx, gameA, miner, req, {
            tokens: () => [],
            receipt: { traceLeaves: prompt.length - 1 },
          })
          return { req, a }
        },
      ],
      [
        'a token outside the vocabulary',
        DisputeReason.BAD_TOKEN,
        async () => {
          const req = request(3)
          const a = await answer(fx, gameA, miner, req, {
            tokens: (t) => [...t.slice(0, 2), fx.model.config.vocabSize + 3],
          })
          return { req, a }
        },
      ],
      [
        'a prompt the runtime refuses',
        DisputeReason.REFUSED_REQUEST,
        async () => {
          const ran = request(3)
          const req = { ...ran, promptTokens: [...prompt.slice(1), fx.model.config.vocabSize] }
          return { req, a: await answer(fx, gameA, miner, req, { run: ran }) }
        },
      ],
      [
        'an issuedBlock still to come',
        DisputeReason.FUTURE_RECEIPT,
        async () => {
          const req = request(3)
          const block = Number(await fx.devnet.publicClient.getBlockNumber())
          return {
            req,
            a: await answer(fx, gameA, miner, req, {
              receipt: { issuedBlock: block + 50, validUntilBlock: block + 100 },
            }),
          }
        },
      ],
    ]
    for (const [label, reason, make] of cases) {
      const { a, req } = await make()
      const before = await balance(challenger.account.address)
      const stake = await stakeOf(gameA, miner)
      const { id, decided } = await openDispute(challenger, {
        address: gameA.game,
        open: openParams({
          receipt: a.receipt,
          request: req,
          tokens: a.tokens,
          model: fx.model,
          claimedRoot: toHex(new Uint8Array(32).fill(1)),
        }),
      })
      expect(decided, label).toBe(true)
      const d = await getDispute(fx.devnet.publicClient, { address: gameA.game, id })
      expect(d.phase, label).toBe(DisputePhase.DONE)
      expect(d.outcome, label).toBe(1)
      expect(d.bond, label).toBe(0n)
      const { log } = await readDispute(fx.devnet.publicClient, gameA.game, id)
      expect(log.decided, label).toEqual({ minerLost: true, reason })
      const slashed = log.slashed!.slashed
      expect(slashed, label).toBe(smaller(stake, d.slashAmount))
      expect(await stakeOf(gameA, miner), label).toBe(stake - slashed)
      expect((await balance(challenger.account.address)) - before, label).toBe(log.slashed!.paid)
      await topUp(gameA, miner)
    }
  })
})

/**
 * Plays a cheater's dispute move by move; before each valid move, the wrong versions of it
 * `wrong` makes must each revert with the error named.
 */
async function stepThrough(
  setup: GameSetup,
  fault: TraceFault,
  /** Each wrong move is a thunk, started only when its turn comes (no rejection left unheard). */
  wrong: (move: DisputeMove, id: bigint, view: DisputeView) => [string, () => Promise<unknown>][],
  options: {
    lazy?: boolean
    stopAt?: (move: DisputeMove) => boolean
    onRequest?: (request: InferenceRequest) => void
  } = {},
) {
  const miner = fx.miners[1]!
  const challenger = fx.challengers[1]!
  await topUp(setup, miner)
  const req = request(4)
  options.onRequest?.(req)
  const a = await answer(fx, setup, miner, req, { fault })
  const { id } = await openDispute(challenger, {
    address: setup.game,
    open: opening(setup, a, req),
  })
  const run = disputeRequest(req, a.tokens)
  const players = {
    miner: new DisputePlayer({
      model: fx.model,
      request: run,
      role: 'miner',
      fault,
      partElements: setup.partElements,
      ...(options.lazy ? { lazy: true } : {}),
    }),
    challenger: new DisputePlayer({
      model: fx.model,
      request: run,
      role: 'challenger',
      partElements: setup.partElements,
    }),
  }
  const seen: string[] = []
  for (let n = 0; n < 100; n++) {
    const view = await readDispute(fx.devnet.publicClient, setup.game, id)
    if (view.dispute.phase === DisputePhase.DONE) return { id, view, seen }
    const role = minerToMove(view.dispute) ? 'miner' : 'challenger'
    const move = players[role].nextMove(view)
    if (!move) return { id, view, seen }
    // The other side may not move now.
    const otherWallet = role === 'miner' ? challenger : miner
    expect(await revertName(sendMove(otherWallet, setup.game, id, move)), move.kind).toBe(
      'NotYourTurn',
    )
    for (const [name, attempt] of wrong(move, id, view)) {
      expect(await revertName(attempt()), `${move.kind}: ${name}`).toBe(name)
      seen.push(name)
    }
    if (options.stopAt?.(move)) return { id, view, seen }
    await sendMove(role === 'miner' ? miner : challenger, setup.game, id, move)
  }
  throw new Error('the dispute did not end')
}

const call = (wallet: Wallet, setup: GameSetup, fn: string, args: unknown[]) =>
  writeGame(wallet, setup.game, fn as never, args as never)

function tamperOpening(o: VectorOpeningArg, what: 'chunks' | 'leafProof'): VectorOpeningArg {
  if (what === 'chunks') return { ...o, chunks: flip(o.chunks, 10) }
  return { ...o, leafProof: o.leafProof.map((p, i) => (i === 0 ? flip(p) : p)) }
}

function tamperSum(o: SumOpeningsArg): SumOpeningsArg {
  return { ...o, vectors: o.vectors.map((v, i) => (i === 0 ? tamperOpening(v, 'chunks') : v)) }
}

describe('moves', () => {
  it('every bad proof at every step of a one-step game reverts by name', async () => {
    const miner = fx.miners[1]!
    const challenger = fx.challengers[1]!
    const fault = { pos: 19, layer: 2, kind: OpKind.Q, element: 11, delta: 70_000 }
    const { seen, view } = await stepThrough(gameA, fault, (move, id, state) => {
      const m = (fn: string, args: unknown[]) => () => call(miner, gameA, fn, [id, ...args])
      const c = (fn: string, args: unknown[]) => () => call(challenger, gameA, fn, [id, ...args])
      const below =
        state.dispute.phase === DisputePhase.BISECT2 &&
        state.dispute.node !== state.dispute.positionRoot
      switch (move.kind) {
        case 'revealChildren':
          return [
            [
              'ChildrenMismatch',
              m('revealChildren', [[flip(move.nodes[0]!), ...move.nodes.slice(1)]]),
            ],
            ['WrongNodeCount', m('revealChildren', [move.nodes.slice(1)])],
          ]
        case 'chooseChild':
          return [
            [
              'ChildNotInNode',
              c('chooseChild', [move.index, move.child, move.proof.map((p) => flip(p))]),
            ],
            ['ChildNotInNode', c('chooseChild', [move.index, flip(move.child), move.proof])],
            ['ChildNotInNode', c('chooseChild', [99n, move.child, move.proof])],
            ...(below
              ? ([['BindingNotAtRoot', c('challengeBinding', [0n])]] as [
                  string,
                  () => Promise<unknown>,
                ][])
              : []),
            ...(state.dispute.phase === DisputePhase.BISECT
              ? ([['WrongPhase', c('challengeBinding', [0n])]] as [
                  string,
                  () => Promise<unknown>,
                ][])
              : []),
          ]
        case 'postPosition': {
          const leaves = [flip(move.boundaryLeaves[0]!), ...move.boundaryLeaves.slice(1)]
          return [
            [
              'CheckpointMismatch',
              m('postPosition', [move.positionRoot, leaves, move.left, move.right]),
            ],
            [
              'BoundaryCount',
              m('postPosition', [
                move.positionRoot,
                move.boundaryLeaves.slice(1),
                move.left,
                move.right,
              ]),
            ],
            [
              'ChildrenMismatch',
              m('postPosition', [move.positionRoot, move.boundaryLeaves, move.right, move.left]),
            ],
          ]
        }
        case 'revealLeaf':
          return [
            ['LeafMismatch', m('revealLeaf', [flip(move.vecRoot), move.nodes])],
            [
              'ChildrenMismatch',
              m('revealLeaf', [move.vecRoot, [flip(move.nodes[0]!), ...move.nodes.slice(1)]]),
            ],
            ['WrongNodeCount', m('revealLeaf', [move.vecRoot, move.nodes.slice(1)])],
          ]
        case 'oneStep': {
          const p = move.proof
          const v0 = p.vectors[0]!
          return [
            ['LaneOutOfChunk', c('oneStep', [{ ...p, lane: 8n }])],
            ['NotInTrace', c('oneStep', [{ ...p, vectors: [tamperOpening(v0, 'chunks')] }])],
            ['NotInTrace', c('oneStep', [{ ...p, vectors: [tamperOpening(v0, 'leafProof')] }])],
            ['WrongInputs', c('oneStep', [{ ...p, vectors: [] }])],
            [
              'NotInModel',
              c('oneStep', [
                { ...p, weights: [{ ...p.weights[0]!, data: flip(p.weights[0]!.data, 40) }] },
              ]),
            ],
            [
              'NotWholeVector',
              c('oneStep', [
                { ...p, vectors: [{ ...v0, chunks: `0x${v0.chunks.slice(66)}` as Hex }] },
              ]),
            ],
            ['NotASumElement', c('startSum', [p.lane])],
            ['NotTimedOut', () => call(challenger, gameA, 'timeout', [id])],
          ]
        }
        default:
          return []
      }
    })
    expect(view.dispute.phase).toBe(DisputePhase.DONE)
    expect(view.log.decided).toEqual({ minerLost: true, reason: DisputeReason.ONE_STEP })
    for (const name of [
      'BindingNotAtRoot',
      'ChildrenMismatch',
      'ChildNotInNode',
      'CheckpointMismatch',
      'BoundaryCount',
      'LeafMismatch',
      'NotInTrace',
      'WrongInputs',
      'NotInModel',
      'NotWholeVector',
      'LaneOutOfChunk',
      'NotASumElement',
      'NotTimedOut',
    ])
      expect(seen).toContain(name)
    // Done: nothing moves any more.
    const id = (await fx.devnet.publicClient.readContract({
      address: gameA.game,
      abi: disputeGameErrorsAbi,
      functionName: 'disputeCount',
    })) as bigint
    expect(await revertName(call(challenger, gameA, 'timeout', [id]))).toBe('WrongPhase')
    expect(
      await revertName(call(miner, gameA, 'revealLeaf', [id, `0x${'00'.repeat(32)}`, []])),
    ).toBe('WrongPhase')
    expect(
      await revertName(call(miner, gameA, 'revealLeaf', [id + 100n, `0x${'00'.repeat(32)}`, []])),
    ).toBe('UnknownDispute')
  })

  it('the rmsnorm step opens g_e as one chunk of the norm (its leaf is the vecRoot): a tampered chunk, a wrong chunk proof, another chunk or the whole norm revert', async () => {
    const challenger = fx.challengers[1]!
    const { dim } = fx.model.config
    const layer = 1
    const element = 45 // chunk 5 of the 16 of g at dim 128
    const fault = { pos: 19, layer, kind: OpKind.FFN_NORM, element, delta: 70_000 }
    const g = fx.model.layers[layer]!.ffnNorm
    let opened = 0
    const { view, seen } = await stepThrough(gameA, fault, (move, id) => {
      if (move.kind !== 'oneStep') return []
      opened++
      const p = move.proof
      const w = p.weights[0]!
      // One 32-byte chunk holding g_e; its proof: log2(dim / 8) chunk siblings, then modelRoot's.
      expect(w.data).toBe(toHex(new Uint8Array(g.buffer, 4 * 40, 32)))
      const k = Math.log2(dim / 8)
      expect(w.proof.length).toBeGreaterThan(k)
      const step = (weights: typeof p.weights) => () =>
        call(challenger, gameA, 'oneStep', [id, { ...p, weights }])
      const chunkProof = w.proof.slice(0, k)
      const leafProof = w.proof.slice(k)
      return [
        ['NotInModel', step([{ ...w, data: flip(w.data, 2 + 8 * 5) }])],
        [
          'NotInModel',
          step([{ ...w, proof: [flip(chunkProof[0]!), ...chunkProof.slice(1), ...leafProof] }]),
        ],
        [
          'NotInModel',
          step([
            {
              ...w,
              proof: [...chunkProof.slice(0, k - 1), flip(chunkProof[k - 1]!), ...leafProof],
            },
          ]),
        ],
        // A true opening of the next chunk (g_48..55) is not the chunk of e.
        ['NotInModel', step([weightOpening(fx.model, { tensor: 'ffn_norm', layer }, element + 8)])],
        ['ProofLength', step([{ ...w, proof: [...chunkProof, ...leafProof.slice(1)] }])],
        // The whole norm, as its leaf used to hash it.
        [
          'WeightBytes',
          step([{ ...w, data: toHex(new Uint8Array(g.buffer, g.byteOffset, g.byteLength)) }]),
        ],
      ]
    })
    expect(opened).toBe(1)
    for (const name of ['NotInModel', 'ProofLength', 'WeightBytes']) expect(seen).toContain(name)
    // The honest one-chunk opening settles it.
    expect(view.dispute.phase).toBe(DisputePhase.DONE)
    expect(view.log.decided).toEqual({ minerLost: true, reason: DisputeReason.ONE_STEP })
  })

  it('bad sums: a last sum outside its root, a final that misses the claim, a wrong previous sum, a maximum that holds', async () => {
    const miner = fx.miners[1]!
    const challenger = fx.challengers[1]!
    // An up-projection in game B: a sum of 16-element parts.
    const fault = { pos: 18, layer: 1, kind: OpKind.UP, element: 40, delta: 60_000 }
    let witness: SumOpeningsArg | undefined
    const { seen, view } = await stepThrough(gameB, fault, (move, id) => {
      const m = (fn: string, args: unknown[]) => () => call(miner, gameB, fn, [id, ...args])
      const c = (fn: string, args: unknown[]) => () => call(challenger, gameB, fn, [id, ...args])
      switch (move.kind) {
        case 'startSum':
          return [
            [
              'UseSumGame',
              c('oneStep', [{ lane: move.lane, vectors: [], weights: [], hint: 0n, order: '0x' }]),
            ],
          ]
        case 'postSum':
          // The posted maximum's own witness: an input equal to amax, not above it.
          witness = { vectors: move.openings.vectors, weights: [], hint: move.openings.hint }
          return [
            [
              'SumLastNotInRoot',
              m('postSum', [
                move.accRoot,
                move.last + 1n,
                move.lastProof,
                move.openings,
                move.nodes,
              ]),
            ],
            [
              'NotInTrace',
              m('postSum', [
                move.accRoot,
                move.last,
                move.lastProof,
                tamperSum(move.openings),
                move.nodes,
              ]),
            ],
            [
              'ChildrenMismatch',
              m('postSum', [
                move.accRoot,
                move.last,
                move.lastProof,
                move.openings,
                [flip(move.nodes[0]!), ...move.nodes.slice(1)],
              ]),
            ],
          ]
        case 'chooseChild':
          return []
        case 'sumStep':
          return [
            [
              'PreviousSumNotInRoot',
              c('sumStep', [move.previous + 1n, move.previousProof, move.openings]),
            ],
            [
              'NotInTrace',
              c('sumStep', [move.previous, move.previousProof, tamperSum(move.openings)]),
            ],
            [
              'WrongOpenings',
              c('sumStep', [move.previous, move.previousProof, { ...move.openings, weights: [] }]),
            ],
            ['MaxNotBroken', c('disputeSumMax', [witness])],
          ]
        default:
          return []
      }
    })
    expect(view.log.decided).toEqual({ minerLost: true, reason: DisputeReason.SUM_STEP })
    for (const name of [
      'UseSumGame',
      'SumLastNotInRoot',
      'PreviousSumNotInRoot',
      'WrongOpenings',
      'MaxNotBroken',
    ])
      expect(seen).toContain(name)
  })

  it('binding: not at the root, a bad index, a leaf that is not both; late moves', async () => {
    const miner = fx.miners[1]!
    const challenger = fx.challengers[1]!
    const fault = { pos: 20, layer: 0, kind: OpKind.K_ROPE, element: 2, delta: 60_000 }
    let req: InferenceRequest | undefined
    const { seen, view, id } = await stepThrough(
      gameA,
      fault,
      (move, id) => {
        const m = (fn: string, args: unknown[]) => () => call(miner, gameA, fn, [id, ...args])
        const c = (fn: string, args: unknown[]) => () => call(challenger, gameA, fn, [id, ...args])
        if (move.kind === 'challengeBinding')
          return [['BindingIndex', c('challengeBinding', [100n])]]
        if (move.kind === 'chooseChild')
          return [
            ['WrongPhase', c('challengeBinding', [0n])],
            ['WrongPhase', m('proveBinding', [`0x${'00'.repeat(32)}`, [], []])],
          ]
        return []
      },
      {
        lazy: true,
        onRequest: (r) => {
          req = r
        },
      },
    )
    // The lazy cheater has no answer: its R_p holds the honest leaf.
    expect(view.dispute.phase).toBe(DisputePhase.BINDING)
    expect(seen).toContain('BindingIndex')
    expect(seen).toContain('WrongPhase')
    // Its best try fails: its boundary leaf j under c_p is not leaf binding(j) of the R_p it
    // posted. After the deadline, moves are late and the timeout ends it.
    const { replayTrace } = await import('../../runtime/trace/replay.ts')
    const { traceLeaf } = await import('../../runtime/trace/hasher.ts')
    const { compactFromFull } = await import('./openings.ts')
    const { hexes } = await import('./proofs.ts')
    const p = view.dispute.pos
    const j = view.dispute.element
    const run = disputeRequest(req!, Array(4).fill(0))
    const lying = replayTrace(fx.model, run, { fault, position: p }).binding(j)
    const honest = replayTrace(fx.model, run, { position: p })
    const leaf = toHex(traceLeaf(lying.boundary.opId, lying.boundary.vecRoot))
    const boundaryProof = hexes(
      compactFromFull(lying.boundary.proof, j, lying.boundary.checkpoint.boundaryCount),
    )
    const positionProof = hexes(
      compactFromFull(
        honest.binding(j).leaf.proof,
        honest.binding(j).leaf.index,
        honest.position!.tree.count,
      ),
    )
    expect(
      await revertName(
        call(miner, gameA, 'proveBinding', [id, leaf, boundaryProof, positionProof]),
      ),
    ).toBe('BindingBroken')
    await mine(PARAMS.window + 1)
    expect(
      await revertName(
        call(miner, gameA, 'proveBinding', [id, leaf, boundaryProof, positionProof]),
      ),
    ).toBe('DeadlinePassed')
    await timeoutDispute(challenger, { address: gameA.game, id })
    const { log } = await readDispute(fx.devnet.publicClient, gameA.game, id)
    expect(log.decided).toEqual({ minerLost: true, reason: DisputeReason.TIMEOUT })
  })

  it('output claims: a wrong opening and a token that is not the claimed one', async () => {
    const miner = fx.miners[2]!
    const challenger = fx.challengers[2]!
    await topUp(gameA, miner)
    const req = request(4)
    const a = await answer(fx, gameA, miner, req, {
      tokens: (t) => t.map((x, i) => (i === 1 ? (x + 5) % fx.model.config.vocabSize : x)),
    })
    const { id } = await openDispute(challenger, {
      address: gameA.game,
      open: openParams({
        receipt: a.receipt,
        request: req,
        tokens: a.tokens,
        model: fx.model,
        outputIndex: 1,
      }),
    })
    // The miner's own trace opens correctly, but to another token than the one it returned.
    const player = new DisputePlayer({
      model: fx.model,
      request: disputeRequest(req, a.tokens),
      role: 'miner',
      partElements: 4096,
    })
    const view = await readDispute(fx.devnet.publicClient, gameA.game, id)
    expect(player.nextMove(view)).toBeUndefined()
    const r = player.run()
    const pos = prompt.length
    const b = r.boundary(pos, 2 * fx.model.config.nLayers)
    const { compactFromFull } = await import('./openings.ts')
    const { hexes } = await import('./proofs.ts')
    const { vecChunks } = await import('../../runtime/trace/hasher.ts')
    const sample = toHex(vecChunks(r.boundaryVector(pos, 2 * fx.model.config.nLayers)))
    const args = [
      id,
      toHex(b.checkpoint.boundaryRoot),
      hexes(compactFromFull(b.checkpoint.proof, pos, r.positions)),
      sample,
      hexes(compactFromFull(b.proof, 2 * fx.model.config.nLayers, b.checkpoint.boundaryCount)),
    ]
    expect(await revertName(call(miner, gameA, 'proveOutput', args))).toBe('OutputDiffers')
    expect(
      await revertName(
        call(miner, gameA, 'proveOutput', [...args.slice(0, 3), flip(sample, 4), args[4]]),
      ),
    ).toBe('OutputNotInTrace')
    await mine(PARAMS.window + 1)
    await timeoutDispute(challenger, { address: gameA.game, id })
    const after = await readDispute(fx.devnet.publicClient, gameA.game, id)
    expect(after.log.decided).toEqual({ minerLost: true, reason: DisputeReason.TIMEOUT })
  })
})

describe('side by side', () => {
  it('disputes on different receipts run interleaved, each to its own outcome', async () => {
    const faults: (TraceFault | undefined)[] = [
      { pos: 19, layer: 0, kind: OpKind.DOWN, element: 1, delta: 50_000 },
      undefined,
      { pos: 17, layer: 0, kind: OpKind.ATTN_MIX, element: 100, delta: 50_000 },
    ]
    const games = await Promise.all(
      faults.map(async (fault, i) => {
        const miner = fx.miners[i]!
        const challenger = fx.challengers[i]!
        await topUp(gameA, miner)
        const req = request(4)
        const a = await answer(fx, gameA, miner, req, fault ? { fault } : {})
        const claimedRoot = fault
          ? honestRoot(fx.model, req, a.tokens)
          : toHex(new Uint8Array(32).fill(9))
        const { id } = await openDispute(challenger, {
          address: gameA.game,
          open: openParams({
            receipt: a.receipt,
            request: req,
            tokens: a.tokens,
            model: fx.model,
            claimedRoot,
          }),
        })
        const run = disputeRequest(req, a.tokens)
        return {
          id,
          wallets: { miner, challenger },
          players: {
            miner: new DisputePlayer({
              model: fx.model,
              request: run,
              role: 'miner',
              partElements: 4096,
              ...(fault ? { fault } : {}),
            }),
            challenger: new DisputePlayer({
              model: fx.model,
              request: run,
              role: 'challenger',
              partElements: 4096,
              ...(fault ? {} : { liar: { seed: 3 } }),
            }),
          },
        }
      }),
    )
    const ids = new Set(games.map((g) => g.id))
    expect(ids.size).toBe(3)
    const done = await playTogether(
      games.map((g) => ({
        id: g.id,
        miner: [g.wallets.miner, g.players.miner] as const,
        challenger: [g.wallets.challenger, g.players.challenger] as const,
      })),
    )
    expect(done.map((g) => g.decided)).toEqual([
      { minerLost: true, reason: DisputeReason.ONE_STEP },
      { minerLost: false, reason: expect.any(Number) },
      { minerLost: true, reason: DisputeReason.SUM_STEP },
    ])
  })
})

describe('one receipt, several challengers', () => {
  it("a cheater's own challenger losing on purpose shields nothing; the miner is slashed once", async () => {
    const miner = fx.miners[2]!
    const [honestA, puppet, honestB] = fx.challengers as [Wallet, Wallet, Wallet]
    await topUp(gameA, miner)
    const req = request(4)
    const fault = { pos: 18, layer: 0, kind: OpKind.GATE, element: 9, delta: 70_000 }
    const a = await answer(fx, gameA, miner, req, { fault })
    const run = disputeRequest(req, a.tokens)
    const cheater = () =>
      new DisputePlayer({ model: fx.model, request: run, role: 'miner', fault, partElements: 4096 })
    const challengerPlayer = (liar?: number) =>
      new DisputePlayer({
        model: fx.model,
        request: run,
        role: 'challenger',
        partElements: 4096,
        ...(liar === undefined ? {} : { liar: { seed: liar } }),
      })
    // The cheater's puppet opens first with a false claim and plays to lose.
    const puppetOpen = await openDispute(puppet, {
      address: gameA.game,
      open: opening(gameA, a, req, { claimedRoot: toHex(new Uint8Array(32).fill(5)) }),
    })
    expect(
      await revertName(openDispute(puppet, { address: gameA.game, open: opening(gameA, a, req) })),
    ).toBe('ReceiptAlreadyDisputed')
    // Two honest challengers open the same receipt meanwhile.
    const first = await openDispute(honestA, { address: gameA.game, open: opening(gameA, a, req) })
    const second = await openDispute(honestB, { address: gameA.game, open: opening(gameA, a, req) })
    const stake = await stakeOf(gameA, miner)
    const before = await balance(honestB.account.address)
    const [p, r1, r2] = await playTogether([
      { id: puppetOpen.id, miner: [miner, cheater()], challenger: [puppet, challengerPlayer(9)] },
      { id: first.id, miner: [miner, cheater()], challenger: [honestA, challengerPlayer()] },
      { id: second.id, miner: [miner, cheater()], challenger: [honestB, challengerPlayer()] },
    ])
    expect([p!.decided.minerLost, r1!.decided.minerLost, r2!.decided.minerLost]).toEqual([
      false,
      true,
      true,
    ])
    // Slashed once, by the first win (the first honest dispute moves first each round); the
    // second gets its bond back and nothing else.
    expect(r1!.slashed).toBe(stake / 2n)
    expect(r2!.slashed).toBe(0n)
    expect(await stakeOf(gameA, miner)).toBe(stake - stake / 2n)
    expect(await balance(honestB.account.address)).toBe(before + PARAMS.bond)
    const digest = (await getDispute(fx.devnet.publicClient, { address: gameA.game, id: first.id }))
      .receipt
    const slashedBy = await fx.devnet.publicClient.readContract({
      address: gameA.game,
      abi: disputeGameErrorsAbi,
      functionName: 'slashedBy',
      args: [digest],
    })
    expect(slashedBy).toBe(first.id)
    expect(
      await revertName(
        openDispute(fx.challengers[0]!, { address: gameA.game, open: opening(gameA, a, req) }),
      ),
    ).toBe('ReceiptAlreadySlashed')
  })
})

describe('parameters', () => {
  it('keep to their bounds, belong to the subnet owner and apply after the delay', async () => {
    const set = (wallet: Wallet, p: typeof PARAMS) =>
      setDisputeParams(wallet, { address: gameA.game, netuid: 1, params: p })
    expect(await revertName(set(fx.miners[0]!, PARAMS))).toBe('NotSubnetOwner')
    const bad: [Partial<typeof PARAMS>, string][] = [
      [{ bond: parseEther('0.5') }, 'bond'],
      [{ bond: parseEther('2000') }, 'bond'],
      [{ slashBps: 999 }, 'slashBps'],
      [{ slashBps: 10_001 }, 'slashBps'],
      [{ rewardBps: 9_001 }, 'rewardBps'],
      [{ rewardBps: 999 }, 'rewardBps'],
      [{ window: 0 }, 'window'],
      [{ window: Math.floor(UNSTAKE_DELAY / 80) }, 'longer than the unstake delay'],
    ]
    for (const [change, name] of bad) {
      try {
        await set(fx.subnetOwner, { ...PARAMS, ...change })
        throw new Error(`accepted ${name}`)
      } catch (error) {
        const revert = (error as BaseError).walk((e) => e instanceof ContractFunctionRevertedError)
        expect((revert as ContractFunctionRevertedError).data?.errorName).toBe('InvalidParam')
        expect((revert as ContractFunctionRevertedError).data?.args).toEqual([name])
      }
    }
    // The longest dispute fits the core's unstake delay with the defaults.
    const longest = (await fx.devnet.publicClient.readContract({
      address: gameA.game,
      abi: disputeGameErrorsAbi,
      functionName: 'maxDisputeBlocks',
      args: [BigInt(PARAMS.window)],
    })) as bigint
    expect(longest).toBe(80n * BigInt(PARAMS.window) + 1n)
    expect(longest + BigInt(PARAMS.maxValidity)).toBeLessThanOrEqual(BigInt(UNSTAKE_DELAY))
    // A new bond applies to disputes opened 10 blocks later, not before.
    const next = { ...PARAMS, bond: parseEther('20'), window: 30 }
    await set(fx.subnetOwner, next)
    expect(
      (await getDisputeParams(fx.devnet.publicClient, { address: gameA.game, netuid: 1 })).bond,
    ).toBe(PARAMS.bond)
    const miner = fx.miners[0]!
    await topUp(gameA, miner)
    const fault = { pos: 19, layer: 0, kind: OpKind.V, element: 3, delta: 50_000 }
    const open = async () => {
      const req = request(4)
      const a = await answer(fx, gameA, miner, req, { fault })
      return await openDispute(fx.challengers[0]!, {
        address: gameA.game,
        open: opening(gameA, a, req),
      })
    }
    const early = await open()
    await mine(10)
    expect(
      parseEventLogs({ abi: disputeGameErrorsAbi, logs: (await open()).receipt.logs }).map(
        (l) => l.eventName,
      ),
    ).toContain('ParamsApplied')
    expect(
      (await getDisputeParams(fx.devnet.publicClient, { address: gameA.game, netuid: 1 })).bond,
    ).toBe(next.bond)
    const later = await open()
    const d1 = await getDispute(fx.devnet.publicClient, { address: gameA.game, id: early.id })
    const d2 = await getDispute(fx.devnet.publicClient, { address: gameA.game, id: later.id })
    expect([d1.bond, d1.window]).toEqual([PARAMS.bond, PARAMS.window])
    expect([d2.bond, d2.window]).toEqual([next.bond, next.window])
    // The slash is half the stake at open, at least slashMin.
    expect(d2.slashAmount).toBe((await stakeOf(gameA, miner)) / 2n)
  })
})

/* HELPERS */

type Side = readonly [Wallet, DisputePlayer]

/**
 * Plays several disputes of game A in lockstep, one move of each per round (a side without a
 * move is timed out once its deadline passes), as nodes playing many at once would.
 */
async function playTogether(list: { id: bigint; miner: Side; challenger: Side }[]) {
  const out = list.map(
    () =>
      undefined as undefined | { decided: { minerLost: boolean; reason: number }; slashed: bigint },
  )
  for (let round = 0; round < 200 && out.some((o) => !o); round++) {
    for (const [k, g] of list.entries()) {
      if (out[k]) continue
      const view = await readDispute(fx.devnet.publicClient, gameA.game, g.id)
      if (view.dispute.phase === DisputePhase.DONE) {
        out[k] = { decided: view.log.decided!, slashed: view.log.slashed?.slashed ?? 0n }
        continue
      }
      const role = minerToMove(view.dispute) ? 'miner' : 'challenger'
      const [wallet, player] = g[role]
      const move = player.nextMove(view)
      if (move) await sendMove(wallet, gameA.game, g.id, move)
      else if ((await fx.devnet.publicClient.getBlockNumber()) > view.dispute.deadline)
        await timeoutDispute(g[role === 'miner' ? 'challenger' : 'miner'][0], {
          address: gameA.game,
          id: g.id,
        })
    }
  }
  return out.map((o) => o!)
}

async function send(wallet: Wallet, address: Hex, fn: string, args: unknown[]) {
  const hash = await wallet.writeContract({
    address,
    abi: disputeCoreStandInAbi,
    functionName: fn,
    args,
  } as never)
  await waitMined(fx.devnet.publicClient, hash)
}

async function balance(who: Hex): Promise<bigint> {
  const { verityTokenAbi } = await import('../../chain/abis.ts')
  return (await fx.devnet.publicClient.readContract({
    address: fx.token,
    abi: verityTokenAbi,
    functionName: 'balanceOf',
    args: [who],
  })) as bigint
}

async function stakeOf(setup: GameSetup, miner: Wallet): Promise<bigint> {
  return (await fx.devnet.publicClient.readContract({
    address: setup.core,
    abi: disputeCoreStandInAbi,
    functionName: 'stakeOf',
    args: [1, miner.account.address],
  })) as bigint
}

async function topUp(setup: GameSetup, miner: Wallet) {
  const stake = await stakeOf(setup, miner)
  const target = parseEther('1000')
  if (stake >= target) return
  const { verityTokenAbi } = await import('../../chain/abis.ts')
  const hash = await miner.writeContract({
    address: fx.token,
    abi: verityTokenAbi,
    functionName: 'approve',
    args: [setup.core, target - stake],
  } as never)
  await waitMined(fx.devnet.publicClient, hash)
  await send(miner, setup.core, 'stake', [1, miner.account.address, target - stake])
}

/** The smaller of two amounts (bigints have no Math.min). */
function smaller(a: bigint, b: bigint): bigint {
  if (a < b) return a
  return b
}
