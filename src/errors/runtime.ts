import { BaseError, type BaseErrorParameters } from './base.ts'

/** A GGUF file that cannot be read: truncated, corrupt, or using something we do not support. */
export class GgufError extends BaseError {
  override name = 'GgufError' as const
  constructor(message: string, parameters?: BaseErrorParameters) {
    super(`GGUF: ${message}`, parameters)
  }
}

/** A model whose architecture, shapes or tensor types the runtime cannot run. */
export class ModelError extends BaseError {
  override name = 'ModelError' as const
}

/** Text that cannot be tokenized, or token ids that cannot be decoded. */
export class TokenizerError extends BaseError {
  override name = 'TokenizerError' as const
}

/** A generation request the runtime refuses: prompt too long, bad sampling parameters. */
export class GenerationError extends BaseError {
  override name = 'GenerationError' as const
}

/** A Merkle opening or trace element that does not verify. */
export class TraceError extends BaseError {
  override name = 'TraceError' as const
}

/** A compute kernel that cannot be created or used: no WebAssembly, arena full, bad pointer or shape. */
export class KernelError extends BaseError {
  override name = 'KernelError' as const
}
