import { BaseError } from './base.ts'

/** The compute market could not do what was asked: a workload, a bid, a lease, an endpoint. */
export class MarketError extends BaseError {
  override name = 'MarketError' as const
}
