import { type Hex, keccak256, parseEther, toHex } from 'viem'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { computeCommitHash } from './actions/computeCommitHash.ts'
import { runEpoch } from './actions/runEpoch.ts'
import { OPEN, startTestChain, type TestChain } from './test-chain.ts'
import type { Hyperparams } from './types.ts'

let c: TestChain

beforeAll(async () => {
  c = await startTestChain({ tag: 'contracts-test' })
})

afterAll(async () => {
  await c?.stop()
})

beforeEach(async () => {
  await c.reset()
})

const addr = (i: number) => c.keys[i]!.account.address

describe('VerityToken', () => {
  it('only the protocol mints; the minter is fixed once; burns are counted', async () => {
    const { owner, devnet } = c
    await c.reverts(owner, 'mint', [owner.account.address, 1n], 'NotMinter', devnet.addresses.token)
    await c.reverts(
      owner,
      'setMinter',
      [owner.account.address],
      'MinterAlreadySet',
      devnet.addresses.token,
    )
    const get = (fn: string) => c.read<bigint>(fn, [], devnet.addresses.token)
    expect(await get('totalMinted')).toBe(parseEther('1000000'))
    expect(await get('blockEmission')).toBe(parseEther('1'))
    await c.token(owner, 'burn', [5n])
    expect(await get('totalBurned')).toBe(5n)
  })
})

describe('subnets and models', () => {
  it('creates subnets for a lock, validates hyperparameters, applies owner changes an epoch later', async () => {
    const netuid = await c.subnet()
    expect(netuid).toBe(1)
    const hp = await c.read<Hyperparams>('hyperparams', [netuid])
    expect(hp.tempo).toBe(5)
    const { owner } = c
    await c.reverts(
      owner,
      'createSubnet',
      [{ ...OPEN, tempo: 0 }, 10n ** 24n],
      'InvalidHyperparameter',
    )
    await c.reverts(
      owner,
      'createSubnet',
      [{ ...OPEN, maxUids: 513 }, 10n ** 24n],
      'InvalidHyperparameter',
    )
    await c.reverts(
      owner,
      'createSubnet',
      [{ ...OPEN, alphaLow: 100 }, 10n ** 24n],
      'InvalidHyperparameter',
    )
    await c.reverts(c.keys[0]!, 'setHyperparams', [netuid, OPEN], 'NotSubnetOwner')
    await c.reverts(owner, 'setHyperparams', [9, OPEN], 'SubnetNotFound')
    await c.write(owner, 'setHyperparams', [netuid, { ...OPEN, tempo: 7 }])
    // proposed at epoch 0: the begin of epoch 1 applies it
    const [has, , at] = await c.read<readonly [boolean, Hex, bigint]>('pendingChanges', [netuid])
    expect([has, at]).toEqual([true, 1n])
    await c.epoch(netuid)
    expect((await c.read<Hyperparams>('hyperparams', [netuid])).tempo).toBe(5)
    await c.epoch(netuid)
    expect((await c.read<Hyperparams>('hyperparams', [netuid])).tempo).toBe(7)
    await c.reverts(owner, 'fundEmission', [netuid, 0n], 'ZeroAmount')
    await c.reverts(c.keys[0]!, 'queueChange', [1, '0x'], 'OwnableUnauthorizedAccount')
  })

  it('registers models; a subnet names its model at once, a change waits an epoch', async () => {
    const netuid = await c.subnet()
    const root = keccak256(toHex('model'))
    const { owner } = c
    await c.reverts(owner, 'setSubnetModel', [netuid, root], 'ModelNotFound')
    await c.write(c.keys[0]!, 'registerModel', [root, 'tiny', keccak256(toHex('gguf'))])
    await c.reverts(owner, 'registerModel', [root, 'again', keccak256(toHex('x'))], 'ModelExists')
    const model = await c.read<readonly [string, Hex, Hex]>('model', [root])
    expect(model[0]).toBe('tiny')
    await c.reverts(c.keys[1]!, 'setSubnetModel', [netuid, root], 'NotSubnetOwner')
    await c.write(owner, 'setSubnetModel', [netuid, root])
    expect((await c.read<readonly unknown[]>('subnetInfo', [netuid]))[2]).toBe(root)
    const next = keccak256(toHex('model 2'))
    await c.write(c.keys[0]!, 'registerModel', [next, 'tiny 2', keccak256(toHex('gguf 2'))])
    await c.write(owner, 'setSubnetModel', [netuid, next])
    expect((await c.read<readonly unknown[]>('subnetInfo', [netuid]))[2]).toBe(root)
    await c.epoch(netuid)
    await c.epoch(netuid)
    expect((await c.read<readonly unknown[]>('subnetInfo', [netuid]))[2]).toBe(next)
  })
})

describe('registration', () => {
  it('burns the price, assigns uids, rejects duplicates and a low maxBurn', async () => {
    const netuid = await c.subnet()
    const before = await c.balance(addr(0))
    await c.write(c.keys[0]!, 'register', [netuid, parseEther('1')])
    expect(await c.balance(addr(0))).toBe(before - parseEther('1'))
    expect(await c.read('uidOf', [netuid, addr(0)])).toBe(0)
    await c.reverts(c.keys[0]!, 'register', [netuid, parseEther('1')], 'AlreadyRegistered')
    await c.reverts(c.keys[1]!, 'register', [netuid, 1n], 'BurnTooHigh')
    await c.reverts(c.keys[1]!, 'register', [99, parseEther('1')], 'SubnetNotFound')
    await c.reverts(c.owner, 'uidOf', [netuid, addr(5)], 'NotRegistered')
  })

  it('caps registrations per interval and adjusts the burn', async () => {
    const netuid = await c.subnet({
      ...OPEN,
      targetRegistrationsPerInterval: 1,
      adjustmentInterval: 100,
      adjustmentAlpha: 0n,
    })
    for (let i = 0; i < 3; i++) await c.write(c.keys[i]!, 'register', [netuid, parseEther('100')])
    await c.reverts(c.keys[3]!, 'register', [netuid, parseEther('100')], 'RegistrationLimit')
    await c.mine(100)
    // 3 registrations against a target of 1: the price doubles (alpha 0: (3+1)/2)
    expect(await c.read('burnPrice', [netuid])).toBe(parseEther('2'))
  })

  it('replaces the lowest-emission non-immune uid when full; immune uids are kept', async () => {
    const netuid = await c.subnet({ ...OPEN, tempo: 100, maxUids: 2, immunityPeriod: 1000 })
    await c.write(c.keys[0]!, 'register', [netuid, parseEther('1')])
    await c.write(c.keys[1]!, 'register', [netuid, parseEther('1')])
    await c.reverts(c.keys[2]!, 'register', [netuid, parseEther('1')], 'NoNeuronAvailable')
    await c.mine(1000)
    await c.write(c.keys[2]!, 'register', [netuid, parseEther('1')])
    // both had emission 0: the earlier registration (uid 0) goes
    expect(await c.read('uidOf', [netuid, addr(2)])).toBe(0)
    await c.reverts(c.owner, 'uidOf', [netuid, addr(0)], 'NotRegistered')
  })

  it('a replaced uid loses its validator permit: the next epoch has no row for it', async () => {
    const netuid = await c.subnet({ ...OPEN, tempo: 1, maxUids: 2 })
    await c.write(c.keys[0]!, 'register', [netuid, parseEther('1')])
    await c.write(c.keys[1]!, 'register', [netuid, parseEther('1')])
    await c.write(c.keys[2]!, 'stake', [netuid, addr(0), parseEther('5')])
    await c.write(c.keys[2]!, 'stake', [netuid, addr(1), parseEther('3')])
    // stake counts from the epoch after the one it arrived in
    await c.epoch(netuid)
    await c.epoch(netuid)
    type Neuron = { validatorPermit: boolean }
    expect((await c.read<Neuron>('neuron', [netuid, 0])).validatorPermit).toBe(true)
    expect((await c.read<Neuron>('neuron', [netuid, 1])).validatorPermit).toBe(true)
    await c.write(c.keys[3]!, 'register', [netuid, parseEther('1')])
    const uid = await c.read<number>('uidOf', [netuid, addr(3)])
    expect((await c.read<Neuron>('neuron', [netuid, uid])).validatorPermit).toBe(false)
    await c.write(c.owner, 'epochBegin', [netuid])
    const [stage, , n, rows] = await c.read<readonly [number, number, number, number]>(
      'epochStage',
      [netuid],
    )
    expect([stage, n, rows]).toEqual([1, 2, 1])
  })

  it('publishes a node for a registered hotkey', async () => {
    const netuid = await c.subnet()
    await c.reverts(
      c.keys[0]!,
      'serveNode',
      [netuid, '0x1220', ['/ip4/127.0.0.1/tcp/1']],
      'NotRegistered',
    )
    await c.write(c.keys[0]!, 'register', [netuid, parseEther('1')])
    await c.write(c.keys[0]!, 'serveNode', [netuid, '0x1220aa', ['/ip4/127.0.0.1/tcp/4001']])
    const info = await c.read<readonly [Hex, readonly string[], bigint]>('node', [netuid, addr(0)])
    expect(info[0]).toBe('0x1220aa')
    expect(info[1]).toEqual(['/ip4/127.0.0.1/tcp/4001'])
  })
})

describe('staking', () => {
  it('stakes on a subnet, unstakes into a withdrawal that unlocks after the delay, withdraws', async () => {
    const netuid = await c.subnet()
    const hot = addr(0)
    const cold = c.keys[1]!
    await c.reverts(cold, 'stake', [netuid, hot, 0n], 'ZeroAmount')
    await c.write(cold, 'stake', [netuid, hot, parseEther('10')])
    expect(await c.read('stakeOf', [netuid, hot])).toBe(parseEther('10'))
    await c.reverts(cold, 'unstake', [netuid, hot, parseEther('11')], 'InsufficientStake')
    await c.write(cold, 'unstake', [netuid, hot, parseEther('4')])
    const [locked, unlocked, next] = await c.read<readonly bigint[]>('pendingWithdrawal', [
      cold.account.address,
    ])
    expect([locked, unlocked]).toEqual([parseEther('4'), 0n])
    expect(next).toBeGreaterThanOrEqual((await c.clock()) + 9n)
    await c.reverts(cold, 'withdraw', [cold.account.address], 'StillLocked')
    await c.reverts(c.keys[2]!, 'withdraw', [cold.account.address], 'NothingToWithdraw')
    await c.mine(12)
    const before = await c.balance(cold.account.address)
    await c.write(cold, 'withdraw', [cold.account.address])
    expect(await c.balance(cold.account.address)).toBe(before + parseEther('4'))
    expect(await c.read('stakeOf', [netuid, hot])).toBe(parseEther('6'))
    const [, value] = await c.read<readonly bigint[]>('position', [
      netuid,
      hot,
      cold.account.address,
    ])
    expect(value).toBe(parseEther('6'))
  })
})

describe('weights', () => {
  async function net(params: Partial<Hyperparams> = {}) {
    const netuid = await c.subnet({ ...OPEN, ...params })
    for (let i = 0; i < 4; i++) await c.write(c.keys[i]!, 'register', [netuid, parseEther('100')])
    return netuid
  }

  it("stores max-upscaled rows with explicit zeros and runs subtensor's checks", async () => {
    const netuid = await net({ minAllowedWeights: 2, maxWeightLimit: 40000, weightsVersionKey: 3n })
    const k = c.keys[0]!
    await c.reverts(k, 'setWeights', [netuid, [1, 2], [1], 3n], 'LengthMismatch')
    await c.reverts(
      k,
      'setWeights',
      [netuid, [0, 1, 2, 3, 0], [1, 1, 1, 1, 1], 3n],
      'TooManyWeights',
    )
    await c.reverts(c.keys[6]!, 'setWeights', [netuid, [1, 2], [1, 1], 3n], 'NotRegistered')
    await c.reverts(k, 'setWeights', [netuid, [1, 2], [1, 1], 2n], 'IncorrectVersionKey')
    await c.reverts(k, 'setWeights', [netuid, [1, 1], [1, 1], 3n], 'DuplicateUid')
    await c.reverts(k, 'setWeights', [netuid, [1, 9], [1, 1], 3n], 'UidOutOfRange')
    await c.reverts(k, 'setWeights', [netuid, [1], [1], 3n], 'TooFewWeights')
    await c.reverts(k, 'setWeights', [netuid, [1, 2], [60000, 1], 3n], 'MaxWeightExceeded')
    await c.write(k, 'setWeights', [netuid, [1, 2, 3], [100, 0, 90], 3n])
    const [uids, values] = await c.read<readonly [readonly number[], readonly number[]]>(
      'weightsOf',
      [netuid, 0],
    )
    expect(uids).toEqual([1, 2, 3])
    expect(values).toEqual([65535, 0, 58982])
    // a self-weight alone passes the minimum
    await c.write(c.keys[1]!, 'setWeights', [netuid, [1], [5], 3n])
  })

  it('enforces the rate limit, the stake threshold and validator permits', async () => {
    const netuid = await net({
      tempo: 60,
      weightsRateLimit: 50,
      stakeThreshold: 10n,
      weightsNeedPermit: true,
    })
    await c.reverts(c.keys[0]!, 'setWeights', [netuid, [1], [1], 0n], 'StakeBelowThreshold')
    await c.write(c.owner, 'stake', [netuid, addr(0), 100n])
    await c.reverts(c.keys[0]!, 'setWeights', [netuid, [1], [1], 0n], 'SettingWeightsTooFast')
    await c.mine(50)
    await c.reverts(c.keys[0]!, 'setWeights', [netuid, [1], [1], 0n], 'NoValidatorPermit')
    await c.write(c.keys[0]!, 'setWeights', [netuid, [0], [1], 0n])
  })

  it('commit-reveal: one binding commit per epoch, revealed in its reveal epoch only', async () => {
    const netuid = await net({ commitReveal: true, tempo: 1 })
    const k = c.keys[0]!
    await c.reverts(k, 'setWeights', [netuid, [1], [1], 0n], 'CommitRevealEnabled')
    const salt = keccak256(toHex('salt'))
    const args = { hotkey: addr(0), netuid, uids: [1, 2], values: [10, 20], salt, versionKey: 0n }
    await c.write(k, 'commitWeights', [netuid, computeCommitHash(args)])
    await c.reverts(
      k,
      'commitWeights',
      [netuid, computeCommitHash({ ...args, values: [20, 10] })],
      'AlreadyCommitted',
    )
    await c.reverts(k, 'revealWeights', [netuid, [1, 2], [10, 20], salt, 0n], 'RevealTooEarly')
    await c.epoch(netuid)
    await c.reverts(k, 'revealWeights', [netuid, [1, 2], [10, 21], salt, 0n], 'CommitNotFound')
    await c.write(k, 'revealWeights', [netuid, [1, 2], [10, 20], salt, 0n])
    const [, values] = await c.read<readonly [readonly number[], readonly number[]]>('weightsOf', [
      netuid,
      0,
    ])
    expect(values).toEqual([32768, 65535])
    await c.write(k, 'commitWeights', [netuid, computeCommitHash({ ...args, values: [1, 1] })])
    await c.epoch(netuid)
    await c.epoch(netuid)
    await c.reverts(k, 'revealWeights', [netuid, [1, 2], [1, 1], salt, 0n], 'RevealExpired')
    const plain = await net()
    await c.reverts(k, 'commitWeights', [plain, keccak256(toHex('x'))], 'CommitRevealDisabled')
  })
})

describe('epoch and emissions', () => {
  it('runs an epoch over several transactions, pays its keepers, credits emission, and claims', async () => {
    const { owner } = c
    const netuid = await c.subnet({ ...OPEN, tempo: 100, yuma3: true, liquidAlpha: true })
    for (let i = 0; i < 4; i++) await c.write(c.keys[i]!, 'register', [netuid, parseEther('100')])
    for (let i = 0; i < 2; i++)
      await c.write(owner, 'stake', [netuid, addr(i), parseEther(String(10 * (i + 1)))])
    for (let i = 0; i < 2; i++)
      await c.write(c.keys[i]!, 'setWeights', [netuid, [2, 3], [100, 50 + i * 40], 0n])
    await c.write(owner, 'fundEmission', [netuid, parseEther('3')])
    await c.reverts(c.keys[5]!, 'epochBegin', [netuid], 'EpochNotDue')
    // not even the subnet owner runs an epoch before its tempo
    await c.reverts(owner, 'epochBegin', [netuid], 'EpochNotDue')
    await c.reverts(owner, 'epochConsensus', [netuid, [0n]], 'WrongEpochStage')
    // the first epoch counts no stake (it arrived in that epoch), the second gives permits
    await c.epoch(netuid)
    await c.epoch(netuid)
    await c.write(owner, 'fundEmission', [netuid, parseEther('3')])
    await c.mine(100)
    const pending = (await c.read<readonly bigint[]>('subnetInfo', [netuid]))[5]!
    const keeper = c.keys[6]!
    await c.write(keeper, 'epochBegin', [netuid])
    await c.reverts(c.keys[0]!, 'setWeights', [netuid, [2], [1], 0n], 'EpochInProgress')
    await c.reverts(owner, 'epochConsensus', [netuid, [1n, 0n, 0n, 0n]], 'ConsensusMismatch')
    await c.reverts(owner, 'epochConsensus', [netuid, [0n, 0n, 0n, 0n, 0n]], 'BadChunk')
    const hints = await c.read<readonly bigint[]>('consensusHints', [netuid, 0, 4])
    await c.write(keeper, 'epochConsensus', [netuid, hints])
    await c.reverts(owner, 'epochBonds', [netuid, 0], 'BadChunk')
    await c.write(keeper, 'epochBonds', [netuid, 16])
    await c.write(keeper, 'epochFinish', [netuid, 16])
    // the keeper ran every stage: all of the keeper reward, 1% of the epoch's emission
    expect(await c.read<bigint>('claimable', [keeper.account.address])).toBe(pending / 100n)
    const meta = await c.read<
      readonly { incentive: number; dividends: number; unclaimed: bigint }[]
    >('metagraph', [netuid])
    expect(meta[2]!.incentive + meta[3]!.incentive).toBeGreaterThan(65000)
    expect(meta[1]!.dividends).toBeGreaterThan(0)
    // a miner without stakers keeps all it earned: its uid's unclaimed, swept and claimed at once
    const earned = meta[2]!.unclaimed
    expect(earned).toBeGreaterThan(0n)
    const [, , rewards] = await c.read<readonly bigint[]>('position', [netuid, addr(2), addr(2)])
    expect(rewards).toBe(0n)
    const before = await c.balance(addr(2))
    await c.write(c.keys[2]!, 'claimFrom', [netuid, addr(2), addr(2)])
    expect(await c.balance(addr(2))).toBe(before + earned)
    await c.reverts(c.keys[2]!, 'claim', [addr(2)], 'NothingToClaim')
    const bonds = await c.read<readonly number[]>('bondsOf', [netuid, 1])
    expect(bonds[2]).toBeGreaterThan(0)
    await c.write(owner, 'setHyperparams', [
      netuid,
      { ...OPEN, tempo: 100, yuma3: true, bondsResetOn: true },
    ])
    await c.epoch(netuid)
    await c.epoch(netuid)
    await c.write(c.keys[2]!, 'resetBonds', [netuid])
    expect((await c.read<readonly number[]>('bondsOf', [netuid, 1]))[2]).toBe(0)
  })

  it('keeps what a uid earned for its hotkey: across subnets, and when the uid is replaced', async () => {
    const a = await c.subnet({ ...OPEN, tempo: 1, maxUids: 2 })
    const b = await c.subnet({ ...OPEN, tempo: 1, maxUids: 2 })
    const miner = addr(1)
    for (const netuid of [a, b]) {
      // the miner registers first (uid 0): on an emission tie the earlier registration is pruned
      await c.write(c.keys[1]!, 'register', [netuid, parseEther('1')])
      await c.write(c.keys[0]!, 'register', [netuid, parseEther('1')])
      await c.write(c.owner, 'stake', [netuid, addr(0), parseEther('10')])
      await c.write(c.keys[0]!, 'setWeights', [netuid, [0], [1000], 0n])
      // the first epoch counts no stake, the second gives the validator its permit, the third
      // uses its weights
      for (let e = 0; e < 3; e++) {
        await c.write(c.owner, 'fundEmission', [netuid, parseEther('2')])
        await c.epoch(netuid)
      }
    }
    type Info = { unclaimed: bigint; emission: bigint }
    const ua = (await c.read<Info>('neuron', [a, 0])).unclaimed
    const ub = (await c.read<Info>('neuron', [b, 0])).unclaimed
    expect(ua).toBeGreaterThan(0n)
    expect(ub).toBeGreaterThan(0n)
    // subnet a is full: a new hotkey replaces the uid with the lower emission
    await c.write(c.keys[2]!, 'register', [a, parseEther('1')])
    const replaced = await c.read<number>('uidOf', [a, addr(2)])
    expect(replaced).toBe(0)
    // the miner lost its uid on a but keeps what it earned there, in its claimable balance
    expect(await c.read<bigint>('claimable', [miner])).toBe(ua)
    expect((await c.read<Info>('neuron', [a, replaced])).unclaimed).toBe(0n)
    const before = await c.balance(miner)
    // one claim per subnet still registered on: O(1) whatever the number of subnets
    await c.write(c.keys[1]!, 'claimFrom', [b, miner, miner])
    expect(await c.balance(miner)).toBe(before + ua + ub)
    expect(await c.read<bigint>('claimable', [miner])).toBe(0n)
    expect((await c.read<Info>('neuron', [b, 0])).unclaimed).toBe(0n)
    await c.reverts(c.keys[1]!, 'claim', [miner], 'NothingToClaim')
  })

  it('accrues the halving emission for a subnet with a share, with the owner cut', async () => {
    const netuid = await c.subnet({ ...OPEN, ownerCut: 6553 })
    await c.govern({ kind: 'emissionShare', netuid, shareBps: 10_000 })
    const from = await c.clock()
    await c.mine(9)
    await c.write(c.owner, 'epochBegin', [netuid])
    const blocks = (await c.clock()) - from
    const accrued = parseEther('1') * blocks
    const cut = (accrued * 6553n) / 65535n
    // an empty subnet's epoch has no stages to pay for: no keeper reward is set aside
    const pending = (await c.read<readonly bigint[]>('subnetInfo', [netuid]))[5]!
    expect(pending).toBe(accrued - cut)
    expect(await c.read<bigint>('claimable', [c.owner.account.address])).toBe(cut)
  })
})

describe('runEpoch', () => {
  it('drives a whole epoch once due', async () => {
    const netuid = await c.subnet({ ...OPEN, tempo: 3 })
    await c.mine(3)
    const run = await runEpoch(c.owner, { address: c.verity, netuid })
    expect(run.receipts.every((r) => r.status === 'success')).toBe(true)
  })
})
