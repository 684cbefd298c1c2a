export { BaseError, type BaseErrorParameters } from './base.ts'
export { ChainError, DevnetError, EpochError } from './chain.ts'
export { UsageError } from './cli.ts'
export { CompetitionError, ModelFileError, type ModelFileErrorReason } from './competition.ts'
export { EpochInputError, ScenarioError, SubnetError } from './consensus.ts'
export {
  AuthenticationError,
  ChatTemplateError,
  ChatTemplateRejectedError,
  ContextLengthError,
  GatewayError,
  InvalidRequestError,
  MinerFailedError,
  MinerMismatchError,
  ModelNotFoundError,
  NoMinerAvailableError,
  RateLimitError,
  RequestTooLargeError,
  RouteNotFoundError,
} from './gateway.ts'
export { CapacityError, MarketError, PricingError, SpecError } from './market.ts'
export * from './node.ts'
export {
  GenerationError,
  GgufError,
  KernelError,
  ModelError,
  TokenizerError,
  TraceError,
} from './runtime.ts'
