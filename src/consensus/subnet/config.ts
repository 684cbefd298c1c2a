import { DEFAULT_YUMA_PARAMS } from '../defaults.ts'
import type { YumaParams } from '../types.ts'
import { type BurnConfig, DEFAULT_BURN } from './burn.ts'

/** Subnet hyperparameters beyond the epoch's (defaults: subtensor's, see the spec's §1.8). */
export type SubnetConfig = YumaParams & {
  netuid: number
  maxAllowedUids: number
  /** Blocks after registration during which a uid is not pruned. */
  immunityPeriod: number
  /** A non-immune uid is pruned only when more than this many exist (HEAD rule). */
  minNonImmuneUids: number
  maxRegistrationsPerBlock: number
  minAllowedWeights: number
  /** u16; 65535 means no limit. */
  maxWeightsLimit: number
  /** Blocks between set_weights calls of one hotkey (when commit-reveal is off). */
  weightsSetRateLimit: number
  weightsVersionKey: bigint
  /** Epochs between a commit and its reveal. */
  revealPeriodEpochs: number
  /** Unrevealed commits allowed per hotkey. */
  maxCommitsPerHotkey: number
  burn: BurnConfig
  initialBurn: bigint
  /** u16 share of each block's emission that goes to the subnet owner (11796 = 18%). */
  ownerCut: number
}

export const DEFAULT_SUBNET_CONFIG: SubnetConfig = {
  netuid: 1,
  ...DEFAULT_YUMA_PARAMS,
  yuma3: true,
  commitReveal: true,
  maxAllowedUids: 256,
  immunityPeriod: 5000,
  minNonImmuneUids: 10,
  maxRegistrationsPerBlock: 1,
  minAllowedWeights: 1,
  maxWeightsLimit: 65535,
  weightsSetRateLimit: 100,
  weightsVersionKey: 0n,
  revealPeriodEpochs: 1,
  maxCommitsPerHotkey: 10,
  burn: DEFAULT_BURN,
  initialBurn: 1_000_000_000n,
  ownerCut: 11796,
}
