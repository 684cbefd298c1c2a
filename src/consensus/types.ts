/** A sparse matrix row: (column uid, value) pairs, in ascending column order. */
export type SparseRow = Array<[number, number]>

/** One row per uid. Values are u16 in storage, I32F32 raw bits inside the epoch. */
export type SparseMatrix = SparseRow[]

/** The subnet hyperparameters the epoch reads (subtensor storage names in brackets). */
export type YumaParams = {
  /** [Tempo] blocks between epochs. */
  tempo: number
  /** [ActivityCutoff] in blocks: a uid is inactive when last_update + cutoff < block. */
  activityCutoff: number
  /** [Kappa] u16, used as kappa/65535. */
  kappa: number
  /** [BondsPenalty] u16, used as bondsPenalty/65535. */
  bondsPenalty: number
  /** [BondsMovingAverage] per million; the fixed EMA alpha is 1 − value/1e6. */
  bondsMovingAverage: number
  /** [Yuma3On] */
  yuma3: boolean
  /** [LiquidAlphaOn] */
  liquidAlpha: boolean
  /** [AlphaValues] u16 bounds. */
  alphaLow: number
  alphaHigh: number
  /** [AlphaSigmoidSteepness] i16; the exponent uses steepness/100. */
  alphaSigmoidSteepness: number
  /** [MaxAllowedValidators] top-k size for permits. */
  maxAllowedValidators: number
  /** [StakeThreshold] raw stake below this is zeroed before normalisation. */
  stakeThreshold: bigint
  /** [CommitRevealWeightsEnabled] applies the commit-reveal column mask. */
  commitReveal: boolean
  /** [BondsResetOn] */
  bondsResetOn: boolean
  /** uid of [SubnetOwnerHotkey], or null. */
  ownerUid: number | null
}

/** Everything `epoch_mechanism` reads, for a subnet of n = stake.length uids. */
export type EpochInput = {
  /** The current block. */
  block: number
  params: YumaParams
  /** Raw stake per uid (u64; the total must fit in 63 bits). */
  stake: readonly bigint[]
  /** [LastUpdate] block of each uid's last set_weights (or commit). */
  lastUpdate: readonly number[]
  /** [BlockAtRegistration] */
  blockAtRegistration: readonly number[]
  /** [ValidatorPermit] as the previous epoch stored it. */
  validatorPermit: readonly boolean[]
  /** [Weights] stored u16 rows (max-upscaled). */
  weights: SparseMatrix
  /** [Bonds] stored u16 rows. */
  bonds: SparseMatrix
  /**
   * Block of each uid's earliest unexpired weight commit, or null for none (u64::MAX in
   * subtensor). Used only with commit-reveal on; omitted means no commits.
   */
  commitBlock?: readonly (number | null)[]
  /** [LastMechansimStepBlock]; 0 or omitted means last_tempo = max(0, block − tempo). */
  lastStepBlock?: number
  /** Amount (rao) split by this epoch. */
  emission: bigint
}

/** What the epoch computes and subtensor stores. Fixed-point vectors are I32F32 raw bits. */
export type EpochOutput = {
  /** S: normalised stake weight. */
  stakeWeight: number[]
  /** A: active, permitted stake, normalised. */
  activeStake: number[]
  active: boolean[]
  consensus: number[]
  incentive: number[]
  dividends: number[]
  validatorTrust: number[]
  /** New permits: stored now, used by the next epoch. */
  validatorPermit: boolean[]
  /** Bond rows to store (u16), null where the stored row is left alone. */
  bonds: (SparseRow | null)[]
  /** Combined emission (subtensor `Emission`), rao. */
  emission: bigint[]
  /** Incentive part returned to the coinbase, rao. */
  serverEmission: bigint[]
  /** Dividend part returned to the coinbase, rao. */
  validatorEmission: bigint[]
  /** The u16 storage encodings, floor(x · 65535). */
  stakeWeightU16: number[]
  consensusU16: number[]
  incentiveU16: number[]
  dividendsU16: number[]
  validatorTrustU16: number[]
}
