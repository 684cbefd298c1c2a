/**
 * Verification: canonical request hashing, EIP-712 receipts signed by miners' hotkeys,
 * caller-signed requests with replay protection, and bit-for-bit re-execution.
 */

export { parseReceiptBundle, type ReceiptBundle } from './bundle.ts'
export {
  ReplayGuard,
  type ReplayGuardOptions,
  type SignedRequest,
  signRequest,
  verifySignedRequest,
} from './call.ts'
export * from './dispute/index.ts'
export { type ExecuteResult, executeRequest } from './execute.ts'
export {
  assertReceiptFields,
  RECEIPT_TYPES,
  receiptDomain,
  recoverReceiptSigner,
  signReceipt,
  type VerifyReceiptOptions,
  verifyReceipt,
} from './receipt.ts'
export { type ReexecuteResult, reexecuteReceipt } from './reexecute.ts'
export { assertRequest, encodeRequest, outputHash, REQUEST_LIMITS, requestHash } from './request.ts'
export {
  type AcceptVoucherOptions,
  assertVoucherFields,
  recoverVoucherSigner,
  type SignedVoucher,
  signVoucher,
  type TrackedChannel,
  VOUCHER_TYPES,
  type Voucher,
  VoucherBook,
  type VoucherDomain,
  voucherDigest,
  voucherDomain,
} from './voucher.ts'
