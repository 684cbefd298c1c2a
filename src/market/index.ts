/**
 * The pure half of Verity's compute market: the deployment spec a tenant writes, the orders it
 * opens, how a provider prices them and whether it should bid.
 */
export {
  type AuditorSignatures,
  addResources,
  fits,
  type MatchOrder,
  type MatchProvider,
  type MatchResult,
  parseResources,
  shouldBid,
  subtractResources,
} from './match.ts'
export {
  type PricingInput,
  type PricingStrategy,
  parsePricingFlags,
  type Quote,
  type QuotingStrategy,
  type ScalePricingOptions,
  type ScriptPricingOptions,
  scalePricing,
  scriptPricing,
} from './pricing.ts'
export {
  type ComputeProfile,
  canonicalSpecBytes,
  type DeploymentEntry,
  type DeploymentSpec,
  type GpuSpec,
  MAX_SPEC_BYTES,
  type ModelRef,
  type PlacementSpec,
  type PlannedOrder,
  parseDeploymentSpec,
  plannedOrders,
  type ServiceParams,
  type ServiceSpec,
  specHash,
} from './spec.ts'
export { formatByteSize, parseByteSize, parseCpuUnits, parseVty } from './units.ts'
