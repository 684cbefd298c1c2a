/**
 * Verity's compute market off chain: the deployment spec a tenant writes, the orders it opens,
 * how a provider prices them and whether it should bid (pure); the provider node with its
 * workloads and ingress, and the tenant's deploySpec (they talk to the chain and start processes).
 */
export {
  type BidSelection,
  type DeployedLease,
  type DeployResult,
  type DeploySpecOptions,
  deploySpec,
  newApiKey,
} from './deploy.ts'
export { type IngressBackend, type ProviderIngress, startProviderIngress } from './ingress.ts'
export { type LeaseServerOptions, startLeaseServer } from './lease-server.ts'
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
  type CatalogModel,
  type LeaseScope,
  type LeaseSignerStatement,
  leaseDelegationMessage,
  leaseSigningKey,
  ProviderNode,
  type ProviderNodeOptions,
  vouchedSigner,
} from './provider.ts'
export { type DeploymentRecord, type DeploymentState, ProviderStore } from './provider-store.ts'
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
export { type RunningProvider, type StartProviderOptions, startProvider } from './start.ts'
export { formatByteSize, parseByteSize, parseCpuUnits, parseVty } from './units.ts'
export {
  processAlive,
  residentBytes,
  startWorkload,
  type Workload,
  type WorkloadExit,
  type WorkloadOptions,
} from './workload.ts'
