export { BaseError, type BaseErrorParameters } from './base.ts'
export { ChainError, DevnetError, EpochError } from './chain.ts'
export { UsageError } from './cli.ts'
export { EpochInputError, ScenarioError, SubnetError } from './consensus.ts'
export {
  GenerationError,
  GgufError,
  KernelError,
  ModelError,
  TokenizerError,
  TraceError,
} from './runtime.ts'
