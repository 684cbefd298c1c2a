import { describe, expect, it } from 'vitest'
import { DEFAULT_YUMA_PARAMS } from './defaults.ts'
import { runEpoch } from './epoch.ts'
import { ONE } from './fixed.ts'
import type { EpochInput, YumaParams } from './types.ts'

const params: YumaParams = { ...DEFAULT_YUMA_PARAMS, tempo: 1, maxAllowedValidators: 2 }

/** Two validators (stake 3:1) and two servers; validator 1 over-weights server 3. */
function input(over: Partial<EpochInput> = {}): EpochInput {
  return {
    block: 10,
    params,
    stake: [3n, 1n, 0n, 0n],
    lastUpdate: [9, 9, 1, 1],
    blockAtRegistration: [1, 1, 1, 1],
    validatorPermit: [true, true, false, false],
    weights: [
      [
        [2, 65535],
        [3, 65535],
      ],
      [[3, 65535]],
      [],
      [],
    ],
    bonds: [[], [], [], []],
    emission: 1_000_000_000n,
    ...over,
  }
}

describe('runEpoch steps', () => {
  it('1-4: activity, stake weight, permits, active stake', () => {
    const out = runEpoch(input({ lastUpdate: [9, 1, 1, 1], block: 5008 }))
    expect(out.active).toEqual([true, false, false, false])
    expect(out.stakeWeightU16).toEqual([49151, 16383, 0, 0])
    expect(out.activeStake).toEqual([ONE, 0, 0, 0])
    expect(out.validatorPermit).toEqual([true, true, false, false])
  })
  it('5-9: consensus, clipping, validator trust and incentive', () => {
    const out = runEpoch(input())
    // Column 3 gets 0.5 from the 75% validator and 1.0 from the 25% one: consensus 0.5.
    expect(out.consensusU16).toEqual([0, 0, 32767, 32767])
    expect(out.validatorTrustU16).toEqual([65535, 32767, 0, 0])
    // Rank: col 2 = 0.75·0.5, col 3 = 0.75·0.5 + 0.25·0.5 → incentive 3/7 and 4/7.
    expect(out.incentiveU16).toEqual([0, 0, 28086, 37448])
  })
  it('5: drops forbidden rows, self-weights and outdated weights', () => {
    const out = runEpoch(
      input({
        validatorPermit: [true, false, false, false],
        weights: [
          [
            [0, 65535],
            [2, 65535],
          ],
          [[3, 65535]],
          [],
          [],
        ],
        blockAtRegistration: [1, 1, 9, 1],
      }),
    )
    // Row 0 only had (0,·) self and (2,·) outdated; row 1 is forbidden: nothing is left.
    expect(out.incentiveU16).toEqual([0, 0, 0, 0])
    expect(out.emission).toEqual([1_000_000_000n, 0n, 0n, 0n]) // falls back to active stake
  })
  it('11-13: classic bonds, dividends, emission split and bond persistence', () => {
    const out = runEpoch(input())
    // Bond shares: col 2 all validator 0, col 3 split 0.75/0.25 → D ∝ (3/7 + 0.75·4/7, 0.25·4/7).
    expect(out.dividendsU16).toEqual([56172, 9362, 0, 0])
    expect(out.serverEmission).toEqual([0n, 0n, 214285714n, 285714285n])
    expect(out.validatorEmission).toEqual([428571428n, 71428571n, 0n, 0n])
    expect(out.bonds[1]).toEqual([[3, 21844]]) // 0.25 upscaled by the column max 0.75
    expect(out.bonds[0]).toEqual([
      [2, 65535],
      [3, 65535],
    ])
    expect(out.bonds[2]).toBeNull() // no permit before or after: row left alone
  })
  it('13: a validator that loses its permit has its bond row cleared', () => {
    const out = runEpoch(input({ stake: [3n, 0n, 0n, 0n] }))
    expect(out.validatorPermit[1]).toBe(false)
    expect(out.bonds[1]).toEqual([])
  })
  it('commit-reveal mask drops weights committed before the target registered', () => {
    const cr = { ...params, commitReveal: true }
    const out = runEpoch(
      input({ params: cr, commitBlock: [5, null, null, null], blockAtRegistration: [1, 1, 1, 6] }),
    )
    // Validator 0 committed (block 5) before server 3 registered (block 6): its (0,3) weight is
    // dropped, so the 75% majority now scores server 3 at 0 and puts everything on server 2.
    expect(out.consensusU16).toEqual([0, 0, 65535, 0])
  })
  it('yuma3: dividends scale with active stake, bonds stored as plain proportions', () => {
    const y3 = { ...params, yuma3: true }
    const out = runEpoch(input({ params: y3 }))
    expect(out.bonds[0]).toEqual([
      [2, 3276],
      [3, 3276],
    ])
    // t = (5/7, 2/7) scaled by A = (0.75, 0.25), normalised.
    expect(out.dividendsU16).toEqual([57825, 7709, 0, 0])
  })
  it('rejects malformed input with the field name', () => {
    expect(() => runEpoch(input({ lastUpdate: [1] }))).toThrow(
      'epoch input: lastUpdate: has length 1',
    )
    expect(() => runEpoch(input({ stake: [3n, -1n, 0n, 0n] }))).toThrow('stake[1]')
    expect(() => runEpoch(input({ weights: [[[2, 70000]], [], [], []] }))).toThrow('weights[0][2]')
  })
})
