import { describe, expect, it } from 'vitest'
import { bumpBurn, DEFAULT_BURN, decayBurn, decayFactorQ32 } from './burn.ts'
import { DEFAULT_SUBNET_CONFIG, type SubnetConfig } from './config.ts'
import { blockEmission, halvings } from './emission-schedule.ts'
import { neuronToPrune } from './prune.ts'
import { blocksUntilNextEpoch, epochIndex, isEpochBlock } from './schedule.ts'
import { Subnet } from './subnet.ts'

const cfg = (over: Partial<SubnetConfig> = {}): SubnetConfig => ({
  ...DEFAULT_SUBNET_CONFIG,
  tempo: 9,
  commitReveal: false,
  weightsSetRateLimit: 5,
  immunityPeriod: 20,
  minNonImmuneUids: 0,
  maxAllowedUids: 4,
  ...over,
})

describe('schedule and emission', () => {
  it('runs the epoch when (block + netuid + 1) mod (tempo + 1) = 0', () => {
    expect(isEpochBlock(8, 1, 9)).toBe(true)
    expect(isEpochBlock(9, 1, 9)).toBe(false)
    expect(blocksUntilNextEpoch(0, 1, 9)).toBe(7)
    expect(epochIndex(18, 1, 9)).toBe(2)
    expect(isEpochBlock(5, 1, 0)).toBe(false)
  })
  it('halves at 10.5M, 15.75M TAO and stops at the supply', () => {
    expect(blockEmission(0n)).toBe(1_000_000_000n)
    expect(halvings(10_499_999_999_999_999n)).toBe(0)
    expect(blockEmission(10_500_000_000_000_000n)).toBe(500_000_000n)
    expect(blockEmission(15_750_000_000_000_000n)).toBe(250_000_000n)
    expect(blockEmission(21_000_000_000_000_000n)).toBe(0n)
  })
  it('burn halves over its half-life and rises 26% per registration', () => {
    const f = decayFactorQ32(360)
    expect(Number(f) / 2 ** 32).toBeCloseTo(0.5 ** (1 / 360), 6)
    let b = 1_000_000_000n
    for (let i = 0; i < 360; i++) b = decayBurn(b, DEFAULT_BURN)
    expect(Number(b)).toBeGreaterThan(499_000_000)
    expect(Number(b)).toBeLessThanOrEqual(500_000_000)
    expect(bumpBurn(1_000_000_000n, DEFAULT_BURN)).toBe(1_260_000_000n)
  })
})

describe('pruning', () => {
  it('takes the lowest emission among non-immune uids, ties to the earliest registration', () => {
    const c = (uid: number, emission: bigint, reg: number) => ({
      uid,
      emission,
      registrationBlock: reg,
      immortal: false,
    })
    expect(neuronToPrune([c(0, 5n, 0), c(1, 3n, 0), c(2, 3n, 1), c(3, 0n, 95)], 100, 10, 0)).toBe(1)
    // Too few non-immune uids: the best immune one is taken.
    expect(neuronToPrune([c(0, 5n, 0), c(1, 9n, 95)], 100, 10, 10)).toBe(1)
    expect(neuronToPrune([{ ...c(0, 0n, 0), immortal: true }], 100, 10, 0)).toBeNull()
  })
})

describe('Subnet state machine', () => {
  it('registers, charges the burn, prunes when full', () => {
    const s = new Subnet(cfg())
    for (const h of ['a', 'b', 'c', 'd']) {
      s.register(h)
      s.step()
    }
    expect(s.n).toBe(4)
    expect(() => s.register('e', { balance: 1n })).toThrow('NotEnoughBalanceToPayBurn')
    for (let i = 0; i < 25; i++) s.step()
    s.emission = [5n, 1n, 7n, 9n] // as if the last epoch paid these
    expect(s.register('e')).toBe(1) // lowest emission, all non-immune now
    expect(s.hotkeys).toEqual(['a', 'e', 'c', 'd'])
    expect(() => s.register('e')).toThrow('HotKeyAlreadyRegisteredInSubNet')
    expect(() => s.register('f')).toThrow('TooManyRegistrationsThisBlock')
  })
  it('checks set_weights: permit, rate limit, min weights, limits', () => {
    const s = new Subnet(cfg({ minAllowedWeights: 2, maxWeightsLimit: 40000 }))
    s.register('v', { stake: 100n })
    s.step()
    s.register('m1')
    s.step()
    s.register('m2')
    expect(() => s.setWeights('v', [1, 2], [1, 1])).toThrow('NeuronNoValidatorPermit')
    s.stepToEpoch() // grants v its permit
    s.setWeights('m1', [1], [1]) // a self-weight is always accepted
    expect(() => s.setWeights('v', [1], [1])).toThrow('WeightVecLengthIsLow')
    expect(() => s.setWeights('v', [1, 1], [1, 1])).toThrow('DuplicateUids')
    expect(() => s.setWeights('v', [1, 7], [1, 1])).toThrow('UidVecContainInvalidOne')
    expect(() => s.setWeights('v', [1, 2], [3, 1])).toThrow('MaxWeightExceeded')
    s.setWeights('v', [1, 2], [1, 1])
    expect(s.weights[0]).toEqual([
      [1, 65535],
      [2, 65535],
    ])
    expect(() => s.setWeights('v', [1, 2], [1, 1])).toThrow('SettingWeightsTooFast')
    const out = s.stepToEpoch()
    expect(out.incentiveU16.slice(1)).toEqual([32767, 32767])
  })
  it('commit-reveal: reveal only in the next epoch, with the committed hash', () => {
    const s = new Subnet(cfg({ commitReveal: true }))
    s.register('v', { stake: 100n })
    s.step()
    s.register('m')
    s.stepToEpoch()
    expect(() => s.setWeights('v', [1], [1])).toThrow('CommitRevealEnabled')
    s.commitWeights('v', s.commitHashFor('v', [1], [7], [42]))
    expect(() => s.revealWeights('v', [1], [7], [42])).toThrow('RevealTooEarly')
    s.stepToEpoch()
    s.step()
    expect(() => s.revealWeights('v', [1], [8], [42])).toThrow('InvalidRevealCommitHashNotMatch')
    s.revealWeights('v', [1], [7], [42])
    expect(s.weights[0]).toEqual([[1, 65535]])
    const out = s.stepToEpoch()
    expect(out.incentiveU16[1]).toBe(65535)
    expect(s.earned.get('m')!.server).toBeGreaterThan(0n)
  })
  it('mints per block, takes the owner cut, pays pending emission at the epoch', () => {
    const s = new Subnet(cfg())
    s.register('v', { stake: 1n })
    const out = s.stepToEpoch()
    const total = out.emission.reduce((a, b) => a + b, 0n)
    expect(s.issuance).toBe(9n * 1_000_000_000n)
    expect(s.ownerEarned + total).toBe(s.issuance)
  })
})
