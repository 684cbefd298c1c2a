/** Subnet hyperparameters as the contract takes them (u16 ratios are value/65535). */
export type Hyperparams = {
  tempo: number
  kappa: number
  bondsPenalty: number
  /** per million; the fixed EMA rate is 1 − value/1e6 */
  bondsMovingAverage: number
  yuma3: boolean
  liquidAlpha: boolean
  alphaLow: number
  alphaHigh: number
  alphaSigmoidSteepness: number
  maxUids: number
  maxValidators: number
  immunityPeriod: number
  commitReveal: boolean
  revealPeriodEpochs: number
  activityCutoff: number
  weightsRateLimit: number
  minAllowedWeights: number
  maxWeightLimit: number
  weightsVersionKey: bigint
  /** set_weights needs a validator permit (subtensor's rule); off lets any neuron set weights */
  weightsNeedPermit: boolean
  bondsResetOn: boolean
  stakeThreshold: bigint
  /** initial registration price */
  burn: bigint
  minBurn: bigint
  maxBurn: bigint
  targetRegistrationsPerInterval: number
  adjustmentInterval: number
  /** /2^64 */
  adjustmentAlpha: bigint
  maxRegistrationsPerBlock: number
  /** /65535 of the accrued emission, claimable by the subnet owner */
  ownerCut: number
}

/** subtensor's defaults where they exist (runtime initial values; Yuma3 as new subnets get it). */
export const DEFAULT_HYPERPARAMS: Hyperparams = {
  tempo: 360,
  kappa: 32767,
  bondsPenalty: 65535,
  bondsMovingAverage: 900_000,
  yuma3: true,
  liquidAlpha: false,
  alphaLow: 45875,
  alphaHigh: 58982,
  alphaSigmoidSteepness: 1000,
  maxUids: 256,
  maxValidators: 64,
  immunityPeriod: 5000,
  commitReveal: false,
  revealPeriodEpochs: 1,
  activityCutoff: 5000,
  weightsRateLimit: 100,
  minAllowedWeights: 1,
  maxWeightLimit: 65535,
  weightsVersionKey: 0n,
  weightsNeedPermit: true,
  bondsResetOn: false,
  stakeThreshold: 0n,
  burn: 10n ** 18n,
  minBurn: 5n * 10n ** 14n,
  maxBurn: 100n * 10n ** 18n,
  targetRegistrationsPerInterval: 1,
  adjustmentInterval: 360,
  adjustmentAlpha: 17_893_341_751_498_265_066n,
  maxRegistrationsPerBlock: 1,
  ownerCut: 11796,
}

/** Protocol parameters (bounded, changed only through the governance delay; durations in clock units). */
export type ProtocolParams = {
  /** [minUnstakeDelay, 4 × minUnstakeDelay] */
  unstakeDelay: number
  /** [minGovernanceDelay, 2^32) */
  governanceDelay: number
  /** an epoch stuck in consensus this long may be aborted by anyone: [1, 2^32) */
  epochDeadline: number
  /** basis points of each epoch's emission paid to whoever runs its stages: ≤ 500 */
  keeperBps: number
  /** live subnets: [1, 4096] */
  maxSubnets: number
  /** subnet creation lock floor, VTY base units: [1, 10^24] */
  minLock: bigint
  /** the lock decays from twice the last one to the floor over this: [1, 2^32) */
  lockReductionInterval: number
}

/** Deployment settings of the Verity contract (immutable). */
export type VerityConfig = {
  /** 0 block.number, 1 block.timestamp, 2 ArbSys's L2 block number */
  clockMode: number
  /** the unstake delay's floor: must cover the dispute game's longest window */
  minUnstakeDelay: number
  /** the governance delay's floor */
  minGovernanceDelay: number
  params: ProtocolParams
  guardian: `0x${string}`
}

/** Governance change kinds of `queueChange`. */
export const CHANGE_KIND = { params: 0, emissionShare: 1, disputeGame: 2, guardian: 3 } as const
