import { BaseError } from '../errors/base.ts'
import { ReceiptError } from '../errors/node.ts'
import type { Address, CallProof, InferenceRequest, SignedReceipt } from '../types/inference.ts'
import { verifyCallProof } from './call.ts'
import { assertReceiptFields, verifyReceipt } from './receipt.ts'
import { assertRequest } from './request.ts'

/**
 * Everything an answer commits to, and what anyone needs to check it: the request, the output
 * tokens, the miner's signed receipt, and the caller's signed call it answers. Gateways gossip one
 * per answer for validators to sample; a client keeps one per response (its `verity` field).
 */
export type ReceiptBundle = {
  request: InferenceRequest
  tokens: number[]
  receipt: SignedReceipt
  call: CallProof
}

/** Largest bundle accepted from the network or a file. */
export const MAX_BUNDLE_BYTES = 1 << 20

const MAX_TOKENS = 1 << 20

/**
 * Parses a receipt bundle from JSON: the bundle itself or any object carrying it under a `verity`
 * key (an API response body). Every field is required; a ReceiptError names the first one missing
 * or malformed.
 */
export function parseReceiptBundle(value: unknown): ReceiptBundle {
  let v = value as Record<string, unknown> | null
  if (typeof v === 'object' && v !== null && typeof v.verity === 'object' && v.verity !== null)
    v = v.verity as Record<string, unknown>
  if (typeof v !== 'object' || v === null) throw new ReceiptError('the bundle is not a JSON object')
  for (const key of ['request', 'tokens', 'receipt', 'call'])
    if (v[key] === undefined)
      throw new ReceiptError(
        `the bundle has no '${key}' (an answer is checked from all four parts)`,
      )
  assertReceiptFields(v.receipt)
  if (typeof (v.receipt as Record<string, unknown>).signature !== 'string')
    throw new ReceiptError('the receipt has no signature')
  try {
    assertRequest(v.request)
  } catch (error) {
    throw new ReceiptError(error instanceof BaseError ? error.shortMessage : String(error))
  }
  const tokens = v.tokens
  if (
    !Array.isArray(tokens) ||
    tokens.length > MAX_TOKENS ||
    !tokens.every((t) => Number.isInteger(t) && t >= 0 && t <= 0xffff_ffff)
  )
    throw new ReceiptError("'tokens' must be an array of token ids")
  const call = v.call as Record<string, unknown> | null
  if (typeof call !== 'object' || call === null) throw new ReceiptError("'call' is not an object")
  return {
    request: v.request,
    tokens: tokens as number[],
    receipt: v.receipt as SignedReceipt,
    call: call as unknown as CallProof,
  }
}

/**
 * The checks of a bundle that need no model and no chain: the receipt is signed by its
 * minerHotkey, commits to this request and these tokens, names the expected chain, subnet and
 * contract when given, and answers this call (the caller's signature over this request to this
 * miner, with the receipt's nonce). Throws a ReceiptError naming what failed.
 */
export async function verifyBundle(
  bundle: ReceiptBundle,
  expect: { chainId?: number; netuid?: number; verifyingContract?: Address } = {},
): Promise<void> {
  await verifyReceipt(bundle.receipt, {
    request: bundle.request,
    tokens: bundle.tokens,
    call: bundle.call,
    ...expect,
  })
  try {
    await verifyCallProof(bundle.call, bundle.request)
  } catch (error) {
    throw new ReceiptError(
      `the call is not signed by its caller: ${error instanceof BaseError ? error.shortMessage : String(error)}`,
    )
  }
}
