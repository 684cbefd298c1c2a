import fc from 'fast-check'
import {
  type Address,
  decodeEventLog,
  decodeFunctionResult,
  encodeFunctionData,
  type Hex,
  keccak256,
  parseEther,
  toHex,
} from 'viem'
import { verityAbi, verityLensAbi, verityLensBytecode, verityTokenAbi } from './abis.ts'
import { computeCommitHash } from './actions/computeCommitHash.ts'
import { encodeGovernanceChange } from './actions/queueGovernanceChange.ts'
import {
  CAMPAIGN_UNSTAKE_DELAY,
  type DisputeAction,
  type DisputeContext,
  type DisputeStats,
  disputeActions,
  disputeCampaign,
  EXTRA_ACCOUNTS,
  setupDisputes,
  UNAPPROVED,
} from './campaign-disputes.ts'
import { type Devnet, startDevnet } from './devnet.ts'
import { disputeGameErrorsAbi } from './dispute.ts'
import { DEFAULT_HYPERPARAMS, type Hyperparams, type ProtocolParams } from './types.ts'

/**
 * The protocol's invariant campaign: fast-check draws sequences of actions by random callers
 * (stake, unstake, withdraw, take, register, weights, commit/reveal, epochs run whole or stalled
 * and aborted, claims and sweeps, governance changes queued, executed and cancelled, pauses, subnet
 * owners' changes, subnet creation and dissolution, calls by accounts that hold no right to make
 * them, the slash hook called by accounts that are not the game) and the real dispute game, named
 * by governance, on receipts of the trained test model (src/chain/campaign-disputes.ts: opens,
 * moves, whole games, stalls and timeouts, its parameters; checked exactly around every
 * transaction that can decide a dispute). After every action:
 *   - the protocol's VTY balance = staked + withdrawing + claimable + pending + locked, exactly;
 *   - staked = sum of pools, withdrawing = sum of withdrawal buckets, pending = sum of subnets'
 *     pending emission, locked = sum of subnets' locks, claimable = claimable balances + uids'
 *     unclaimed + pools' staker rewards + keeper rewards of running epochs, all exactly;
 *   - in every pool the coldkeys' shares add up to the pool's shares, and are worth at most its stake;
 *   - emission shares add up to at most 100%; supply = minted - burned;
 *   - a call by an account without the right to make it reverts (so changes nothing);
 *   - a running epoch can always be carried on by anyone (liveness).
 * One devnet, reverted to a snapshot between sequences; transactions go to anvil's unlocked
 * accounts with a fixed gas limit (no estimation), and each check is one view call (VerityLens).
 */
export type CampaignOptions = {
  runs: number
  seed: number
  /** Actions per sequence: 5 to this (default 25). */
  maxActions?: number
  /** Called every `every` sequences with the count so far. */
  progress?: (done: number, ms: number) => void
  every?: number
  signal?: AbortSignal
}

export type CampaignResult = {
  runs: number
  actions: number
  reverted: number
  ms: number
  counts: Record<string, number>
  /** Actions of each kind that went through (the rest were refused, as they may be). */
  succeeded: Record<string, number>
  /** The dispute game's part: opens, moves, decisions, slashes (campaign-disputes.ts). */
  disputes: DisputeStats
}

const OWNER = 0
const GUARDIAN = 1
const GAME = 2 // once the stand-in slasher; now an account like any other (the game is a contract)
const ACTORS = 12
const NET_OWNER = 3 // owns subnet 2
// the dispute game's longest dispute must end within it (CAMPAIGN_DISPUTE)
const UNSTAKE_DELAY = CAMPAIGN_UNSTAKE_DELAY
const GAS = toHex(15_000_000n)

const who = fc.nat(ACTORS - 1)
const actor = fc.integer({ min: 3, max: ACTORS - 1 })
// subnets 1 and 2 exist from the start; 3 only once an actor creates it
const net = fc.constantFrom(1, 1, 2, 2, 3)
const weights = fc.array(fc.nat(65535), { minLength: 1, maxLength: 4 })
/** Mostly the account holding the role, sometimes anyone (whose call must then fail). */
const roleOr = (role: number) =>
  fc.oneof({ weight: 3, arbitrary: fc.constant(role) }, { weight: 1, arbitrary: who })
/** An index into one of the sequence's lists (stakes, registrations, queued changes). */
const pick = fc.nat(63)
const action = fc.oneof(
  {
    weight: 6,
    arbitrary: fc.record({
      t: fc.constant('stake' as const),
      who: actor,
      net,
      hot: actor,
      amt: fc.bigInt(1n, 10n ** 20n),
    }),
  },
  {
    weight: 4,
    arbitrary: fc.record({
      t: fc.constant('unstake' as const),
      i: pick,
      frac: fc.integer({ min: 1, max: 8 }),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({ t: fc.constant('withdraw' as const), i: pick, wait: fc.boolean() }),
  },
  { weight: 3, arbitrary: fc.record({ t: fc.constant('register' as const), who: actor, net }) },
  { weight: 3, arbitrary: fc.record({ t: fc.constant('weights' as const), i: pick, w: weights }) },
  { weight: 2, arbitrary: fc.record({ t: fc.constant('commit' as const), i: pick, w: weights }) },
  {
    weight: 2,
    arbitrary: fc.record({ t: fc.constant('reveal' as const), i: pick, next: fc.boolean() }),
  },
  {
    weight: 5,
    arbitrary: fc.record({
      t: fc.constant('epoch' as const),
      who,
      net,
      fund: fc.bigInt(0n, 10n ** 19n),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({ t: fc.constant('stall' as const), who, net, abort: fc.boolean() }),
  },
  { weight: 1, arbitrary: fc.record({ t: fc.constant('abort' as const), who }) },
  {
    weight: 3,
    arbitrary: fc.record({ t: fc.constant('claim' as const), who, i: pick, from: fc.boolean() }),
  },
  { weight: 1, arbitrary: fc.record({ t: fc.constant('sweep' as const), who, i: pick }) },
  {
    weight: 1,
    arbitrary: fc.record({ t: fc.constant('take' as const), who: actor, take: fc.nat(12_000) }),
  },
  {
    weight: 3,
    arbitrary: fc.record({
      t: fc.constant('slash' as const),
      who: roleOr(GAME),
      i: pick,
      amt: fc.bigInt(0n, 10n ** 20n),
      bps: fc.nat(10_001),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      t: fc.constant('govParams' as const),
      who: roleOr(OWNER),
      k: fc.nat(7),
      v: fc.nat(1_000),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      t: fc.constant('govShare' as const),
      who: roleOr(OWNER),
      net,
      bps: fc.nat(10_000),
    }),
  },
  { weight: 2, arbitrary: fc.record({ t: fc.constant('govExec' as const), who, i: pick }) },
  {
    weight: 1,
    arbitrary: fc.record({ t: fc.constant('govCancel' as const), who: roleOr(GUARDIAN), i: pick }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      t: fc.constant('pause' as const),
      who: roleOr(GUARDIAN),
      on: fc.boolean(),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      t: fc.constant('hyper' as const),
      who: roleOr(OWNER),
      net,
      tempo: fc.integer({ min: 1, max: 4 }),
      cr: fc.boolean(),
    }),
  },
  { weight: 1, arbitrary: fc.record({ t: fc.constant('create' as const), who: actor }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant('dissolve' as const), who, net }) },
  {
    weight: 1,
    arbitrary: fc.record({ t: fc.constant('ownership' as const), who, renounce: fc.boolean() }),
  },
  {
    weight: 1,
    arbitrary: fc.record({ t: fc.constant('mint' as const), who, amt: fc.bigInt(1n, 10n ** 18n) }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      t: fc.constant('fund' as const),
      who: actor,
      net,
      amt: fc.bigInt(1n, 10n ** 19n),
    }),
  },
  {
    weight: 3,
    arbitrary: fc.record({ t: fc.constant('mine' as const), b: fc.integer({ min: 1, max: 12 }) }),
  },
  ...disputeActions,
)
type Action = typeof action extends fc.Arbitrary<infer A> ? A : never
const isDispute = (a: Action): a is DisputeAction => a.t.startsWith('d') && a.t !== 'dissolve'

export const CAMPAIGN_SUBNET: Hyperparams = {
  ...DEFAULT_HYPERPARAMS,
  tempo: 2,
  maxUids: 4,
  maxValidators: 3,
  immunityPeriod: 2,
  weightsRateLimit: 1,
  minAllowedWeights: 1,
  weightsNeedPermit: false,
  burn: parseEther('1'),
  minBurn: parseEther('0.1'),
  maxBurn: parseEther('10'),
  adjustmentInterval: 5,
  maxRegistrationsPerBlock: 0,
  targetRegistrationsPerInterval: 2,
  ownerCut: 6553,
}

const CAMPAIGN_PARAMS: ProtocolParams = {
  unstakeDelay: UNSTAKE_DELAY,
  governanceDelay: 2,
  epochDeadline: 6,
  keeperBps: 100,
  maxSubnets: 4,
  minLock: parseEther('1'),
  lockReductionInterval: 50,
}

class CampaignError extends Error {
  override name = 'CampaignError'
}

export async function runInvariantCampaign(options: CampaignOptions): Promise<CampaignResult> {
  const devnet = await startDevnet({
    accounts: ACTORS + EXTRA_ACCOUNTS,
    unstakeDelay: UNSTAKE_DELAY,
    params: CAMPAIGN_PARAMS,
    ...(options.signal ? { signal: options.signal } : {}),
  })
  try {
    return await campaign(devnet, options)
  } finally {
    await devnet.stop()
  }
}

async function campaign(devnet: Devnet, options: CampaignOptions): Promise<CampaignResult> {
  const started = Date.now()
  const verity = devnet.addresses.verity
  const vty = devnet.addresses.token
  const acct = devnet.accounts.map((a) => a.address)
  let id = 0
  const rpc = async <T>(method: string, params: unknown[]): Promise<T> => {
    const res = await fetch(devnet.rpcUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ jsonrpc: '2.0', id: ++id, method, params }),
    })
    const body = (await res.json()) as { result?: T; error?: { message: string } }
    if (body.error) throw new CampaignError(`${method}: ${body.error.message}`)
    return body.result as T
  }
  type Receipt = {
    status: Hex
    contractAddress: Address | null
    logs: { address: Address; data: Hex; topics: Hex[] }[]
  }
  // automine mines each transaction as it arrives, though the receipt may lag the hash a little
  const receiptOf = async (hash: Hex): Promise<Receipt> => {
    for (;;) {
      const r = await rpc<Receipt | null>('eth_getTransactionReceipt', [hash])
      if (r) return r
      await new Promise((resolve) => setTimeout(resolve, 2))
    }
  }
  let reverted = 0
  let actions = 0
  let game: Address = '0x0000000000000000000000000000000000000000'
  const abiOf = (to: Address) =>
    to === vty ? verityTokenAbi : to === game ? disputeGameErrorsAbi : verityAbi
  const counts: Record<string, number> = {}
  const succeeded: Record<string, number> = {}
  /** Sends from an unlocked account with a fixed gas limit; returns whether it succeeded. */
  const send = async (
    from: number,
    functionName: string,
    args: readonly unknown[],
    to: Address = verity,
  ): Promise<{ ok: boolean; receipt: Receipt }> => {
    const data = encodeFunctionData({ abi: abiOf(to), functionName, args } as never)
    const hash = await rpc<Hex>('eth_sendTransaction', [{ from: acct[from], to, data, gas: GAS }])
    const receipt = await receiptOf(hash)
    const ok = receipt.status === '0x1'
    if (!ok) reverted++
    return { ok, receipt }
  }
  const view = async <T>(
    functionName: string,
    args: readonly unknown[] = [],
    to: Address = verity,
  ) => {
    const abi = abiOf(to)
    const data = encodeFunctionData({ abi, functionName, args } as never)
    const out = await rpc<Hex>('eth_call', [{ to, data }, 'latest']).catch((error) => {
      throw new CampaignError(`${functionName}(${args.join(', ')}): ${error}`)
    })
    return decodeFunctionResult({ abi, functionName, data: out } as never) as T
  }
  const mine = async (blocks: bigint | number) => {
    if (BigInt(blocks) > 0n) await rpc('anvil_mine', [toHex(blocks)])
  }
  const clock = async () => BigInt(await view<number>('clock'))
  /** A call the caller has no right to make must revert. */
  const mustFail = (ok: boolean, what: string) => {
    if (ok) throw new CampaignError(`unauthorised call succeeded: ${what}`)
  }

  // --- setup: roles, VTY for the actors, two subnets, a share of the emission, the lens
  const require = async (p: Promise<{ ok: boolean }>, what: string) => {
    if (!(await p).ok) throw new CampaignError(`setup: ${what} reverted`)
  }
  const govern = async (kind: number, data: Hex) => {
    const { ok, receipt } = await send(OWNER, 'queueChange', [kind, data])
    if (!ok) throw new CampaignError('setup: queueChange reverted')
    const ev = decodeEventLog({ abi: verityAbi, ...receiptLog(receipt, 'ChangeQueued') })
    if (ev.eventName !== 'ChangeQueued') throw new CampaignError('setup: no ChangeQueued')
    const now = await clock()
    await mine(BigInt(ev.args.eta) - now)
    await require(send(OWNER, 'executeChange', [kind, data, ev.args.nonce]), 'executeChange')
  }
  const receiptLog = (receipt: Receipt, name: string) => {
    for (const log of receipt.logs) {
      try {
        const ev = decodeEventLog({ abi: verityAbi, data: log.data, topics: log.topics as never })
        if (ev.eventName === name) return { data: log.data, topics: log.topics as [Hex, ...Hex[]] }
      } catch {
        // not ours
      }
    }
    throw new CampaignError(`no ${name} event`)
  }
  for (const i of [...Array.from({ length: ACTORS - 1 }, (_, j) => j + 1), UNAPPROVED]) {
    await require(send(OWNER, 'transfer', [acct[i], parseEther('20000')], vty), 'transfer')
  }
  for (let i = 0; i < ACTORS; i++) {
    await require(send(i, 'approve', [verity, 2n ** 255n], vty), 'approve')
  }
  const g = encodeGovernanceChange({ kind: 'guardian', guardian: acct[GUARDIAN]! })
  await govern(g.kind, g.data)
  const d = encodeGovernanceChange({ kind: 'disputeGame', game: acct[GAME]! })
  await govern(d.kind, d.data)
  await require(send(OWNER, 'createSubnet', [
    { ...CAMPAIGN_SUBNET, yuma3: true, liquidAlpha: true },
    10n ** 24n,
  ]), 'subnet 1')
  await require(send(NET_OWNER, 'createSubnet', [
    { ...CAMPAIGN_SUBNET, yuma3: false, commitReveal: true },
    10n ** 24n,
  ]), 'subnet 2')
  const s = encodeGovernanceChange({ kind: 'emissionShare', netuid: 1, shareBps: 5_000 })
  await govern(s.kind, s.data)
  const lensHash = await rpc<Hex>('eth_sendTransaction', [
    { from: acct[OWNER], data: verityLensBytecode, gas: toHex(5_000_000n) },
  ])
  const lens = (await receiptOf(lensHash)).contractAddress
  if (!lens) throw new CampaignError('setup: the lens was not deployed')

  // the dispute game, named by governance, the test model on subnets 1 and 2
  const batch = async (calls: { method: string; params: unknown[] }[]): Promise<unknown[]> => {
    const res = await fetch(devnet.rpcUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(calls.map((c, i) => ({ jsonrpc: '2.0', id: i, ...c }))),
    })
    const body = (await res.json()) as {
      id: number
      result?: unknown
      error?: { message: string }
    }[]
    const byId = new Map(body.map((b) => [b.id, b]))
    return calls.map((_, i) => {
      const b = byId.get(i)
      return !b || b.error ? new CampaignError(b?.error?.message ?? 'no answer') : b.result
    })
  }
  const ctx: DisputeContext = {
    devnet,
    acct,
    rpc,
    batch,
    send,
    mine,
    mustFail,
    fail: (what) => {
      throw new CampaignError(what)
    },
    check: async (after) => {
      await check(after)
      await disputes.check(after)
    },
    counted: () => {},
    note: (receipt) => noteBuckets(receipt as Receipt),
  }
  const setup = await setupDisputes(
    ctx,
    govern,
    (address) => encodeGovernanceChange({ kind: 'disputeGame', game: address }),
    { 1: OWNER, 2: NET_OWNER },
  )
  game = setup.game
  const width = setup.width
  const disputes = disputeCampaign(ctx, setup)
  const snapshot = { id: '0x' as Hex }

  // --- per-sequence state the checks and actions need
  type Change = { kind: number; data: Hex; nonce: bigint }
  let nets: number[] = []
  let buckets: Map<string, { netuid: number; hotkey: Address; bucket: number }> = new Map()
  let changes: Change[] = []
  let commits: Map<string, { netuid: number; who: number; uids: number[]; values: number[] }> =
    new Map()
  // what the sequence has done, for actions that act on it: stakes, registrations, a stalled epoch
  const stakes: { netuid: number; hot: number; cold: number }[] = []
  const registered: { netuid: number; who: number }[] = []
  let stalled = 1
  // who ran epoch stages (keeper rewards to claim)
  const keepers: number[] = []
  const at = <T>(list: T[], i: number): T | undefined => list[i % Math.max(1, list.length)]
  const salt = keccak256(toHex('campaign salt'))

  const noteBuckets = (receipt: Receipt) => {
    for (const log of receipt.logs) {
      try {
        const ev = decodeEventLog({ abi: verityAbi, data: log.data, topics: log.topics as never })
        if (ev.eventName === 'Unstaked') {
          const key = `${ev.args.netuid}:${ev.args.hotkey}:${ev.args.unlock}`
          // the unlock is bucket * bucketWidth
          buckets.set(key, {
            netuid: ev.args.netuid,
            hotkey: ev.args.hotkey,
            bucket: Number(BigInt(ev.args.unlock) / width),
          })
        } else if (ev.eventName === 'ChangeQueued') {
          changes.push({ kind: ev.args.kind, data: ev.args.data, nonce: ev.args.nonce })
        } else if (ev.eventName === 'SubnetCreated' && !nets.includes(ev.args.netuid)) {
          nets.push(ev.args.netuid)
        }
      } catch {
        // another event
      }
    }
  }

  const check = async (after: string) => {
    const coldkeys = acct
    const hotkeys = acct.slice(3)
    const data = encodeFunctionData({
      abi: verityLensAbi,
      functionName: 'sums',
      args: [verity, vty, nets, hotkeys, coldkeys, acct, [...buckets.values()]],
    })
    const out = await rpc<Hex>('eth_call', [{ to: lens, data }, 'latest']).catch((error) => {
      throw new CampaignError(`after ${after}: the check reverted (subnets ${nets}): ${error}`)
    })
    const x = decodeFunctionResult({ abi: verityLensAbi, functionName: 'sums', data: out })
    const fail = (what: string) => {
      throw new CampaignError(
        `after ${after}: ${what} ${JSON.stringify(x, (_, v) => (typeof v === 'bigint' ? v.toString() : v))}`,
      )
    }
    if (x.balance !== x.staked + x.withdrawing + x.claimable + x.pending + x.locked)
      fail('balance != staked + withdrawing + claimable + pending + locked')
    if (x.staked !== x.poolStake) fail('staked != sum of pools')
    if (x.withdrawing !== x.buckets) fail('withdrawing != sum of withdrawal buckets')
    if (x.pending !== x.subnetPending) fail('pending != sum of subnets')
    if (x.locked !== x.subnetLocked) fail('locked != sum of subnet locks')
    if (x.claimable !== x.settled + x.unclaimed + x.rewards + x.keeper)
      fail('claimable != balances + unclaimed + staker rewards + keeper rewards')
    if (x.shareMismatches !== 0n) fail("coldkeys' shares != pool shares")
    if (x.valueExcesses !== 0n) fail('positions worth more than their pool')
    if (x.shareTotal > 10_000n) fail('emission shares over 100%')
    if (x.supply !== x.minted - x.burned) fail('supply != minted - burned')
  }

  /** Carries a running or due epoch through to its end; any stage failing is a liveness bug. */
  const runEpoch = async (caller: number, netuid: number) => {
    if (!nets.includes(netuid)) return
    for (let i = 0; i < 8; i++) {
      const [stage, nextCol, n] = await view<readonly [number, number, number, number]>(
        'epochStage',
        [netuid],
      )
      if (stage === 0 && i > 0) return
      let r: { ok: boolean }
      if (stage === 0) {
        r = await send(caller, 'epochBegin', [netuid])
        if (!r.ok) return // not due, dissolved: fine
        continue
      }
      if (stage === 1) {
        const medians = await view<readonly bigint[]>('consensusHints', [
          netuid,
          nextCol,
          n - nextCol,
        ])
        r = await send(caller, 'epochConsensus', [netuid, medians])
      } else if (stage === 2) {
        r = await send(caller, 'epochBonds', [netuid, n - nextCol])
      } else {
        r = await send(caller, 'epochFinish', [netuid, Math.max(1, n - nextCol)])
      }
      if (!r.ok) throw new CampaignError(`liveness: stage ${stage} of subnet ${netuid} reverted`)
    }
    throw new CampaignError(`liveness: epoch of subnet ${netuid} did not end`)
  }
  const mineToDue = async (netuid: number) => {
    if (!nets.includes(netuid)) return
    const [due] = await view<readonly [bigint, bigint, bigint]>('epochInfo', [netuid])
    const now = await clock()
    if (due > now) await mine(due - now)
  }

  const apply = async (a: Action): Promise<{ ok: boolean }> => {
    if (isDispute(a)) return await disputes.apply(a)
    const netuid = 'net' in a ? a.net : 1
    // subnet 2's owner proposes for it; the campaign's role-holding callers stand for the owner
    const ownerOf = (n: number) => (n === 2 ? NET_OWNER : OWNER)
    switch (a.t) {
      case 'stake': {
        const r = await send(a.who, 'stake', [netuid, acct[a.hot], a.amt])
        if (r.ok) stakes.push({ netuid, hot: a.hot, cold: a.who })
        return r
      }
      case 'unstake': {
        const p = at(stakes, a.i)
        if (!p) return { ok: false }
        const [, value] = await view<readonly bigint[]>('position', [
          p.netuid,
          acct[p.hot],
          acct[p.cold],
        ])
        const amount = ((value ?? 0n) * BigInt(a.frac)) / 8n
        const r = await send(p.cold, 'unstake', [p.netuid, acct[p.hot], amount])
        noteBuckets(r.receipt)
        return r
      }
      case 'withdraw': {
        const p = at(stakes, a.i)
        if (!p) return { ok: false }
        if (a.wait) await mine(UNSTAKE_DELAY + 1)
        return await send(p.cold, 'withdraw', [acct[p.cold]])
      }
      case 'register': {
        const r = await send(a.who, 'register', [netuid, parseEther('10')])
        if (r.ok) registered.push({ netuid, who: a.who })
        return r
      }
      case 'weights': {
        const p = at(registered, a.i)
        if (!p) return { ok: false }
        // targets among the subnet's uids
        const [, n] = await view<readonly [Address, number]>('subnetInfo', [p.netuid])
        const w = a.w.slice(0, Math.max(1, n))
        return await send(p.who, 'setWeights', [p.netuid, w.map((_, j) => j), w, 0n])
      }
      case 'commit': {
        const p = at(registered, a.i)
        if (!p) return { ok: false }
        // targets among the subnet's uids
        const [, n] = await view<readonly [Address, number]>('subnetInfo', [p.netuid])
        const values = a.w.slice(0, Math.max(1, n))
        const uids = values.map((_, j) => j)
        const hash = computeCommitHash({
          hotkey: acct[p.who]!,
          netuid: p.netuid,
          uids,
          values,
          salt,
          versionKey: 0n,
        })
        const r = await send(p.who, 'commitWeights', [p.netuid, hash])
        if (r.ok)
          commits.set(`${p.netuid}:${p.who}`, { netuid: p.netuid, who: p.who, uids, values })
        return r
      }
      case 'reveal': {
        const c = at([...commits.values()], a.i)
        if (!c) return { ok: false }
        if (a.next) {
          // into the commit's reveal epoch
          await mineToDue(c.netuid)
          await runEpoch(OWNER, c.netuid)
        }
        return await send(c.who, 'revealWeights', [c.netuid, c.uids, c.values, salt, 0n])
      }
      case 'epoch': {
        if (a.fund > 0n) await send(OWNER, 'fundEmission', [netuid, a.fund])
        await mineToDue(netuid)
        await runEpoch(a.who, netuid)
        keepers.push(a.who)
        return { ok: true }
      }
      case 'stall': {
        await mineToDue(netuid)
        const r = await send(a.who, 'epochBegin', [netuid])
        if (r.ok) {
          stalled = netuid
          keepers.push(a.who)
        }
        if (r.ok && a.abort) {
          await mine(CAMPAIGN_PARAMS.epochDeadline)
          return await send(a.who, 'epochAbort', [netuid])
        }
        return r
      }
      case 'abort': {
        await mine(CAMPAIGN_PARAMS.epochDeadline)
        return await send(a.who, 'epochAbort', [stalled])
      }
      case 'claim': {
        // a hotkey its own emission, a coldkey its staking rewards, or a bare claim
        const p = at(stakes, a.i)
        if (!a.from || !p) {
          const k = keepers.length > 0 ? at(keepers, a.i)! : a.who
          return await send(k, 'claim', [acct[k]])
        }
        const caller = a.who % 2 === 0 ? p.cold : p.hot
        return await send(caller, 'claimFrom', [p.netuid, acct[p.hot], acct[caller]])
      }
      case 'sweep': {
        const p = at(registered, a.i)
        if (!p) return { ok: false }
        return await send(a.who, 'sweep', [p.netuid, acct[p.who]])
      }
      case 'take':
        return await send(a.who, 'setTake', [a.take])
      case 'slash': {
        const p = at(stakes, a.i) ?? { netuid: 1, hot: 3 }
        const r = await send(a.who, 'slashForDispute', [
          p.netuid,
          acct[p.hot],
          a.amt,
          acct[a.who],
          a.bps,
        ])
        // only the dispute game, a contract, may slash
        mustFail(r.ok, `slashForDispute by ${a.who}`)
        return r
      }
      case 'govParams': {
        const p: ProtocolParams = { ...CAMPAIGN_PARAMS }
        // each parameter across its bounds and a little past them (those must be refused)
        if (a.k === 0) p.unstakeDelay = UNSTAKE_DELAY + (a.v % (3 * UNSTAKE_DELAY + 2))
        if (a.k === 1) p.governanceDelay = a.v % 4
        if (a.k === 2) p.epochDeadline = a.v % 12
        if (a.k === 3) p.keeperBps = a.v % 520
        if (a.k === 4) p.maxSubnets = a.v % 7
        if (a.k === 5) p.minLock = BigInt(a.v) * 10n ** 16n
        if (a.k === 6) p.lockReductionInterval = a.v % 100
        const { kind, data } = encodeGovernanceChange({ kind: 'params', params: p })
        const r = await send(a.who, 'queueChange', [kind, data])
        if (a.who !== OWNER) mustFail(r.ok, `queueChange by ${a.who}`)
        noteBuckets(r.receipt)
        return r
      }
      case 'govShare': {
        const { kind, data } = encodeGovernanceChange({
          kind: 'emissionShare',
          netuid,
          shareBps: a.bps,
        })
        const r = await send(a.who, 'queueChange', [kind, data])
        if (a.who !== OWNER) mustFail(r.ok, `queueChange by ${a.who}`)
        noteBuckets(r.receipt)
        return r
      }
      case 'govExec': {
        const c = at(changes, a.i)
        if (!c) return { ok: false }
        await mine(3)
        return await send(a.who, 'executeChange', [c.kind, c.data, c.nonce])
      }
      case 'govCancel': {
        const c = at(changes, a.i)
        if (!c) return { ok: false }
        const r = await send(a.who, 'cancelChange', [c.kind, c.data, c.nonce])
        const owner = a.who === OWNER
        // the guardian may not veto its own replacement
        if (!owner && (a.who !== GUARDIAN || c.kind === 3))
          mustFail(r.ok, `cancelChange by ${a.who}`)
        return r
      }
      case 'pause': {
        const r = await send(a.who, a.on ? 'pause' : 'unpause', [])
        if (a.on && a.who !== GUARDIAN) mustFail(r.ok, `pause by ${a.who}`)
        if (!a.on && a.who !== GUARDIAN && a.who !== OWNER) mustFail(r.ok, `unpause by ${a.who}`)
        return r
      }
      case 'hyper': {
        const p = {
          ...CAMPAIGN_SUBNET,
          tempo: a.tempo,
          immunityPeriod: 0,
          weightsRateLimit: 0,
          commitReveal: a.cr,
        }
        const caller = a.who === OWNER ? ownerOf(netuid) : a.who
        const r = await send(caller, 'setHyperparams', [netuid, p])
        const owner = netuid === 1 ? OWNER : netuid === 2 ? NET_OWNER : -1
        if (owner >= 0 && caller !== owner) mustFail(r.ok, `setHyperparams by ${caller}`)
        return r
      }
      case 'create': {
        const r = await send(a.who, 'createSubnet', [CAMPAIGN_SUBNET, parseEther('100')])
        noteBuckets(r.receipt)
        return r
      }
      case 'dissolve': {
        const r = await send(a.who, 'dissolveSubnet', [netuid])
        const owner = netuid === 1 ? OWNER : netuid === 2 ? NET_OWNER : -1
        if (owner >= 0 && a.who !== owner) mustFail(r.ok, `dissolveSubnet by ${a.who}`)
        return r
      }
      case 'ownership': {
        const r = a.renounce
          ? await send(a.who, 'renounceOwnership', [])
          : await send(a.who === OWNER ? GUARDIAN : a.who, 'transferOwnership', [acct[a.who]])
        mustFail(r.ok, a.renounce ? 'renounceOwnership' : 'transferOwnership by a non-owner')
        return r
      }
      case 'mint': {
        const r = await send(a.who, 'mint', [acct[a.who], a.amt], vty)
        mustFail(r.ok, `mint by ${a.who}`)
        return r
      }
      case 'fund':
        return await send(a.who, 'fundEmission', [netuid, a.amt])
      case 'mine':
        await mine(a.b)
        return { ok: true }
    }
  }

  // a live network to start every sequence from: neurons on both subnets, stake from other
  // coldkeys that has counted at two epochs (permits given), weights, pending emission
  const baseRegistered = [
    { netuid: 1, who: 3 },
    { netuid: 1, who: 4 },
    { netuid: 1, who: 5 },
    { netuid: 2, who: 3 },
    { netuid: 2, who: 6 },
  ]
  const baseStakes = [
    { netuid: 1, hot: 3, cold: 6 },
    { netuid: 1, hot: 4, cold: 7 },
    { netuid: 2, hot: 3, cold: 8 },
    { netuid: 1, hot: 3, cold: 9 },
  ]
  for (const r of baseRegistered)
    await require(send(r.who, 'register', [r.netuid, parseEther('10')]), 'register')
  for (const [i, p] of baseStakes.entries())
    await require(send(p.cold, 'stake', [
      p.netuid,
      acct[p.hot],
      parseEther(String(10 * (i + 1))),
    ]), 'stake')
  await require(send(3, 'setWeights', [1, [1, 2], [40_000, 20_000], 0n]), 'weights')
  for (const netuid of [1, 2]) {
    await require(send(OWNER, 'fundEmission', [netuid, parseEther('5')]), 'fund')
    for (let e = 0; e < 2; e++) {
      await mineToDue(netuid)
      await runEpoch(OWNER, netuid)
    }
  }
  snapshot.id = await rpc<Hex>('evm_snapshot', [])

  let runs = 0
  await fc.assert(
    fc.asyncProperty(
      fc.array(action, { minLength: 5, maxLength: options.maxActions ?? 25 }),
      async (seq) => {
        options.signal?.throwIfAborted()
        if (!(await rpc<boolean>('evm_revert', [snapshot.id])))
          throw new CampaignError('evm_revert failed')
        snapshot.id = await rpc<Hex>('evm_snapshot', [])
        nets = [1, 2]
        buckets = new Map()
        changes = []
        commits = new Map()
        stakes.splice(0, stakes.length, ...baseStakes)
        registered.splice(0, registered.length, ...baseRegistered)
        stalled = 1
        keepers.length = 0
        disputes.reset()
        for (const a of seq) {
          const r = await apply(a)
          actions++
          counts[a.t] = (counts[a.t] ?? 0) + 1
          if (r.ok) succeeded[a.t] = (succeeded[a.t] ?? 0) + 1
          await check(a.t)
          await disputes.check(a.t)
        }
        runs++
        if (options.progress && runs % (options.every ?? 100) === 0)
          options.progress(runs, Date.now() - started)
      },
    ),
    { seed: options.seed, numRuns: options.runs, endOnFailure: true },
  )
  return {
    runs,
    actions,
    reverted,
    ms: Date.now() - started,
    counts,
    succeeded,
    disputes: disputes.result(),
  }
}
