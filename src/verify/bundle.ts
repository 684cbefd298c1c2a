import { ReceiptError } from '../errors/node.ts'
import type { InferenceRequest, SignedReceipt } from '../types/inference.ts'
import { assertReceiptFields } from './receipt.ts'
import { assertRequest } from './request.ts'

/**
 * What a client keeps to check an answer later, and what `verity verify` reads: the request the
 * receipt commits to, the signed receipt, and (optionally) the output tokens.
 */
export type ReceiptBundle = {
  request: InferenceRequest
  receipt: SignedReceipt
  tokens?: number[]
}

/**
 * Parses a receipt bundle from JSON: either the bundle itself or any object carrying it under a
 * `verity` key (an API response body).
 */
export function parseReceiptBundle(value: unknown): ReceiptBundle {
  let v = value as Record<string, unknown> | null
  if (typeof v === 'object' && v !== null && typeof v.verity === 'object' && v.verity !== null)
    v = v.verity as Record<string, unknown>
  if (typeof v !== 'object' || v === null)
    throw new ReceiptError('the receipt file is not a JSON object')
  if (v.receipt === undefined) throw new ReceiptError("the receipt file has no 'receipt'")
  if (v.request === undefined)
    throw new ReceiptError(
      "the receipt file has no 'request' (needed to check what the receipt commits to)",
    )
  assertReceiptFields(v.receipt)
  if (typeof (v.receipt as Record<string, unknown>).signature !== 'string')
    throw new ReceiptError('the receipt has no signature')
  assertRequest(v.request)
  const tokens = v.tokens
  if (
    tokens !== undefined &&
    (!Array.isArray(tokens) || !tokens.every((t) => Number.isInteger(t) && t >= 0))
  )
    throw new ReceiptError("'tokens' must be an array of token ids")
  return {
    request: v.request,
    receipt: v.receipt as SignedReceipt,
    ...(tokens === undefined ? {} : { tokens: tokens as number[] }),
  }
}
