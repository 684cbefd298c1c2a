import { BaseError, type BaseErrorParameters } from './base.ts'

/** A model competition input that cannot be evaluated or scored: the message names the field. */
export class CompetitionError extends BaseError {
  override name = 'CompetitionError' as const
  readonly field: string
  constructor(field: string, message: string, parameters?: BaseErrorParameters) {
    super(`competition: ${field}: ${message}`, parameters)
    this.field = field
  }
}

/**
 * Why a model file download failed: `unavailable` (the peer cannot be reached or does not serve
 * the protocol), `unknown_file`, `bad_index` and `refused` (its error frames), `bad_chunk` (a
 * chunk or proof that fails the commitment), `bad_length` (a truncated or oversized chunk),
 * `bad_frame` (an answer that is not a chunk frame), `too_large` (a committed size over the
 * caller's cap), `timeout` (a chunk that did not arrive in time), `aborted` (the caller's signal).
 */
export type ModelFileErrorReason =
  | 'unavailable'
  | 'unknown_file'
  | 'bad_index'
  | 'refused'
  | 'bad_chunk'
  | 'bad_length'
  | 'bad_frame'
  | 'too_large'
  | 'timeout'
  | 'aborted'

/** A model file could not be downloaded from a miner, or not as committed; `chunk` names the chunk. */
export class ModelFileError extends BaseError {
  override name = 'ModelFileError' as const
  readonly reason: ModelFileErrorReason
  readonly chunk: number | undefined
  constructor(
    reason: ModelFileErrorReason,
    message: string,
    parameters: BaseErrorParameters & { chunk?: number } = {},
  ) {
    super(`model file: ${message}`, parameters)
    this.reason = reason
    this.chunk = parameters.chunk
  }
}
