import type { Handler } from 'hono'
import { BaseError } from '../../errors/base.ts'
import { InvalidRequestError, NotImplementedError } from '../../errors/gateway.ts'
import { parseReceiptBundle, type ReceiptBundle, verifyBundle } from '../../verify/bundle.ts'
import { parseJsonBody } from '../params.ts'
import type { GatewayState } from '../state.ts'

/**
 * POST /v1/verity/receipts: a client hands in an answer it got (a saved response with its `verity`
 * field, or the bundle itself) for validators to check. The bundle must verify (the miner's
 * signature over this request and these tokens, answering a signed call); the gateway then shares
 * it with the validators. 202 `{ accepted: true, requestHash, nonce }`; 400 names what is wrong.
 */
export function submitReceipt(state: GatewayState): Handler {
  return async (c) => {
    if (!state.submitBundle)
      throw new NotImplementedError('this gateway does not forward receipts to validators')
    const body = parseJsonBody(await c.req.text())
    let bundle: ReceiptBundle
    try {
      bundle = parseReceiptBundle(body)
      await verifyBundle(bundle)
    } catch (error) {
      throw new InvalidRequestError(
        `not a verifiable answer: ${error instanceof BaseError ? error.shortMessage : String(error)}`,
        { code: 'invalid_receipt' },
      )
    }
    await state.submitBundle(bundle)
    return c.json(
      { accepted: true, requestHash: bundle.receipt.requestHash, nonce: bundle.receipt.nonce },
      202,
    )
  }
}
