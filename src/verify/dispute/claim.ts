import { type Hex, toHex } from 'viem'
import { generate } from '../../runtime/generate.ts'
import type { Model } from '../../runtime/model/load.ts'
import type { InferenceRequest, Receipt } from '../../types/inference.ts'
import { disputeRequest } from './open.ts'

/**
 * What a challenger can claim against a receipt, from its own honest run of the request over the
 * receipt's tokens (the run the game bisects): its traceRoot when the roots differ; else the
 * first output token the trace did not sample; else nothing (the run agrees).
 */
export type DisputeClaim =
  | { kind: 'traceRoot'; claimedRoot: Hex; why: string }
  | { kind: 'output'; outputIndex: number; why: string }

export function disputeClaim(
  model: Model,
  request: InferenceRequest,
  tokens: readonly number[],
  receipt: Pick<Receipt, 'traceRoot'>,
): DisputeClaim | undefined {
  const honest = generate(model, disputeRequest(request, tokens))
  const root = toHex(honest.traceRoot!)
  if (root !== receipt.traceRoot.toLowerCase())
    return {
      kind: 'traceRoot',
      claimedRoot: root,
      why: `traceRoot: the receipt commits to ${receipt.traceRoot}, an honest run of its request over its ${tokens.length} tokens gives ${root}`,
    }
  const k = tokens.findIndex((t, i) => t !== honest.tokens[i])
  if (k === -1) return undefined
  return {
    kind: 'output',
    outputIndex: k,
    why: `output token ${k}: the receipt signs ${tokens[k]}, its own trace samples ${honest.tokens[k]}`,
  }
}
