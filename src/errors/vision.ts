import { BaseError } from './base.ts'

/** A digits model file that is malformed or outside the bounds the circuit's range checks assume. */
export class VisionModelError extends BaseError {
  override name = 'VisionModelError' as const
}

/** An image the classifier refuses: wrong size, wrong format, corrupt, or out-of-range pixels. */
export class ImageError extends BaseError {
  override name = 'ImageError' as const
}

/** A proof that cannot be made or checked: missing circuit artifacts, a witness that fails. */
export class ProofError extends BaseError {
  override name = 'ProofError' as const
}
