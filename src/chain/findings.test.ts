import { type Address, encodeAbiParameters, getAddress, parseEther, toHex } from 'viem'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { verityAbi, verityTokenAbi } from './abis.ts'
import { queueGovernanceChange } from './actions/queueGovernanceChange.ts'
import { DEVNET_PROTOCOL_PARAMS, deployToken, deployVerity, setTokenMinter } from './devnet.ts'
import { OPEN, startTestChain, type TestChain, type Wallet } from './test-chain.ts'
import type { Hyperparams, ProtocolParams, VerityConfig } from './types.ts'

/**
 * One test per finding of issue 12 ("Contracts a careful team would deploy"), named after it. Each
 * fails on the contracts before the issue (the function, bound or rule it checks was missing) and
 * passes after.
 */
let c: TestChain

beforeAll(async () => {
  c = await startTestChain({ tag: 'findings', keys: 12 })
})

afterAll(async () => {
  await c?.stop()
})

beforeEach(async () => {
  await c.reset()
})

const addr = (i: number) => c.keys[i]!.account.address
const params = async () => await c.read<ProtocolParams>('protocolParams')
type Info = { unclaimed: bigint; stakeWeight: number; validatorPermit: boolean; emission: bigint }

/** Names keys[11] the dispute game (a stand-in for the contract of the dispute-game issue). */
async function nameGame(): Promise<Wallet> {
  const game = c.keys[11]!
  await c.govern({ kind: 'disputeGame', game: game.account.address })
  return game
}

/** A subnet with a validator (key 0, staked by `stakers`) and miners (keys 1..), weights set. */
async function network(
  p: Partial<Hyperparams> = {},
  stakers: Array<[number, bigint]> = [[10, parseEther('10')]],
  miners = 1,
) {
  const netuid = await c.subnet({ ...OPEN, tempo: 1, ...p })
  for (let i = 0; i <= miners; i++) await c.write(c.keys[i]!, 'register', [netuid, parseEther('1')])
  for (const [k, amount] of stakers) await c.write(c.keys[k]!, 'stake', [netuid, addr(0), amount])
  const uids = Array.from({ length: miners }, (_, j) => j + 1)
  if (!p.commitReveal)
    await c.write(c.keys[0]!, 'setWeights', [netuid, uids, uids.map((j) => 100 * j), 0n])
  return netuid
}

describe('finding: one key controls all stake', () => {
  it('the owner cannot make itself a slasher: slash and setSlasher are gone, only the named dispute game slashes', async () => {
    const names = verityAbi.filter((x) => x.type === 'function').map((x) => x.name)
    expect(names).not.toContain('slash')
    expect(names).not.toContain('setSlasher')
    const netuid = await c.subnet()
    await c.write(c.keys[1]!, 'stake', [netuid, addr(0), parseEther('10')])
    const slash = [netuid, addr(0), parseEther('10'), addr(2), 10_000] as const
    await c.reverts(c.owner, 'slashForDispute', slash, 'NotDisputeGame')
    // naming a game waits out the longest unstake delay: stakers see it coming and can leave
    const q = await queueGovernanceChange(c.owner, {
      address: c.verity,
      change: { kind: 'disputeGame', game: addr(11) },
    })
    const p = await params()
    expect(q.eta - (await c.clock())).toBeGreaterThanOrEqual(BigInt(4 * p.unstakeDelay))
    await c.reverts(c.keys[3]!, 'executeChange', [q.kind, q.data, q.nonce], 'ChangeNotReady')
    await c.mine(q.eta - (await c.clock()))
    await c.write(c.keys[3]!, 'executeChange', [q.kind, q.data, q.nonce])
    await c.reverts(c.owner, 'slashForDispute', slash, 'NotDisputeGame')
    await c.write(c.keys[11]!, 'slashForDispute', slash)
    expect(await c.read('stakeOf', [netuid, addr(0)])).toBe(0n)
  })

  it('the unstake delay is bounded: governance cannot set one that makes every unstake revert', async () => {
    const p = await params()
    for (const unstakeDelay of [2 ** 48 - 1, 4 * p.unstakeDelay + 1, p.unstakeDelay - 1]) {
      await c.reverts(
        c.owner,
        'queueChange',
        [0, encodeParams({ ...p, unstakeDelay })],
        'InvalidProtocolParameter',
      )
    }
    // the longest allowed delay still lets a coldkey unstake, and withdraw once it passes
    await c.govern({ kind: 'params', params: { ...p, unstakeDelay: 4 * p.unstakeDelay } })
    const netuid = await c.subnet()
    await c.write(c.keys[1]!, 'stake', [netuid, addr(0), parseEther('10')])
    await c.write(c.keys[1]!, 'unstake', [netuid, addr(0), parseEther('10')])
    await c.mine(4 * p.unstakeDelay + 2)
    await c.write(c.keys[1]!, 'withdraw', [addr(1)])
  })

  it('emission shares cannot sum past 100%: two subnets at 100% are refused', async () => {
    const a = await c.subnet()
    const b = await c.subnet()
    await c.govern({ kind: 'emissionShare', netuid: a, shareBps: 10_000 })
    await c.reverts(
      c.owner,
      'queueChange',
      [1, encodeAbiParameters([{ type: 'uint16' }, { type: 'uint16' }], [b, 10_000])],
      'EmissionSharesExceeded',
    )
    // a change queued while it fit is checked again when executed
    await c.govern({ kind: 'emissionShare', netuid: a, shareBps: 5_000 })
    const q = await queueGovernanceChange(c.owner, {
      address: c.verity,
      change: { kind: 'emissionShare', netuid: b, shareBps: 5_000 },
    })
    await c.govern({ kind: 'emissionShare', netuid: a, shareBps: 6_000 })
    await c.reverts(c.owner, 'executeChange', [q.kind, q.data, q.nonce], 'EmissionSharesExceeded')
    expect(await c.read('totalEmissionShare')).toBe(6_000)
  })

  it('every protocol parameter is bounded and changes only after the governance delay, by anyone', async () => {
    const p = await params()
    const bad: Array<[keyof ProtocolParams, number | bigint]> = [
      ['governanceDelay', 0],
      ['epochDeadline', 0],
      ['keeperBps', 501],
      ['maxSubnets', 0],
      ['maxSubnets', 4097],
      ['minLock', 0n],
      ['minLock', parseEther('1000001')],
      ['lockReductionInterval', 0],
    ]
    for (const [k, v] of bad) {
      await c.reverts(
        c.owner,
        'queueChange',
        [0, encodeParams({ ...p, [k]: v })],
        'InvalidProtocolParameter',
      )
    }
    await c.reverts(c.keys[1]!, 'queueChange', [0, encodeParams(p)], 'OwnableUnauthorizedAccount')
    await c.reverts(c.owner, 'queueChange', [9, '0x'], 'UnknownChange')
    const q = await queueGovernanceChange(c.owner, {
      address: c.verity,
      change: { kind: 'params', params: { ...p, keeperBps: 200 } },
    })
    // the owner or the guardian may veto a queued change; a vetoed change cannot be executed
    const cancel = [q.kind, q.data, q.nonce] as const
    await c.reverts(c.keys[1]!, 'cancelChange', cancel, 'NotOwnerOrGuardian')
    await c.write(c.owner, 'cancelChange', cancel)
    await c.mine(5)
    await c.reverts(c.keys[1]!, 'executeChange', [q.kind, q.data, q.nonce], 'ChangeNotQueued')
    await c.govern({ kind: 'params', params: { ...p, keeperBps: 200 } }, c.keys[1]!)
    expect((await params()).keeperBps).toBe(200)
  })

  it('a guardian vetoes changes but not its own replacement', async () => {
    const guardian = c.keys[5]!
    await c.govern({ kind: 'guardian', guardian: guardian.account.address })
    const q = await queueGovernanceChange(c.owner, {
      address: c.verity,
      change: { kind: 'params', params: { ...(await params()), keeperBps: 0 } },
    })
    await c.write(guardian, 'cancelChange', [q.kind, q.data, q.nonce])
    const r = await queueGovernanceChange(c.owner, {
      address: c.verity,
      change: { kind: 'guardian', guardian: addr(6) },
    })
    await c.reverts(guardian, 'cancelChange', [r.kind, r.data, r.nonce], 'NotOwnerOrGuardian')
    await c.mine(2)
    await c.write(c.keys[1]!, 'executeChange', [r.kind, r.data, r.nonce])
    expect(await c.read('guardian')).toBe(addr(6))
  })
})

describe('finding: claim() loops over every subnet, and subnets are free to create', () => {
  it('a claim costs the same with 1 subnet as with 20 more; creating a subnet locks a cost that doubles with demand and decays', async () => {
    const netuid = await network()
    for (let e = 0; e < 3; e++) {
      await c.write(c.owner, 'fundEmission', [netuid, parseEther('1')])
      await c.epoch(netuid)
    }
    const gasOf = async () =>
      await c.devnet.publicClient.estimateContractGas({
        address: c.verity,
        abi: verityAbi,
        functionName: 'claimFrom',
        args: [netuid, addr(1), addr(1)],
        account: c.keys[1]!.account,
      })
    const before = await gasOf()
    const interval = (await params()).lockReductionInterval
    await c.mine(2 * interval) // the last lock has decayed to the floor
    const lock0 = await c.read<bigint>('lockCost')
    expect(lock0).toBe((await params()).minLock)
    const balance = await c.balance(c.owner.account.address)
    await c.subnet()
    // the lock just paid is held, and the next one costs twice as much
    expect(await c.balance(c.owner.account.address)).toBe(balance - lock0)
    expect(await c.read<bigint>('lockCost')).toBe(2n * lock0)
    await c.mine(interval)
    // after a whole reduction interval it has decayed back to the last lock
    expect(await c.read<bigint>('lockCost')).toBe(lock0)
    // a short reduction interval keeps the next 19 subnets at the floor
    await c.govern({ kind: 'params', params: { ...(await params()), lockReductionInterval: 1 } })
    for (let i = 0; i < 19; i++) {
      // the miner registers everywhere: the old claim swept every subnet it was on
      const n = await c.subnet()
      await c.write(c.keys[1]!, 'register', [n, parseEther('1')])
      await c.mine(2)
    }
    expect(await gasOf()).toBe(before)
  })

  it('live subnets are capped; a dissolved subnet frees its place and returns its lock', async () => {
    const p = await params()
    await c.govern({ kind: 'params', params: { ...p, maxSubnets: 2 } })
    const a = await c.subnet()
    await c.subnet()
    await c.reverts(c.owner, 'createSubnet', [OPEN, parseEther('1000000')], 'TooManySubnets')
    const [, locked] = await c.read<readonly [number, bigint, boolean]>('subnetEconomics', [a])
    await c.reverts(c.keys[1]!, 'dissolveSubnet', [a], 'NotSubnetOwner')
    const before = await c.read<bigint>('claimable', [c.owner.account.address])
    await c.write(c.owner, 'dissolveSubnet', [a])
    expect(await c.read<bigint>('claimable', [c.owner.account.address])).toBe(before + locked)
    await c.reverts(c.keys[1]!, 'register', [a, parseEther('1')], 'SubnetIsDissolved')
    await c.subnet()
  })
})

describe('finding: pool shares are truncated to 128 bits', () => {
  it('after a full slash the next staker gets shares 1:1 and cannot withdraw later stakers’ deposits', async () => {
    const game = await nameGame()
    const netuid = await c.subnet()
    await c.write(c.keys[1]!, 'stake', [netuid, addr(0), parseEther('100')])
    await c.write(game, 'slashForDispute', [netuid, addr(0), parseEther('100'), addr(9), 0])
    const [stake, , shares, , generation] = await c.read<readonly bigint[]>('pool', [
      netuid,
      addr(0),
    ])
    expect([stake, shares, generation]).toEqual([0n, 0n, 1])
    await c.write(c.keys[2]!, 'stake', [netuid, addr(0), parseEther('5')])
    await c.write(c.keys[3]!, 'stake', [netuid, addr(0), parseEther('7')])
    const [s2, v2] = await c.read<readonly bigint[]>('position', [netuid, addr(0), addr(2)])
    expect([s2, v2]).toEqual([parseEther('5'), parseEther('5')])
    // the wiped coldkey holds nothing; each later staker gets back exactly its own deposit
    const [s1, v1] = await c.read<readonly bigint[]>('position', [netuid, addr(0), addr(1)])
    expect([s1, v1]).toEqual([0n, 0n])
    await c.reverts(c.keys[1]!, 'unstake', [netuid, addr(0), 1n], 'InsufficientStake')
    await c.reverts(
      c.keys[2]!,
      'unstake',
      [netuid, addr(0), parseEther('5') + 1n],
      'InsufficientStake',
    )
    await c.write(c.keys[2]!, 'unstake', [netuid, addr(0), parseEther('5')])
    expect(await c.read('stakeOf', [netuid, addr(0)])).toBe(parseEther('7'))
  })

  it('amounts are narrowed with SafeCast: an amount past the storage width reverts instead of wrapping', async () => {
    const netuid = await c.subnet()
    await c.reverts(
      c.owner,
      'fundEmission',
      [netuid, 2n ** 128n + 1n],
      'SafeCastOverflowedUintDowncast',
    )
    await c.reverts(
      c.owner,
      'stake',
      [netuid, addr(0), 2n ** 96n + 1n],
      'SafeCastOverflowedUintDowncast',
    )
  })
})

describe('finding: subnet owners have instant, unbounded powers', () => {
  it('owner cut, immunity, burn, stake threshold, rate limit and max weight limit are bounded', async () => {
    const bad: Partial<Hyperparams>[] = [
      { ownerCut: 11797 },
      { ownerCut: 65535 },
      { immunityPeriod: 16 * OPEN.tempo + 1 },
      { maxBurn: parseEther('101') },
      { stakeThreshold: parseEther('1001') },
      { weightsRateLimit: OPEN.tempo + 1 },
      { maxWeightLimit: 6553 },
      { revealPeriodEpochs: 11 },
    ]
    for (const p of bad) {
      await c.reverts(
        c.owner,
        'createSubnet',
        [{ ...OPEN, ...p }, 10n ** 24n],
        'InvalidHyperparameter',
      )
    }
    const netuid = await c.subnet()
    for (const p of bad) {
      await c.reverts(
        c.owner,
        'setHyperparams',
        [netuid, { ...OPEN, ...p }],
        'InvalidHyperparameter',
      )
    }
  })

  it('commit-reveal and tempo changes wait a full epoch; epochs cannot run back to back, not even by the owner', async () => {
    const netuid = await network({ commitReveal: true, tempo: 5 })
    await c.epoch(netuid)
    await c.reverts(c.owner, 'epochBegin', [netuid], 'EpochNotDue')
    await c.write(c.owner, 'setHyperparams', [netuid, { ...OPEN, tempo: 5, commitReveal: false }])
    // still on for the rest of this epoch and the whole next one
    await c.reverts(c.keys[0]!, 'setWeights', [netuid, [1], [1], 0n], 'CommitRevealEnabled')
    await c.epoch(netuid)
    await c.reverts(c.keys[0]!, 'setWeights', [netuid, [1], [1], 0n], 'CommitRevealEnabled')
    await c.epoch(netuid)
    await c.reverts(c.owner, 'epochBegin', [netuid], 'EpochNotDue')
    await c.write(c.keys[0]!, 'setWeights', [netuid, [1], [1], 0n])
  })
})

describe('finding: delegators earn nothing', () => {
  it("the hotkey's take (bounded) goes to the hotkey, the rest to its stakers pro rata, each claiming on its own", async () => {
    await c.reverts(c.keys[0]!, 'setTake', [11797], 'TakeTooHigh')
    await c.write(c.keys[0]!, 'setTake', [6553]) // 10%: a decrease applies at once
    expect(await c.read('takeOf', [addr(0)])).toBe(6553)
    const netuid = await network({}, [
      [2, parseEther('30')],
      [3, parseEther('10')],
    ])
    for (let e = 0; e < 3; e++) {
      await c.write(c.owner, 'fundEmission', [netuid, parseEther('4')])
      await c.epoch(netuid)
    }
    const earned = (await c.read<Info>('neuron', [netuid, 0])).unclaimed
    expect(earned).toBeGreaterThan(0n)
    const [, , r2] = await c.read<readonly bigint[]>('position', [netuid, addr(0), addr(2)])
    const [, , r3] = await c.read<readonly bigint[]>('position', [netuid, addr(0), addr(3)])
    const take = (earned * 6553n) / 65535n
    const rest = earned - take
    expect(r2 + r3).toBeLessThanOrEqual(rest)
    expect(r2 + r3).toBeGreaterThanOrEqual(rest - 2n)
    expect(r2 - 3n * r3).toBeLessThanOrEqual(3n)
    expect(3n * r3 - r2).toBeLessThanOrEqual(3n)
    await c.write(c.keys[5]!, 'sweep', [netuid, addr(0)])
    expect(await c.read('claimable', [addr(0)])).toBe(take)
    for (const [k, r] of [
      [2, r2],
      [3, r3],
    ] as const) {
      const before = await c.balance(addr(k))
      await c.write(c.keys[k]!, 'claimFrom', [netuid, addr(0), addr(k)])
      // the accumulator floors twice where the view floors once: at most a unit less
      const got = (await c.balance(addr(k))) - before
      expect(r - got).toBeGreaterThanOrEqual(0n)
      expect(r - got).toBeLessThanOrEqual(1n)
    }
    // raising the take waits for the unstake delay: stakers can sweep and leave first
    await c.write(c.keys[0]!, 'setTake', [11796])
    expect(await c.read('takeOf', [addr(0)])).toBe(6553)
    await c.mine((await params()).unstakeDelay)
    expect(await c.read('takeOf', [addr(0)])).toBe(11796)
  })
})

describe('finding: epoch liveness depends on volunteers', () => {
  it('whoever runs a stage is paid from the epoch’s emission, all of the keeper reward and no more', async () => {
    const netuid = await network()
    await c.epoch(netuid)
    await c.epoch(netuid)
    await c.write(c.owner, 'fundEmission', [netuid, parseEther('8')])
    await c.mine(1)
    const pending = (await c.read<readonly bigint[]>('subnetInfo', [netuid]))[5]!
    const [k1, k2, k3, k4] = [c.keys[5]!, c.keys[6]!, c.keys[7]!, c.keys[8]!]
    await c.write(k1, 'epochBegin', [netuid])
    const [, reward] = await c.read<readonly bigint[]>('epochInfo', [netuid])
    expect(reward).toBe((pending * 100n) / 10_000n)
    const hints = await c.read<readonly bigint[]>('consensusHints', [netuid, 0, 2])
    await c.write(k2, 'epochConsensus', [netuid, [hints[0]!]])
    await c.write(k2, 'epochConsensus', [netuid, [hints[1]!]])
    await c.write(k3, 'epochBonds', [netuid, 16])
    await c.write(k4, 'epochFinish', [netuid, 16])
    const paid = await Promise.all(
      [k1, k2, k3, k4].map((k) => c.read<bigint>('claimable', [k.account.address])),
    )
    const q = reward / 4n
    expect(paid).toEqual([reward - 3n * q, q, q, q])
  })

  it('an epoch stalled past its deadline is aborted by anyone, and the subnet goes on', async () => {
    const netuid = await network()
    await c.epoch(netuid)
    await c.write(c.owner, 'fundEmission', [netuid, parseEther('8')])
    await c.mine(1)
    const pending = (await c.read<readonly bigint[]>('subnetInfo', [netuid]))[5]!
    // a griefer pays for epochBegin only: registration, weights and reveals wait
    await c.write(c.keys[9]!, 'epochBegin', [netuid])
    await c.reverts(c.keys[4]!, 'register', [netuid, parseEther('1')], 'EpochInProgress')
    await c.reverts(c.keys[4]!, 'epochAbort', [netuid], 'EpochNotStalled')
    await c.mine((await params()).epochDeadline)
    await c.write(c.keys[4]!, 'epochAbort', [netuid])
    // the unpaid keeper reward is back in the pending emission; the griefer kept begin's share
    const [, , unpaid] = await c.read<readonly bigint[]>('epochInfo', [netuid])
    expect(unpaid).toBe(0n)
    const after = (await c.read<readonly bigint[]>('subnetInfo', [netuid]))[5]!
    expect(after + (await c.read<bigint>('claimable', [addr(9)]))).toBe(pending)
    await c.write(c.keys[4]!, 'register', [netuid, parseEther('1')])
    await c.epoch(netuid, c.keys[4]!)
    await c.reverts(c.keys[4]!, 'epochAbort', [netuid], 'EpochNotInProgress')
  })

  it('an epoch past consensus is not aborted (its bonds would be half written) but anyone can finish it', async () => {
    const netuid = await network()
    await c.epoch(netuid)
    await c.epoch(netuid)
    await c.write(c.keys[9]!, 'epochBegin', [netuid])
    const hints = await c.read<readonly bigint[]>('consensusHints', [netuid, 0, 2])
    await c.write(c.keys[9]!, 'epochConsensus', [netuid, hints])
    await c.mine((await params()).epochDeadline)
    await c.reverts(c.keys[4]!, 'epochAbort', [netuid], 'EpochNotAbortable')
    await c.write(c.keys[4]!, 'epochBonds', [netuid, 16])
    await c.write(c.keys[4]!, 'epochFinish', [netuid, 16])
    expect((await c.read<readonly number[]>('epochStage', [netuid]))[0]).toBe(0)
  })
})

describe('finding: smaller', () => {
  it('a replaced uid does not inherit its predecessor’s bond column when the epoch is late', async () => {
    const netuid = await network({ tempo: 5, maxUids: 3 }, [[10, parseEther('10')]], 2)
    for (let e = 0; e < 4; e++) {
      await c.write(c.owner, 'fundEmission', [netuid, parseEther('1')])
      await c.epoch(netuid)
    }
    // the validator weighs uid 1 least: its emission is the lowest, it is pruned first
    const column = (await c.read<readonly number[]>('bondsOf', [netuid, 0]))[1]!
    expect(column).toBeGreaterThan(0)
    await c.mine(20) // later than a tempo: the epoch's recently-registered mask would miss it
    await c.write(c.keys[4]!, 'register', [netuid, parseEther('1')])
    expect(await c.read('uidOf', [netuid, addr(4)])).toBe(1)
    expect((await c.read<readonly number[]>('bondsOf', [netuid, 0]))[1]).toBe(0)
  })

  it('a validator holds one binding commit per epoch: no second commit to reveal the closest one', async () => {
    const netuid = await network({ commitReveal: true })
    await c.write(c.keys[0]!, 'commitWeights', [netuid, toHex(1, { size: 32 })])
    await c.reverts(
      c.keys[0]!,
      'commitWeights',
      [netuid, toHex(2, { size: 32 })],
      'AlreadyCommitted',
    )
    await c.epoch(netuid)
    await c.write(c.keys[0]!, 'commitWeights', [netuid, toHex(2, { size: 32 })])
  })

  it('stake that arrived in the current epoch does not count at epochBegin: no flash stake', async () => {
    const netuid = await network({}, [[10, parseEther('10')]], 1)
    await c.epoch(netuid)
    await c.epoch(netuid)
    // uid 1 gets a huge stake right before the epoch begins
    await c.write(c.keys[10]!, 'stake', [netuid, addr(1), parseEther('900')])
    const [, counted] = await c.read<readonly bigint[]>('pool', [netuid, addr(1)])
    expect(counted).toBe(0n)
    await c.epoch(netuid)
    expect((await c.read<Info>('neuron', [netuid, 1])).stakeWeight).toBe(0)
    expect((await c.read<Info>('neuron', [netuid, 0])).stakeWeight).toBe(65535)
    // staying a whole epoch, it counts
    await c.epoch(netuid)
    expect((await c.read<Info>('neuron', [netuid, 1])).stakeWeight).toBeGreaterThan(60000)
  })

  it('unstaking does not restart the lock on what is already withdrawing', async () => {
    const netuid = await c.subnet()
    const cold = c.keys[1]!
    await c.write(cold, 'stake', [netuid, addr(0), parseEther('20')])
    await c.write(cold, 'unstake', [netuid, addr(0), parseEther('10')])
    const [, , first] = await c.read<readonly bigint[]>('pendingWithdrawal', [addr(1)])
    await c.mine(first - (await c.clock()) - 2n)
    await c.write(cold, 'unstake', [netuid, addr(0), parseEther('5')])
    await c.mine(2)
    const before = await c.balance(addr(1))
    await c.write(cold, 'withdraw', [addr(1)])
    expect(await c.balance(addr(1))).toBe(before + parseEther('10'))
    const [locked, unlocked] = await c.read<readonly bigint[]>('pendingWithdrawal', [addr(1)])
    expect([locked, unlocked]).toEqual([parseEther('5'), 0n])
  })

  it('the guardian pauses new entries, never unstaking, withdrawals, claims or epochs', async () => {
    const netuid = await network()
    await c.write(c.keys[1]!, 'stake', [netuid, addr(0), parseEther('5')])
    await c.write(c.owner, 'fundEmission', [netuid, parseEther('5')])
    await c.reverts(c.keys[1]!, 'pause', [], 'NotOwnerOrGuardian')
    await c.write(c.owner, 'pause', []) // the devnet's guardian is the owner
    await c.reverts(c.keys[1]!, 'stake', [netuid, addr(0), 1n], 'EnforcedPause')
    await c.reverts(c.keys[5]!, 'register', [netuid, parseEther('1')], 'EnforcedPause')
    await c.reverts(c.owner, 'createSubnet', [OPEN, parseEther('1000000')], 'EnforcedPause')
    await c.reverts(c.owner, 'fundEmission', [netuid, 1n], 'EnforcedPause')
    await c.write(c.keys[1]!, 'unstake', [netuid, addr(0), parseEther('5')])
    await c.epoch(netuid)
    await c.epoch(netuid)
    await c.mine((await params()).unstakeDelay + 2)
    await c.write(c.keys[1]!, 'withdraw', [addr(1)])
    expect((await c.read<Info>('neuron', [netuid, 0])).unclaimed).toBeGreaterThan(0n)
    await c.write(c.keys[0]!, 'claimFrom', [netuid, addr(0), addr(0)])
    await c.reverts(c.keys[1]!, 'unpause', [], 'NotOwnerOrGuardian')
    await c.write(c.owner, 'unpause', [])
    await c.write(c.keys[1]!, 'stake', [netuid, addr(0), 1n])
  })

  it('renounceOwnership is unreachable and ownership moves in two steps', async () => {
    await c.reverts(c.owner, 'renounceOwnership', [], 'RenounceDisabled')
    await c.write(c.owner, 'transferOwnership', [addr(1)])
    expect(await c.read('owner')).toBe(c.owner.account.address)
    await c.reverts(c.keys[2]!, 'acceptOwnership', [], 'OwnableUnauthorizedAccount')
    await c.write(c.keys[1]!, 'acceptOwnership', [])
    expect(await c.read('owner')).toBe(addr(1))
    await c.reverts(
      c.owner,
      'queueChange',
      [3, encodeAbiParameters([{ type: 'address' }], [addr(2)])],
      'OwnableUnauthorizedAccount',
    )
  })

  it('the clock is configurable: ArbSys blocks on Arbitrum (block.number is L1 there), or timestamps', async () => {
    // ArbSys stand-in at 0x64: returns its storage slot 0
    const arbSys = getAddress('0x0000000000000000000000000000000000000064')
    await c.rpc('anvil_setCode', [arbSys, '0x60005460005260206000f3'])
    await c.rpc('anvil_setStorageAt', [
      arbSys,
      toHex(0, { size: 32 }),
      toHex(777_000, { size: 32 }),
    ])
    const deploy = async (clockMode: number) => {
      const token = await deployToken(c.devnet.publicClient, c.owner, parseEther('1000'))
      const config: VerityConfig = {
        clockMode,
        minUnstakeDelay: 10,
        minGovernanceDelay: 1,
        params: DEVNET_PROTOCOL_PARAMS,
        guardian: c.owner.account.address,
      }
      const verity = await deployVerity(c.devnet.publicClient, c.owner, {
        token,
        libraries: c.devnet.addresses.libraries,
        config,
      })
      await setTokenMinter(c.devnet.publicClient, c.owner, token, verity)
      return verity
    }
    const arb = await deploy(2)
    expect(await c.read('clock', [], arb)).toBe(777_000)
    await c.rpc('anvil_setStorageAt', [
      arbSys,
      toHex(0, { size: 32 }),
      toHex(777_005, { size: 32 }),
    ])
    expect(await c.read('clock', [], arb)).toBe(777_005)
    expect(await c.read('CLOCK_MODE', [], arb)).toBe('mode=blocknumber&from=arbitrum')
    const ts = await deploy(1)
    const block = await c.devnet.publicClient.getBlock()
    expect(BigInt(await c.read<number>('clock', [], ts))).toBe(block.timestamp)
    expect(await c.read('CLOCK_MODE', [], ts)).toBe('mode=timestamp')
    expect(await c.read('CLOCK_MODE')).toBe('mode=blocknumber&from=default')
  })

  it('accrual does not depend on call order across a halving', async () => {
    // a protocol whose issuance sits 6 VTY below the first halving (10.5M of 21M)
    const token = await deployToken(c.devnet.publicClient, c.owner, parseEther('10499994'))
    const verity = await deployVerity(c.devnet.publicClient, c.owner, {
      token,
      libraries: c.devnet.addresses.libraries,
      config: {
        clockMode: 0,
        minUnstakeDelay: 10,
        minGovernanceDelay: 1,
        params: DEVNET_PROTOCOL_PARAMS,
        guardian: c.owner.account.address,
      },
    })
    await setTokenMinter(c.devnet.publicClient, c.owner, token, verity)
    const w = (fn: string, args: readonly unknown[], address: Address = verity) =>
      c.write(c.owner, fn, args, address)
    await c.owner.writeContract({
      address: token,
      abi: verityTokenAbi,
      functionName: 'approve',
      args: [verity, 2n ** 255n],
    })
    for (let i = 0; i < 2; i++) await w('createSubnet', [{ ...OPEN, tempo: 1 }, parseEther('100')])
    for (const netuid of [1, 2]) {
      const data = encodeAbiParameters([{ type: 'uint16' }, { type: 'uint16' }], [netuid, 5_000])
      await w('queueChange', [1, data])
      await w('executeChange', [1, data, BigInt(netuid - 1)])
    }
    await c.mine(20)
    const pendingAfter = async (order: number[]) => {
      const snap = await c.rpc('evm_snapshot')
      for (const netuid of order) await w('epochBegin', [netuid])
      await c.mine(1)
      const out = []
      for (const netuid of [1, 2]) {
        out.push(
          (
            await c.devnet.publicClient.readContract({
              address: verity,
              abi: verityAbi,
              functionName: 'subnetInfo',
              args: [netuid],
            })
          )[5],
        )
      }
      await c.rpc('evm_revert', [snap])
      return out
    }
    const ab = await pendingAfter([1, 2])
    const ba = await pendingAfter([2, 1])
    // each subnet's emission depends only on the blocks it covers, not on who accrued first
    expect(ab[0]! > 0n && ab[1]! > 0n).toBe(true)
    expect(ab[0]).toBe(ba[0]! - parseEther('0.25'))
    expect(ab[1]).toBe(ba[1]! + parseEther('0.25'))
  })
})

function encodeParams(p: ProtocolParams) {
  const fn = verityAbi.find((x) => x.type === 'function' && x.name === 'protocolParams')
  if (fn?.type !== 'function') throw new Error('abi')
  return encodeAbiParameters([fn.outputs[0]], [p])
}

describe('the dispute slash hook', () => {
  it('takes active stake and withdrawals still within the unstake delay pro rata, pays the recipient its part, burns the rest', async () => {
    const game = await nameGame()
    const netuid = await c.subnet()
    const h = addr(0)
    await c.write(c.keys[0]!, 'register', [netuid, parseEther('1')])
    // what the game reads: the hotkey's uid, the subnet's model, and the slashable window
    expect(await c.read('uidOf', [netuid, h])).toBe(0)
    expect((await c.read<readonly unknown[]>('subnetInfo', [netuid]))[2]).toMatch(/^0x/)
    expect(await c.read('minUnstakeDelay')).toBe(10)
    // B's withdrawal unlocked before the slash: out of reach
    await c.write(c.keys[2]!, 'stake', [netuid, h, parseEther('50')])
    await c.write(c.keys[2]!, 'unstake', [netuid, h, parseEther('50')])
    await c.mine((await params()).unstakeDelay + 2)
    // A's withdrawal is still locked: in reach
    await c.write(c.keys[1]!, 'stake', [netuid, h, parseEther('100')])
    await c.write(c.keys[1]!, 'unstake', [netuid, h, parseEther('40')])
    const slash = [netuid, h, parseEther('70'), addr(9), 2500] as const
    await c.reverts(c.keys[1]!, 'slashForDispute', slash, 'NotDisputeGame')
    await c.reverts(
      game,
      'slashForDispute',
      [netuid, h, 1n, addr(9), 10_001],
      'InvalidRecipientShare',
    )
    const [staked0, withdrawing0] = await c.read<readonly bigint[]>('totals')
    const burned0 = await c.read<bigint>('totalBurned', [], c.devnet.addresses.token)
    const r0 = await c.balance(addr(9))
    await c.write(game, 'slashForDispute', slash)
    const [staked1, withdrawing1] = await c.read<readonly bigint[]>('totals')
    expect(staked0! - staked1!).toBe(parseEther('42'))
    expect(withdrawing0! - withdrawing1!).toBe(parseEther('28'))
    expect((await c.balance(addr(9))) - r0).toBe(parseEther('17.5'))
    expect((await c.read<bigint>('totalBurned', [], c.devnet.addresses.token)) - burned0).toBe(
      parseEther('52.5'),
    )
    const [, value] = await c.read<readonly bigint[]>('position', [netuid, h, addr(1)])
    expect(value).toBe(parseEther('18'))
    await c.mine((await params()).unstakeDelay + 2)
    for (const [k, amount] of [
      [1, parseEther('12')],
      [2, parseEther('50')],
    ] as const) {
      const before = await c.balance(addr(k))
      await c.write(c.keys[k]!, 'withdraw', [addr(k)])
      expect((await c.balance(addr(k))) - before).toBe(amount)
    }
  })

  it('slashes no more than the pool holds, and nothing once the withdrawals have unlocked', async () => {
    const game = await nameGame()
    const netuid = await c.subnet()
    await c.write(c.keys[1]!, 'stake', [netuid, addr(0), parseEther('10')])
    await c.write(c.keys[1]!, 'unstake', [netuid, addr(0), parseEther('10')])
    await c.mine((await params()).unstakeDelay + 2)
    const [staked0, withdrawing0] = await c.read<readonly bigint[]>('totals')
    await c.write(game, 'slashForDispute', [netuid, addr(0), parseEther('5'), addr(9), 0])
    expect(await c.read('totals')).toEqual(expect.arrayContaining([staked0, withdrawing0]))
    await c.write(c.keys[1]!, 'withdraw', [addr(1)])
  })
})
