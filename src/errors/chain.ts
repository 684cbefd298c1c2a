import { BaseError } from './base.ts'

/** The local devnet (anvil) could not be started, answered nothing, or failed to deploy. */
export class DevnetError extends BaseError {
  override name = 'DevnetError' as const
}

/** A chain call failed or returned something the client cannot use. */
export class ChainError extends BaseError {
  override name = 'ChainError' as const
}

/** A Yuma epoch could not be driven to completion on chain. */
export class EpochError extends BaseError {
  override name = 'EpochError' as const
}

/** A deployment manifest is missing, malformed, for another chain or another ABI. */
export class DeploymentError extends BaseError {
  override name = 'DeploymentError' as const
}
