import { BaseError, type BaseErrorParameters } from './base.ts'

/** A Yuma scenario file that cannot be run: the message names the offending field. */
export class ScenarioError extends BaseError {
  override name = 'ScenarioError' as const
  readonly field: string
  constructor(field: string, message: string, parameters?: BaseErrorParameters) {
    super(`scenario: ${field}: ${message}`, parameters)
    this.field = field
  }
}

/** Epoch inputs of inconsistent shape or out-of-range values (lengths, uids, u16 overflow). */
export class EpochInputError extends BaseError {
  override name = 'EpochInputError' as const
  readonly field: string
  constructor(field: string, message: string, parameters?: BaseErrorParameters) {
    super(`epoch input: ${field}: ${message}`, parameters)
    this.field = field
  }
}

/** A subnet extrinsic the state machine rejects, named like subtensor's error (e.g. SettingWeightsTooFast). */
export class SubnetError extends BaseError {
  override name = 'SubnetError' as const
  readonly code: string
  constructor(code: string, message: string, parameters?: BaseErrorParameters) {
    super(`${code}: ${message}`, parameters)
    this.code = code
  }
}
