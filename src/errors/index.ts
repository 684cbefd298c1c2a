export { BaseError, type BaseErrorParameters } from './base.ts'
export { UsageError } from './cli.ts'
export { GenerationError, GgufError, ModelError, TokenizerError, TraceError } from './runtime.ts'
