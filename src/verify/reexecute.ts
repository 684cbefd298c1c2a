import type { Model } from '../runtime/model/load.ts'
import type { Tokenizer } from '../runtime/tokenizer/index.ts'
import type { InferenceRequest, Receipt } from '../types/inference.ts'
import { type ExecuteResult, executeRequest, executeRequestAsync } from './execute.ts'
import { requestHash } from './request.ts'

export type ReexecuteResult = {
  /** True when every committed field was reproduced bit for bit. */
  ok: boolean
  /** One line per field that differs ('modelRoot', 'requestHash', 'outputHash', ...). */
  mismatches: string[]
  /** The local run (absent when the request could not be run at all). */
  local?: ExecuteResult
}

function precheck(request: InferenceRequest, receipt: Receipt): string[] {
  const mismatches: string[] = []
  if (requestHash(request) !== receipt.requestHash.toLowerCase())
    mismatches.push('requestHash: the receipt is for another request')
  if (request.modelRoot.toLowerCase() !== receipt.modelRoot.toLowerCase())
    mismatches.push('modelRoot: the receipt names another model than the request')
  return mismatches
}

function compare(local: ExecuteResult, receipt: Receipt): ReexecuteResult {
  const mismatches: string[] = []
  if (local.outputHash !== receipt.outputHash.toLowerCase())
    mismatches.push(`outputHash: local ${local.outputHash}, receipt ${receipt.outputHash}`)
  if (local.traceRoot !== receipt.traceRoot.toLowerCase())
    mismatches.push(`traceRoot: local ${local.traceRoot}, receipt ${receipt.traceRoot}`)
  if (local.traceLeaves !== receipt.traceLeaves)
    mismatches.push(`traceLeaves: local ${local.traceLeaves}, receipt ${receipt.traceLeaves}`)
  return { ok: mismatches.length === 0, mismatches, local }
}

const cannotRun = (error: unknown): ReexecuteResult => ({
  ok: false,
  mismatches: [
    `request cannot be run: ${error instanceof Error ? error.message.split('\n')[0] : String(error)}`,
  ],
})

/**
 * Re-runs the request locally and compares what the receipt commits to: requestHash, modelRoot,
 * outputHash, traceRoot and the trace length. Does not check the signature (see verifyReceipt).
 */
export function reexecuteReceipt(
  model: Model,
  tokenizer: Tokenizer,
  request: InferenceRequest,
  receipt: Receipt,
  options: { signal?: AbortSignal } = {},
): ReexecuteResult {
  const mismatches = precheck(request, receipt)
  if (mismatches.length > 0) return { ok: false, mismatches }
  try {
    return compare(executeRequest(model, tokenizer, request, options), receipt)
  } catch (error) {
    options.signal?.throwIfAborted()
    return cannotRun(error)
  }
}

/**
 * reexecuteReceipt pausing on the event loop between tokens (nodes that keep serving meanwhile;
 * a page that draws its progress from `onToken`).
 */
export async function reexecuteReceiptAsync(
  model: Model,
  tokenizer: Tokenizer,
  request: InferenceRequest,
  receipt: Receipt,
  options: { signal?: AbortSignal; onToken?: (token: number, index: number) => void } = {},
): Promise<ReexecuteResult> {
  const mismatches = precheck(request, receipt)
  if (mismatches.length > 0) return { ok: false, mismatches }
  try {
    return compare(await executeRequestAsync(model, tokenizer, request, options), receipt)
  } catch (error) {
    options.signal?.throwIfAborted()
    return cannotRun(error)
  }
}
