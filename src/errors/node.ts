import { BaseError } from './base.ts'

/** A receipt whose signature, fields or content do not hold. */
export class ReceiptError extends BaseError {
  override name = 'ReceiptError' as const
}

/** A caller-signed request that is malformed, badly signed, stale or replayed. */
/** A payment voucher is forged, stale, for another channel, over the deposit or malformed. */
export class VoucherError extends BaseError {
  override name = 'VoucherError' as const
}

export class RequestAuthError extends BaseError {
  override name = 'RequestAuthError' as const
}

/** A keyfile could not be created, read or decrypted. */
export class WalletError extends BaseError {
  override name = 'WalletError' as const
}

/** Something went wrong between nodes: the base class every network failure extends. */
export class NodeError extends BaseError {
  override name: string = 'NodeError'
}

/** The remote peer could not be reached or dialled. */
export class PeerUnavailableError extends NodeError {
  override name = 'PeerUnavailableError' as const
}

/** The stream ended, broke or carried an invalid frame before the final receipt. */
export class StreamError extends NodeError {
  override name = 'StreamError' as const
}

/** The remote peer answered with an error frame (it refused or failed the request). */
export class RemoteError extends NodeError {
  override name = 'RemoteError' as const
  readonly code: string
  constructor(code: string, message: string) {
    super(`miner refused the request: ${message}`, { details: `code ${code}` })
    this.code = code
  }
}

/** The request was aborted by the caller or ran out of time. */
export class RequestAbortedError extends NodeError {
  override name = 'RequestAbortedError' as const
}

/** A miner's price sheet is malformed, forged, expired or for another miner, model or chain. */
export class PriceSheetError extends BaseError {
  override name = 'PriceSheetError' as const
}
