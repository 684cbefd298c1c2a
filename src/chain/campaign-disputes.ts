import fc from 'fast-check'
import {
  type Abi,
  type Address,
  decodeEventLog,
  decodeFunctionResult,
  encodeFunctionData,
  type Hex,
  keccak256,
  parseEther,
  toHex,
} from 'viem'
import { subtleFault } from '../node/cheat.ts'
import { generate } from '../runtime/generate.ts'
import type { Model } from '../runtime/model/load.ts'
import { samplingParams } from '../runtime/sampler/sample.ts'
import { testModel } from '../runtime/test-model.ts'
import type { TraceFault } from '../runtime/trace/ops.ts'
import type { InferenceRequest, SignedReceipt } from '../types/inference.ts'
import { disputeRequest, openParams, receiptArg } from '../verify/dispute/open.ts'
import { readDispute, sendMove } from '../verify/dispute/play.ts'
import { type DisputeMove, DisputePlayer, minerToMove } from '../verify/dispute/player.ts'
import { signReceipt } from '../verify/receipt.ts'
import { outputHash, requestHash } from '../verify/request.ts'
import { disputeGameAbi, verityAbi, verityTokenAbi } from './abis.ts'
import type { Devnet } from './devnet.ts'
import { type DisputeParams, DisputePhase, DisputeReason, deployDisputeGame } from './dispute.ts'

/**
 * The real dispute game in the chain's invariant campaign (src/chain/invariant-campaign.ts):
 * receipts signed by registered (or replaced, or never registered) miners, honest and subtly
 * faulted (src/node/cheat.ts `subtleFault` on the trained test model) or contradicting
 * themselves; disputes opened on them by funded and unfunded, approving and unapproving
 * challengers, second challengers on the same receipt, honest challengers and liars, root and
 * output claims; the next move of a random open dispute (DisputePlayer.nextMove + sendMove),
 * bursts of moves and whole games played with a side stalling, timeouts, subnet owners' parameter
 * changes, miners replaced by new registrations (dDereg; open disputes on them play on); all
 * interleaved with the campaign's actions, and stake, unstake and withdraw on the disputed pool
 * between two moves of a game. Around every transaction that can decide a dispute, checked
 * exactly:
 *   - a lost miner is slashed through the core once per receipt: the core's slash equals the
 *     slash recomputed from the pool and its withdrawals still in their delay (StakingLib.slash:
 *     the same fraction of the active stake and of every locked bucket, floored), the recipient
 *     gets floor(slashed x rewardBps / 10,000) and the rest is burned: supply drops by exactly
 *     slashed - paid, every balance moves by exactly its share (bonds included);
 *   - a dispute over an honest receipt is lost by its miner only by a timeout (an honest miner
 *     that answers is never slashed), and one an honest challenger started only by a timeout;
 *   - a receipt that contradicts itself is decided at open, without a bond;
 *   - every honest move made in time is accepted; a move after its deadline, an early timeout and
 *     an open the game must refuse (no bond or allowance, a hotkey not registered, an expired
 *     receipt, a challenger's second open, a slashed receipt, the miner's own root) revert, and
 *     one it must take goes through.
 * And after every action (`check`): the game holds exactly the bonds of its open disputes, and the
 * token supply is exactly what all holders hold.
 */

export const UNFUNDED = 12 // approves the game, holds no VTY
export const UNAPPROVED = 13 // holds VTY, never approves the game
export const EXTRA_ACCOUNTS = 2

/**
 * Campaign dispute parameters: a 2-block window (a move may follow one other transaction; an
 * epoch or a mined stretch in between makes it late), receipts disputable for 15 blocks. Short,
 * because the unstake delay must cover the longest dispute and anvil mines a block in ~3-12 ms.
 */
export const CAMPAIGN_DISPUTE: DisputeParams = {
  bond: parseEther('10'),
  slashMin: parseEther('5'),
  slashBps: 5000,
  rewardBps: 5000,
  window: 2,
  maxValidity: 15,
}
/** The core's unstake delay floor the game needs: maxValidity + 80 x window + 1 <= it. */
export const CAMPAIGN_UNSTAKE_DELAY = 176

const actor = fc.integer({ min: 3, max: 11 })
const pick = fc.nat(63)
const challenger = fc.oneof(
  { weight: 8, arbitrary: actor },
  { weight: 1, arbitrary: fc.constant(UNFUNDED) },
  { weight: 1, arbitrary: fc.constant(UNAPPROVED) },
)
/** Mostly the staked miners of the base network (3 on both subnets, 4 on subnet 1), sometimes
 * a hotkey not registered where the receipt says (4 on subnet 2, 7 anywhere). */
const miner = fc.constantFrom(3, 3, 3, 4, 4, 7)
const stall = fc.constantFrom(
  'none' as const,
  'none' as const,
  'miner' as const,
  'challenger' as const,
)
/** Stake, unstake and withdraw on the disputed miner's pool between two moves of a game. */
const ops = fc.array(
  fc.record({
    at: fc.nat(30),
    op: fc.constantFrom(
      'stake' as const,
      'unstake' as const,
      'unstake' as const,
      'withdraw' as const,
    ),
    cold: fc.constantFrom(6, 7, 8, 9),
    frac: fc.integer({ min: 1, max: 8 }),
    amt: fc.bigInt(1n, 10n ** 20n),
  }),
  { maxLength: 3 },
)

export const disputeActions = [
  {
    weight: 6,
    arbitrary: fc.record({
      t: fc.constant('dOpen' as const),
      /** Both sides then play it through at once (else later actions move it, or time it out). */
      play: fc.boolean(),
      second: fc.boolean(),
      stall,
      after: fc.nat(24),
      ops,
      who: challenger,
      i: pick,
      fresh: fc.boolean(),
      kind: fc.constantFrom('honest' as const, 'cheat' as const, 'cheat' as const, 'bad' as const),
      miner,
      net: fc.constantFrom(1, 1, 1, 2),
      req: fc.nat(1),
      claim: fc.constantFrom('root' as const, 'root' as const, 'output' as const, 'same' as const),
      liar: fc.nat(1_000_000),
      expired: fc.oneof({ weight: 9, arbitrary: fc.constant(false) }, fc.constant(true)),
    }),
  },
  {
    weight: 8,
    arbitrary: fc.record({
      t: fc.constant('dMove' as const),
      i: pick,
      poke: fc.boolean(),
      /** The next move, and the ones after it while each goes through (a burst of play). */
      steps: fc.integer({ min: 1, max: 6 }),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      t: fc.constant('dStall' as const),
      i: pick,
      who: fc.oneof({ weight: 3, arbitrary: fc.constant(-1) }, fc.nat(11)),
    }),
  },
  {
    weight: 3,
    arbitrary: fc.record({
      t: fc.constant('dPlay' as const),
      i: pick,
      stall,
      after: fc.nat(24),
      ops,
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      t: fc.constant('dParams' as const),
      who: fc.oneof({ weight: 3, arbitrary: fc.constant(-1) }, fc.nat(11)),
      net: fc.constantFrom(1, 2),
      bond: fc.constantFrom(
        0n,
        parseEther('1'),
        parseEther('10'),
        parseEther('1000'),
        parseEther('1001'),
      ),
      slashMin: fc.bigInt(0n, 10n ** 20n),
      slashBps: fc.nat(10_500),
      rewardBps: fc.nat(10_000),
      window: fc.nat(3),
      maxValidity: fc.nat(24),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({ t: fc.constant('dDereg' as const), net: fc.constantFrom(1, 2) }),
  },
]

export type DisputeAction =
  (typeof disputeActions)[number]['arbitrary'] extends fc.Arbitrary<infer A> ? A : never

export type DisputeStats = {
  opened: number
  /** Receipts that contradicted themselves, decided at open. */
  decidedAtOpen: number
  /** Opens a second (third...) challenger made on a receipt already disputed. */
  secondChallengers: number
  /** Opens refused, by why they had to be. */
  refused: Record<string, number>
  moves: number
  /** Games played through at once (dOpen with play, dPlay), and pool operations between moves. */
  played: number
  poolOps: number
  /** Moves sent after their deadline (all refused), and early timeouts (all refused). */
  lateMoves: number
  earlyTimeouts: number
  timeouts: number
  decided: number
  minerLost: number
  challengerLost: number
  /** Slashes through the core, those that reached withdrawals in their delay, and lost disputes
   * on a receipt already slashed (no second slash). */
  slashes: number
  withdrawalsSlashed: number
  notSlashedAgain: number
  slashedTotal: string
  burnedTotal: string
  byReason: Record<string, number>
}

type Kind = 'honest' | 'cheat' | 'bad'
type Prepared = {
  request: InferenceRequest
  honest: Run
  cheat: Run & { fault: TraceFault }
  /** An honest challenger's root over the cheater's tokens. */
  challengerRoot: Hex
}
type Run = { tokens: number[]; traceRoot: Hex; leaves: number }
type Signed = {
  kind: Kind
  req: number
  miner: number
  netuid: number
  signed: SignedReceipt
  tokens: number[]
  digest: Hex
  challengers: Set<number>
}
type Open = {
  id: bigint
  r: Signed
  challenger: number
  /** An honest challenger over a cheat receipt's root: it must win unless timed out. */
  honestChallenger: boolean
  from: bigint
  players: { miner: DisputePlayer; challenger: DisputePlayer }
  done: boolean
}

type Receipt = { status: Hex; logs: { address: Address; data: Hex; topics: Hex[] }[] }

export type DisputeContext = {
  devnet: Devnet
  acct: Address[]
  rpc: <T>(method: string, params: unknown[]) => Promise<T>
  batch: (calls: { method: string; params: unknown[] }[]) => Promise<unknown[]>
  send: (
    from: number,
    functionName: string,
    args: readonly unknown[],
    to?: Address,
  ) => Promise<{ ok: boolean; receipt: Receipt }>
  mine: (blocks: bigint | number) => Promise<void>
  mustFail: (ok: boolean, what: string) => void
  fail: (what: string) => never
  check: (after: string) => Promise<void>
  /** Called for each transaction the dispute actions send (the campaign's counts). */
  counted: (ok: boolean) => void
  /** The campaign's bookkeeping of a receipt's events (new withdrawal buckets). */
  note: (receipt: Receipt) => void
}

const REQUESTS: Omit<InferenceRequest, 'modelRoot'>[] = [
  {
    prompt: { kind: 'text', text: 'the cat' },
    promptTokens: [1, 40, 41, 42],
    maxTokens: 2,
    params: samplingParams({}),
    seed: 7,
    stopTokens: [],
    stop: [],
  },
  {
    prompt: { kind: 'text', text: 'a dog' },
    promptTokens: [1, 50, 51],
    maxTokens: 3,
    params: samplingParams({ temperature: 0.8, topK: 40 }),
    seed: 11,
    stopTokens: [],
    stop: [],
  },
]

/** Runs once per campaign: the honest and faulted runs every receipt of a sequence reuses. */
export function prepareRuns(model: Model): Prepared[] {
  return REQUESTS.map((r) => {
    const request: InferenceRequest = { ...r, modelRoot: toHex(model.modelRoot) }
    const gen = { promptTokens: request.promptTokens, maxTokens: request.maxTokens }
    const run = (fault?: TraceFault): Run => {
      const out = generate(
        model,
        { ...gen, params: request.params, seed: request.seed },
        fault ? { fault } : {},
      )
      return { tokens: out.tokens, traceRoot: toHex(out.traceRoot!), leaves: out.traceLeafCount! }
    }
    const fault = subtleFault(model.config, request)
    const cheat = { ...run(fault), fault }
    const honest = run()
    const challengerRoot = toHex(generate(model, disputeRequest(request, cheat.tokens)).traceRoot!)
    if (challengerRoot === cheat.traceRoot) throw new Error('campaign: the fault changes nothing')
    return { request, honest, cheat, challengerRoot }
  })
}

/** Deploys the game, names it through governance, and sets the test model on subnets 1 and 2. */
export async function setupDisputes(
  ctx: DisputeContext,
  govern: (kind: number, data: Hex) => Promise<void>,
  encodeGame: (game: Address) => { kind: number; data: Hex },
  owners: { 1: number; 2: number },
): Promise<{ game: Address; model: Model; prepared: Prepared[]; width: bigint }> {
  const { devnet, acct } = ctx
  const model = testModel()
  const prepared = prepareRuns(model)
  const { game } = await deployDisputeGame(devnet.publicClient, devnet.walletClients[0]!, {
    core: devnet.addresses.verity,
    token: devnet.addresses.token,
    minBond: parseEther('1'),
    maxBond: parseEther('1000'),
    paramsDelay: 2n,
    partElements: 4096n,
    defaults: CAMPAIGN_DISPUTE,
  })
  const g = encodeGame(game)
  await govern(g.kind, g.data)
  const modelRoot = toHex(model.modelRoot)
  const require = async (p: Promise<{ ok: boolean }>, what: string) => {
    if (!(await p).ok) ctx.fail(`setup: ${what} reverted`)
  }
  await require(ctx.send(0, 'registerModel', [
    modelRoot,
    model.config.name,
    keccak256(modelRoot),
  ]), 'registerModel')
  await require(ctx.send(owners[1], 'setSubnetModel', [1, modelRoot]), 'model 1')
  await require(ctx.send(owners[2], 'setSubnetModel', [2, modelRoot]), 'model 2')
  // every actor approves the game, but UNAPPROVED; UNFUNDED holds nothing
  for (let i = 0; i < acct.length; i++) {
    if (i === UNAPPROVED) continue
    await require(ctx.send(i, 'approve', [game, 2n ** 255n], devnet.addresses.token), 'approve')
  }
  const width = BigInt(
    decodeFunctionResult({
      abi: verityAbi,
      functionName: 'bucketWidth',
      data: await ctx.rpc<Hex>('eth_call', [
        {
          to: devnet.addresses.verity,
          data: encodeFunctionData({ abi: verityAbi, functionName: 'bucketWidth' }),
        },
        'latest',
      ]),
    }),
  )
  return { game, model, prepared, width }
}

type Call = { to: Address; abi: Abi; functionName: string; args?: readonly unknown[] }

export function disputeCampaign(
  ctx: DisputeContext,
  setup: { game: Address; model: Model; prepared: Prepared[]; width: bigint },
) {
  const { devnet, acct } = ctx
  const { game, model, prepared, width } = setup
  const verity = devnet.addresses.verity
  const vty = devnet.addresses.token
  const gameAbi = disputeGameAbi as Abi
  const stats: DisputeStats = {
    opened: 0,
    decidedAtOpen: 0,
    secondChallengers: 0,
    refused: {},
    moves: 0,
    played: 0,
    poolOps: 0,
    lateMoves: 0,
    earlyTimeouts: 0,
    timeouts: 0,
    decided: 0,
    minerLost: 0,
    challengerLost: 0,
    slashes: 0,
    withdrawalsSlashed: 0,
    notSlashedAgain: 0,
    slashedTotal: '0',
    burnedTotal: '0',
    byReason: {},
  }
  let slashedSum = 0n
  let burnedSum = 0n
  const bump = (rec: Record<string, number>, k: string) => {
    rec[k] = (rec[k] ?? 0) + 1
  }
  const reasonName = (r: number) =>
    Object.entries(DisputeReason).find(([, v]) => v === r)?.[0] ?? String(r)

  // players are pure: shared across sequences (their caches are re-runs of the same requests)
  const players = new Map<string, DisputePlayer>()
  const playerFor = (req: number, kind: 'honest' | 'cheat', role: 'miner' | 'challenger') => {
    const key = `${req}:${kind}:${role}`
    let p = players.get(key)
    if (!p) {
      const prep = prepared[req]!
      const run = kind === 'cheat' ? prep.cheat : prep.honest
      p = new DisputePlayer({
        model,
        request: disputeRequest(prep.request, run.tokens),
        role,
        partElements: 4096,
        ...(role === 'miner' && kind === 'cheat' ? { fault: prep.cheat.fault } : {}),
      })
      players.set(key, p)
    }
    return p
  }

  // per sequence
  let receipts: Signed[] = []
  let disputes: Open[] = []
  let slashedDigests = new Map<Hex, bigint>()
  let nonce = 0
  const reset = () => {
    receipts = []
    disputes = []
    slashedDigests = new Map()
  }

  const views = async (calls: Call[]): Promise<unknown[]> => {
    const out = await ctx.batch(
      calls.map((c) => ({
        method: 'eth_call',
        params: [
          {
            to: c.to,
            data: encodeFunctionData({
              abi: c.abi,
              functionName: c.functionName,
              args: c.args ?? [],
            } as never),
          },
          'latest',
        ],
      })),
    )
    return out.map((r, i) =>
      r instanceof Error || typeof r !== 'string'
        ? undefined
        : decodeFunctionResult({
            abi: calls[i]!.abi,
            functionName: calls[i]!.functionName,
            data: r as Hex,
          } as never),
    )
  }
  const blockNumber = async () => BigInt(await ctx.rpc<Hex>('eth_blockNumber', []))
  const balanceCall = (who: Address): Call => ({
    to: vty,
    abi: verityTokenAbi as Abi,
    functionName: 'balanceOf',
    args: [who],
  })

  /** What a decision can change, read before the transaction (mined in the next block). */
  type Pre = {
    supply: bigint
    balances: Map<Address, bigint>
    pool: { stake: bigint; shares: bigint }
    buckets: { b: bigint; amount: bigint; shares: bigint }[]
    slashedBy: bigint
  }
  const parties = (r: Signed, c: number) => [...new Set([acct[c]!, acct[r.miner]!, game, verity])]
  const preState = async (r: Signed, c: number): Promise<Pre> => {
    const now = (await blockNumber()) + 1n
    const first = now / width + 1n
    const last = (now + 4n * BigInt(CAMPAIGN_UNSTAKE_DELAY) + width - 1n) / width
    const who = parties(r, c)
    const bucketIds: bigint[] = []
    for (let b = first; b <= last; b++) bucketIds.push(b)
    const out = await views([
      { to: vty, abi: verityTokenAbi as Abi, functionName: 'totalSupply' },
      ...who.map(balanceCall),
      { to: verity, abi: verityAbi as Abi, functionName: 'pool', args: [r.netuid, acct[r.miner]] },
      { to: game, abi: gameAbi, functionName: 'slashedBy', args: [r.digest] },
      ...bucketIds.map((b) => ({
        to: verity,
        abi: verityAbi as Abi,
        functionName: 'unbonding',
        args: [r.netuid, acct[r.miner], b],
      })),
    ])
    const pool = out[1 + who.length] as readonly bigint[]
    return {
      supply: out[0] as bigint,
      balances: new Map(who.map((a, i) => [a, out[1 + i] as bigint])),
      pool: { stake: pool[0]!, shares: pool[2]! },
      slashedBy: out[2 + who.length] as bigint,
      buckets: bucketIds.map((b, i) => {
        const [amount, shares] = out[3 + who.length + i] as readonly bigint[]
        return { b, amount: amount!, shares: shares! }
      }),
    }
  }

  /** StakingLib.slash, recomputed. */
  const predictSlash = (asked: bigint, pre: Pre) => {
    const total = pre.buckets.reduce((s, x) => s + x.amount, pre.pool.stake)
    const after = { stake: pre.pool.stake, buckets: pre.buckets.map((x) => x.amount) }
    if (total === 0n || asked === 0n) return { slashed: 0n, fromBuckets: 0n, ...after }
    const amount = asked > total ? total : asked
    const cut = (a: bigint, shares: bigint) => {
      let take = (a * amount) / total
      if ((a - take) << 32n < shares) take = a
      return take
    }
    let slashed = 0n
    if (pre.pool.stake !== 0n) {
      const take = cut(pre.pool.stake, pre.pool.shares)
      after.stake -= take
      slashed += take
    }
    let fromBuckets = 0n
    pre.buckets.forEach((x, i) => {
      if (x.amount === 0n) return
      const take = cut(x.amount, x.shares)
      after.buckets[i] = x.amount - take
      fromBuckets += take
    })
    return { slashed: slashed + fromBuckets, fromBuckets, ...after }
  }

  const logsOf = (receipt: Receipt) => {
    const out: { address: Address; eventName: string; args: Record<string, unknown> }[] = []
    for (const log of receipt.logs) {
      const abi = log.address.toLowerCase() === game.toLowerCase() ? gameAbi : verityAbi
      try {
        const ev = decodeEventLog({
          abi,
          data: log.data,
          topics: log.topics as never,
        }) as unknown as {
          eventName: string
          args: Record<string, unknown>
        }
        out.push({ address: log.address, ...ev })
      } catch {
        // the token's Transfer and the like
      }
    }
    return out
  }

  /**
   * The checks around one transaction over a dispute of receipt `r` by challenger `c` (for an
   * open, `d` is undefined until it exists).
   */
  const settle = async (
    what: string,
    r: Signed,
    c: number,
    pre: Pre,
    res: { ok: boolean; receipt?: Receipt },
    d: Open | undefined,
  ) => {
    const who = parties(r, c)
    const post = await views([
      { to: vty, abi: verityTokenAbi as Abi, functionName: 'totalSupply' },
      ...who.map(balanceCall),
    ])
    const delta = new Map<Address, bigint>(who.map((a) => [a, 0n]))
    const add = (a: Address, v: bigint) => delta.set(a, delta.get(a)! + v)
    let supplyDrop = 0n
    const events = res.ok && res.receipt ? logsOf(res.receipt) : []
    const opened = events.find((e) => e.eventName === 'DisputeOpened')
    const id = (opened?.args.id as bigint | undefined) ?? d?.id
    const decided = events.find((e) => e.eventName === 'DisputeDecided')
    const coreSlash = events.filter((e) => e.eventName === 'SlashedForDispute')
    const gameSlash = events.find((e) => e.eventName === 'MinerSlashed')
    const taken = events.find((e) => e.eventName === 'BondTaken')
    let dispute: { bond: bigint; slashAmount: bigint; rewardBps: number } | undefined
    if (id !== undefined && (decided || taken)) {
      const [x] = await views([{ to: game, abi: gameAbi, functionName: 'dispute', args: [id] }])
      dispute = x as typeof dispute
    }
    if (taken) {
      add(acct[c]!, -dispute!.bond)
      add(game, dispute!.bond)
    }
    if (decided) {
      stats.decided++
      const minerLost = decided.args.minerLost as boolean
      const reason = Number(decided.args.reason)
      bump(stats.byReason, `${minerLost ? 'miner' : 'challenger'} lost: ${reasonName(reason)}`)
      if (d) d.done = true
      const bond = taken ? dispute!.bond : d ? dispute!.bond : 0n
      if (minerLost) {
        stats.minerLost++
        if (r.kind === 'honest' && reason !== DisputeReason.TIMEOUT)
          ctx.fail(`${what}: the miner of an honest receipt lost by ${reasonName(reason)}`)
        if (r.kind === 'bad' && !(reason >= 1 && reason <= 7))
          ctx.fail(`${what}: a contradicting receipt lost by ${reasonName(reason)}`)
        const first = pre.slashedBy === 0n
        if (first) {
          if (slashedDigests.has(r.digest)) ctx.fail(`${what}: receipt slashed twice`)
          slashedDigests.set(r.digest, id!)
          if (coreSlash.length !== 1) ctx.fail(`${what}: ${coreSlash.length} slashes by the core`)
          const s = coreSlash[0]!.args as {
            netuid: number
            hotkey: Address
            slashed: bigint
            recipient: Address
            paid: bigint
          }
          const want = predictSlash(dispute!.slashAmount, pre)
          if (s.slashed !== want.slashed)
            ctx.fail(
              `${what}: slashed ${s.slashed}, the pool and its withdrawals give ${want.slashed}`,
            )
          if (s.paid !== (s.slashed * BigInt(dispute!.rewardBps)) / 10_000n)
            ctx.fail(`${what}: paid ${s.paid} of ${s.slashed} at ${dispute!.rewardBps} bps`)
          if (s.hotkey.toLowerCase() !== acct[r.miner]!.toLowerCase() || s.netuid !== r.netuid)
            ctx.fail(`${what}: slashed the wrong pool`)
          if (s.recipient.toLowerCase() !== acct[c]!.toLowerCase())
            ctx.fail(`${what}: paid the wrong recipient`)
          const g = gameSlash?.args as { slashed: bigint; paid: bigint } | undefined
          if (g?.slashed !== s.slashed || g.paid !== s.paid)
            ctx.fail(`${what}: MinerSlashed differs`)
          // the pool and every locked withdrawal after the slash, exactly
          const after = await views([
            {
              to: verity,
              abi: verityAbi as Abi,
              functionName: 'pool',
              args: [r.netuid, acct[r.miner]],
            },
            { to: game, abi: gameAbi, functionName: 'slashedBy', args: [r.digest] },
            ...pre.buckets.map((x) => ({
              to: verity,
              abi: verityAbi as Abi,
              functionName: 'unbonding',
              args: [r.netuid, acct[r.miner], x.b],
            })),
          ])
          if ((after[0] as readonly bigint[])[0] !== want.stake)
            ctx.fail(`${what}: pool stake ${(after[0] as bigint[])[0]}, want ${want.stake}`)
          if (after[1] !== id) ctx.fail(`${what}: slashedBy ${after[1]}, want ${id}`)
          pre.buckets.forEach((x, i) => {
            const got = (after[2 + i] as readonly bigint[])[0]
            if (got !== want.buckets[i])
              ctx.fail(`${what}: withdrawal bucket ${x.b} holds ${got}, want ${want.buckets[i]}`)
          })
          stats.slashes++
          if (want.fromBuckets > 0n) stats.withdrawalsSlashed++
          slashedSum += s.slashed
          burnedSum += s.slashed - s.paid
          supplyDrop = s.slashed - s.paid
          add(verity, -s.slashed)
          add(acct[c]!, s.paid)
        } else {
          stats.notSlashedAgain++
          if (coreSlash.length !== 0) ctx.fail(`${what}: a receipt slashed a second time`)
          const g = gameSlash?.args as { slashed: bigint; paid: bigint } | undefined
          if (g?.slashed !== 0n || g.paid !== 0n) ctx.fail(`${what}: MinerSlashed not zero`)
        }
        if (bond !== 0n) {
          add(game, -bond)
          add(acct[c]!, bond)
        }
      } else {
        stats.challengerLost++
        if (d?.honestChallenger && reason !== DisputeReason.TIMEOUT)
          ctx.fail(`${what}: an honest challenger lost by ${reasonName(reason)}`)
        if (coreSlash.length !== 0) ctx.fail(`${what}: the core slashed a miner that won`)
        add(game, -bond)
        add(acct[r.miner]!, bond)
      }
    } else if (coreSlash.length !== 0) ctx.fail(`${what}: a slash without a decision`)
    const supply = post[0] as bigint
    if (pre.supply - supply !== supplyDrop)
      ctx.fail(`${what}: supply fell by ${pre.supply - supply}, burned ${supplyDrop}`)
    who.forEach((a, i) => {
      const got = (post[1 + i] as bigint) - pre.balances.get(a)!
      if (got !== delta.get(a))
        ctx.fail(`${what}: ${a} balance moved by ${got}, want ${delta.get(a)}`)
    })
    return { id, decided: decided !== undefined }
  }

  const sign = async (a: Extract<DisputeAction, { t: 'dOpen' }>): Promise<Signed> => {
    const prep = prepared[a.req]!
    const run = a.kind === 'cheat' ? prep.cheat : prep.honest
    const now = Number(await blockNumber())
    const issued = a.expired ? Math.max(0, now - 5) : now
    const signed = await signReceipt(devnet.accounts[a.miner]!.account, {
      chainId: devnet.chain.id,
      netuid: a.net,
      modelRoot: toHex(model.modelRoot),
      requestHash: requestHash(prep.request),
      outputHash: outputHash(run.tokens),
      traceRoot: run.traceRoot,
      traceLeaves: run.leaves + (a.kind === 'bad' ? 1 : 0),
      minerHotkey: acct[a.miner]!,
      issuedBlock: issued,
      validUntilBlock: issued + (a.expired ? 1 : CAMPAIGN_DISPUTE.maxValidity),
      nonce: keccak256(toHex(`campaign receipt ${nonce++}`)),
      verifyingContract: verity,
    })
    const [digest] = await views([
      { to: game, abi: gameAbi, functionName: 'receiptDigest', args: [receiptArg(signed)] },
    ])
    const s: Signed = {
      kind: a.kind,
      req: a.req,
      miner: a.miner,
      netuid: a.net,
      signed,
      tokens: run.tokens,
      digest: digest as Hex,
      challengers: new Set(),
    }
    receipts.push(s)
    return s
  }

  const open = async (a: Extract<DisputeAction, { t: 'dOpen' }>, on?: Signed) => {
    const r = on ?? ((!a.fresh && receipts[a.i % Math.max(1, receipts.length)]) || (await sign(a)))
    const prep = prepared[r.req]!
    const c = a.who
    const honestChallenger = r.kind === 'cheat' && a.claim === 'root' && a.liar % 4 !== 0
    const claimedRoot =
      a.claim === 'same'
        ? r.signed.traceRoot
        : honestChallenger
          ? prep.challengerRoot
          : keccak256(toHex(`liar ${a.liar}`))
    const params = openParams({
      receipt: r.signed,
      request: prep.request,
      tokens: r.tokens,
      model,
      claimedRoot,
      ...(a.claim === 'output' ? { outputIndex: a.liar % r.tokens.length } : {}),
    })
    // what the game must do: refuse, or take it
    const now = (await blockNumber()) + 1n
    const [uid, p, economics, disputed, slashedBy, balance, allowance] = await views([
      { to: verity, abi: verityAbi as Abi, functionName: 'uidOf', args: [r.netuid, acct[r.miner]] },
      { to: game, abi: gameAbi, functionName: 'paramsOf', args: [r.netuid] },
      { to: verity, abi: verityAbi as Abi, functionName: 'subnetEconomics', args: [r.netuid] },
      { to: game, abi: gameAbi, functionName: 'disputeOf', args: [r.digest, acct[c]] },
      { to: game, abi: gameAbi, functionName: 'slashedBy', args: [r.digest] },
      balanceCall(acct[c]!),
      { to: vty, abi: verityTokenAbi as Abi, functionName: 'allowance', args: [acct[c], game] },
    ])
    const params_ = p as DisputeParams
    const last = Math.min(r.signed.validUntilBlock, r.signed.issuedBlock + params_.maxValidity)
    const oneShot = r.kind === 'bad'
    const refusals: string[] = []
    if (uid === undefined) refusals.push('hotkey not registered')
    if (now > BigInt(last)) refusals.push('receipt expired')
    if (disputed !== 0n) refusals.push("the challenger's second open")
    if (slashedBy !== 0n) refusals.push('receipt already slashed')
    if (!oneShot && a.claim === 'same') refusals.push("the miner's own root")
    if (!oneShot && (balance as bigint) < params_.bond) refusals.push('no bond')
    if (!oneShot && (allowance as bigint) < params_.bond) refusals.push('no allowance')
    const dissolved = (economics as readonly unknown[])[2] as boolean
    const pre = await preState(r, c)
    const res = await ctx.send(c, 'open', [params], game)
    ctx.counted(res.ok)
    if (refusals.length > 0) {
      ctx.mustFail(res.ok, `open (${refusals.join(', ')})`)
      for (const why of refusals) bump(stats.refused, why)
    } else if (!res.ok && !dissolved) {
      ctx.fail(`open by ${c} on a ${r.kind} receipt of miner ${r.miner} was refused`)
    }
    const { id, decided } = await settle('open', r, c, pre, res, undefined)
    if (!res.ok || id === undefined) return res
    stats.opened++
    if (r.challengers.size > 0) stats.secondChallengers++
    r.challengers.add(c)
    if (oneShot) {
      if (!decided) ctx.fail('a contradicting receipt was not decided at open')
      stats.decidedAtOpen++
      return res
    }
    if (decided) ctx.fail(`a ${r.kind} receipt was decided at open`)
    const kind = r.kind === 'cheat' ? 'cheat' : 'honest'
    disputes.push({
      id,
      r,
      challenger: c,
      honestChallenger,
      from: now,
      done: false,
      players: {
        miner: playerFor(r.req, kind, 'miner'),
        challenger:
          honestChallenger || a.claim === 'output'
            ? playerFor(r.req, 'cheat', 'challenger')
            : new DisputePlayer({
                model,
                request: disputeRequest(prep.request, r.tokens),
                role: 'challenger',
                partElements: 4096,
                liar: { seed: a.liar },
              }),
      },
    })
    return res
  }

  /** An open dispute: one still in time if there is one (the next move can be made). */
  const openOne = async (i: number) => {
    const live = disputes.filter((d) => !d.done)
    if (live.length === 0) return undefined
    const now = (await blockNumber()) + 1n
    const out = await views(
      live.map((d) => ({ to: game, abi: gameAbi, functionName: 'dispute', args: [d.id] })),
    )
    const timely = live.filter((_, k) => {
      const x = out[k] as { phase: number; deadline: number }
      return x.phase !== DisputePhase.DONE && BigInt(x.deadline) >= now
    })
    const from = timely.length > 0 ? timely : live
    return from[i % from.length]
  }
  const wallet = (i: number) => devnet.walletClients[i]!
  const honestSide = (d: Open, role: 'miner' | 'challenger') =>
    role === 'miner' ? d.r.kind === 'honest' : d.honestChallenger

  /** The side to move makes its move (if it has one); false when it has none or it reverted. */
  const move = async (d: Open, what: string): Promise<'moved' | 'none' | 'refused' | 'done'> => {
    const view = await readDispute(devnet.publicClient, game, d.id, { fromBlock: d.from })
    if (view.dispute.phase === DisputePhase.DONE) {
      d.done = true
      return 'done'
    }
    const role = minerToMove(view.dispute) ? 'miner' : 'challenger'
    const player = d.players[role]
    let m: DisputeMove | undefined
    try {
      m = player.nextMove(view)
    } catch (error) {
      if (honestSide(d, role)) throw error
      m = undefined // a liar or a cheater without a move
    }
    if (!m) return 'none'
    const late = (await blockNumber()) + 1n > BigInt(view.dispute.deadline)
    const pre = await preState(d.r, d.challenger)
    const from = role === 'miner' ? d.r.miner : d.challenger
    let res: { ok: boolean; receipt?: Receipt }
    try {
      const sent = await sendMove(wallet(from), game, d.id, m)
      res = {
        ok: true,
        receipt: {
          status: '0x1',
          logs: sent.receipt.logs.map((l) => ({
            address: l.address,
            data: l.data,
            topics: l.topics,
          })),
        },
      }
    } catch (error) {
      if (!late && honestSide(d, role))
        ctx.fail(`${what}: the honest ${role}'s ${m.kind} in time was refused: ${error}`)
      res = { ok: false }
    }
    ctx.counted(res.ok)
    if (late) {
      stats.lateMoves++
      ctx.mustFail(res.ok, `${m.kind} after its deadline`)
    }
    if (res.ok) stats.moves++
    await settle(`${what} ${m.kind}`, d.r, d.challenger, pre, res, d)
    return res.ok ? 'moved' : 'refused'
  }

  /** Mines past the deadline; `caller` (default: the side not to move) times the dispute out. */
  const timeout = async (d: Open, caller: number, what: string) => {
    const view = await readDispute(devnet.publicClient, game, d.id, { fromBlock: d.from })
    if (view.dispute.phase === DisputePhase.DONE) {
      d.done = true
      return { ok: false }
    }
    const minerMoves = minerToMove(view.dispute)
    const now = await blockNumber()
    const wait = BigInt(view.dispute.deadline) - now + 1n
    if (wait > 0n) await ctx.mine(wait)
    const by = caller >= 0 ? caller : minerMoves ? d.challenger : d.r.miner
    const pre = await preState(d.r, d.challenger)
    const res = await ctx.send(by, 'timeout', [d.id], game)
    ctx.counted(res.ok)
    if (!res.ok) ctx.fail(`${what}: a timeout past the deadline reverted`)
    stats.timeouts++
    const { decided } = await settle(`${what} timeout`, d.r, d.challenger, pre, res, d)
    if (!decided) ctx.fail(`${what}: a timeout decided nothing`)
    return res
  }

  type PoolOp = Extract<DisputeAction, { t: 'dPlay' }>['ops'][number]
  /** A stake, unstake or withdraw on the disputed miner's pool while its game runs. */
  const poolOp = async (d: Open, o: PoolOp) => {
    const hot = acct[d.r.miner]!
    let r: { ok: boolean; receipt: Receipt }
    if (o.op === 'stake') r = await ctx.send(o.cold, 'stake', [d.r.netuid, hot, o.amt])
    else if (o.op === 'withdraw') r = await ctx.send(o.cold, 'withdraw', [acct[o.cold]])
    else {
      const [position] = await views([
        {
          to: verity,
          abi: verityAbi as Abi,
          functionName: 'position',
          args: [d.r.netuid, hot, acct[o.cold]],
        },
      ])
      const value = (position as readonly bigint[])[1]!
      r = await ctx.send(o.cold, 'unstake', [d.r.netuid, hot, (value * BigInt(o.frac)) / 8n])
    }
    ctx.counted(r.ok)
    ctx.note(r.receipt)
    stats.poolOps++
    await ctx.check(`dispute pool ${o.op}`)
  }

  /** Both sides move in turn until the dispute ends; a side may stall, the other then times out. */
  const play = async (
    d: Open,
    a: { stall: 'none' | 'miner' | 'challenger'; after: number; ops: PoolOp[] },
  ) => {
    stats.played++
    const made = { miner: 0, challenger: 0 }
    for (let n = 0; n < 200 && !d.done; n++) {
      for (const o of a.ops) if (o.at === n) await poolOp(d, o)
      const view = await readDispute(devnet.publicClient, game, d.id, { fromBlock: d.from })
      if (view.dispute.phase === DisputePhase.DONE) {
        d.done = true
        break
      }
      const role = minerToMove(view.dispute) ? 'miner' : 'challenger'
      const stalls = a.stall === role && made[role] >= a.after
      const out = stalls ? 'none' : await move(d, 'play')
      if (out === 'moved') made[role]++
      else if (out !== 'done') await timeout(d, -1, 'play')
      await ctx.check('play')
    }
    if (!d.done) ctx.fail(`dispute ${d.id} did not end within 200 moves`)
  }

  const apply = async (a: DisputeAction): Promise<{ ok: boolean }> => {
    switch (a.t) {
      case 'dOpen': {
        const before = disputes.length
        const r = await open(a)
        const d = disputes.length > before ? disputes[before] : undefined
        // a second challenger on the same receipt, while the first dispute runs
        const second =
          a.second && d
            ? await open({ ...a, who: 3 + ((a.who - 3 + 1 + (a.liar % 8)) % 9) }, d.r).then(() =>
                disputes.length > before + 1 ? disputes[before + 1] : undefined,
              )
            : undefined
        if (a.play && d && !d.done) await play(d, a)
        if (a.play && second && !second.done) await play(second, { ...a, ops: [] })
        return r
      }
      case 'dMove': {
        const d = await openOne(a.i)
        if (!d) return { ok: false }
        if (a.poke) {
          // the side not to move calls timeout early: refused while the deadline holds
          const view = await readDispute(devnet.publicClient, game, d.id, { fromBlock: d.from })
          if (view.dispute.phase === DisputePhase.DONE) {
            d.done = true
            return { ok: false }
          }
          const early = (await blockNumber()) + 1n <= BigInt(view.dispute.deadline)
          if (early) {
            const other = minerToMove(view.dispute) ? d.challenger : d.r.miner
            const r = await ctx.send(other, 'timeout', [d.id], game)
            ctx.counted(r.ok)
            stats.earlyTimeouts++
            ctx.mustFail(r.ok, 'timeout before the deadline')
          }
        }
        let moved = 0
        for (let k = 0; k < a.steps; k++) {
          if ((await move(d, 'move')) !== 'moved') break
          moved++
          if (k + 1 < a.steps) await ctx.check('dMove')
        }
        return { ok: moved > 0 }
      }
      case 'dStall': {
        const d = await openOne(a.i)
        if (!d) return { ok: false }
        return await timeout(d, a.who, 'stall')
      }
      case 'dPlay': {
        const d = await openOne(a.i)
        if (!d) return { ok: false }
        await play(d, a)
        return { ok: true }
      }
      case 'dParams': {
        const owner = a.net === 1 ? 0 : 3
        const caller = a.who < 0 ? owner : a.who
        const p: DisputeParams = {
          bond: a.bond,
          slashMin: a.slashMin,
          slashBps: a.slashBps,
          rewardBps: a.rewardBps,
          window: a.window,
          maxValidity: a.maxValidity,
        }
        const inBounds =
          p.bond >= parseEther('1') &&
          p.bond <= parseEther('1000') &&
          p.slashBps >= 1000 &&
          p.slashBps <= 10_000 &&
          p.rewardBps >= 1000 &&
          p.rewardBps <= 9000 &&
          p.window >= 1 &&
          p.maxValidity >= 1 &&
          p.maxValidity + 80 * p.window + 1 <= CAMPAIGN_UNSTAKE_DELAY
        const r = await ctx.send(caller, 'setParams', [a.net, p], game)
        ctx.counted(r.ok)
        if (caller !== owner) ctx.mustFail(r.ok, `setParams by ${caller}`)
        if (!inBounds) ctx.mustFail(r.ok, `setParams out of bounds ${JSON.stringify(p, big)}`)
        return r
      }
      case 'dDereg': {
        // new hotkeys register until one replaces a uid (past its immunity)
        await ctx.mine(3)
        for (const who of [8, 9, 10, 11]) {
          const r = await ctx.send(who, 'register', [a.net, parseEther('10')])
          ctx.counted(r.ok)
          if (r.ok && logsOf(r.receipt).some((e) => e.eventName === 'NeuronReplaced'))
            return { ok: true }
        }
        return { ok: false }
      }
    }
  }

  /** The game holds exactly the open disputes' bonds; the supply is what every holder holds. */
  const check = async (after: string) => {
    const [count] = await views([{ to: game, abi: gameAbi, functionName: 'disputeCount' }])
    const ids = Array.from({ length: Number(count as bigint) }, (_, i) => BigInt(i + 1))
    const holders = [...acct, verity, game]
    const out = await views([
      { to: vty, abi: verityTokenAbi as Abi, functionName: 'totalSupply' },
      ...holders.map(balanceCall),
      ...ids.map((id) => ({ to: game, abi: gameAbi, functionName: 'dispute', args: [id] })),
    ])
    const supply = out[0] as bigint
    const balances = holders.map((_, i) => out[1 + i] as bigint)
    const held = balances.reduce((s, b) => s + b, 0n)
    if (held !== supply) ctx.fail(`after ${after}: holders hold ${held}, supply is ${supply}`)
    let bonds = 0n
    for (let i = 0; i < ids.length; i++) {
      const d = out[1 + holders.length + i] as { phase: number; bond: bigint }
      if (d.phase !== DisputePhase.DONE && d.phase !== DisputePhase.NONE) bonds += d.bond
    }
    const gameBalance = balances[holders.length - 1]!
    if (gameBalance !== bonds)
      ctx.fail(`after ${after}: the game holds ${gameBalance}, its open disputes' bonds ${bonds}`)
  }

  const result = (): DisputeStats => ({
    ...stats,
    slashedTotal: slashedSum.toString(),
    burnedTotal: burnedSum.toString(),
  })
  return { apply, check, reset, result }
}

const big = (_: string, v: unknown) => (typeof v === 'bigint' ? v.toString() : v)
