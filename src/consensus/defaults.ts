import type { YumaParams } from './types.ts'

/**
 * The Yuma hyperparameters every Verity subnet starts from (classic bonds, no liquid alpha,
 * subtensor's kappa, bonds moving average and liquid-alpha bounds); callers override what differs.
 */
export const DEFAULT_YUMA_PARAMS: YumaParams = {
  tempo: 360,
  activityCutoff: 5000,
  kappa: 32767,
  bondsPenalty: 65535,
  bondsMovingAverage: 900_000,
  yuma3: false,
  liquidAlpha: false,
  alphaLow: 45875,
  alphaHigh: 58982,
  alphaSigmoidSteepness: 1000,
  maxAllowedValidators: 64,
  stakeThreshold: 0n,
  commitReveal: false,
  bondsResetOn: false,
  ownerUid: null,
}
