import { ReceiptError } from '../errors/node.ts'
import type { Model } from '../runtime/model/load.ts'
import type { Tokenizer } from '../runtime/tokenizer/index.ts'
import type { Hex } from '../types/inference.ts'
import { parseReceiptBundle, type ReceiptBundle, verifyBundle } from './bundle.ts'
import { reexecuteReceiptAsync } from './reexecute.ts'

/**
 * Evidence that a miner lied, and nothing else: its own signed receipt, the request and tokens
 * it commits to and the call it answered (a bundle that verifies), plus what an honest run of
 * that request gives and the fields that differ. Anyone holding the model re-checks it with
 * `verifyEvidence`; a third party's word without the miner's signature never counts.
 */
export type Evidence = {
  bundle: ReceiptBundle
  /** The honest run: what the receipt should have committed to. */
  local: { tokens: number[]; outputHash: Hex; traceRoot: Hex; traceLeaves: number }
  mismatches: string[]
}

export type CheckResult = { ok: true } | { ok: false; evidence: Evidence }

/**
 * Re-executes a verified bundle's request bit for bit: `ok` when the receipt's outputHash,
 * traceRoot and trace length are reproduced and the tokens are the honest run's; otherwise the
 * evidence. The bundle must already verify (`verifyBundle`): that is what makes it evidence.
 */
export async function checkAnswer(
  model: Model,
  tokenizer: Tokenizer,
  bundle: ReceiptBundle,
  options: { signal?: AbortSignal } = {},
): Promise<CheckResult> {
  const result = await reexecuteReceiptAsync(
    model,
    tokenizer,
    bundle.request,
    bundle.receipt,
    options,
  )
  const mismatches = [...result.mismatches]
  if (result.local && result.local.tokens.join(',') !== bundle.tokens.join(','))
    mismatches.push('tokens: the tokens the miner signed differ from an honest run')
  if (mismatches.length === 0) return { ok: true }
  const local = result.local
  return {
    ok: false,
    evidence: {
      bundle,
      local: local
        ? {
            tokens: local.tokens,
            outputHash: local.outputHash,
            traceRoot: local.traceRoot,
            traceLeaves: local.traceLeaves,
          }
        : {
            tokens: [],
            outputHash: `0x${'00'.repeat(32)}`,
            traceRoot: `0x${'00'.repeat(32)}`,
            traceLeaves: 0,
          },
      mismatches,
    },
  }
}

/**
 * Re-checks evidence from anyone: the bundle must verify (the miner's signature over this request
 * and these tokens, answering a signed call) and an honest re-execution must disagree with it.
 * Returns the verified evidence, or throws a ReceiptError saying why it is not evidence.
 */
export async function verifyEvidence(
  model: Model,
  tokenizer: Tokenizer,
  value: unknown,
  options: { signal?: AbortSignal } = {},
): Promise<Evidence> {
  const bundle = parseReceiptBundle((value as { bundle?: unknown } | null)?.bundle)
  await verifyBundle(bundle)
  const checked = await checkAnswer(model, tokenizer, bundle, options)
  if (checked.ok) throw new ReceiptError('not evidence: an honest run reproduces the receipt')
  return checked.evidence
}
