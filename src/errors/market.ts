import { BaseError } from './base.ts'

/** The compute market could not do what was asked: a workload, a bid, a lease, an endpoint. */
export class MarketError extends BaseError {
  override name = 'MarketError' as const
}

/** A deployment spec (the market's SDL) that cannot be parsed, or names something it lacks. */
export class SpecError extends BaseError {
  override name = 'SpecError' as const
}

/** A pricing configuration (flags, scale or script) the provider cannot price with. */
export class PricingError extends BaseError {
  override name = 'PricingError' as const
}

/** A capacity flag that cannot be read, or bookkeeping that would leave negative resources. */
export class CapacityError extends BaseError {
  override name = 'CapacityError' as const
}
