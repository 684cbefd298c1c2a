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
