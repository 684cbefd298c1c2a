import { BaseError } from './base.ts'

/** A command line the `verity` command cannot act on: unknown command, bad flag or value. */
export class UsageError extends BaseError {
  override name = 'UsageError' as const
}
