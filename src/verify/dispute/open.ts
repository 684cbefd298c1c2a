import { concatBytes } from '@noble/hashes/utils.js'
import { type Hex, toHex } from 'viem'
import type { OpenParamsArg, ReceiptArg } from '../../chain/actions/openDispute.ts'
import { NO_OUTPUT_CLAIM } from '../../chain/dispute.ts'
import type { GenerateRequest } from '../../runtime/generate.ts'
import { configBytes } from '../../runtime/model/config.ts'
import type { Model } from '../../runtime/model/load.ts'
import { openWeightLeaf } from '../../runtime/trace/open.ts'
import type { InferenceRequest, Receipt, SignedReceipt } from '../../types/inference.ts'
import { encodeRequest } from '../request.ts'
import { compactFromFull } from './openings.ts'
import { hexes } from './proofs.ts'

/**
 * What opening a dispute takes, built from what a challenger holds: the signed receipt, the
 * request it answers, the output tokens and the model.
 */

/** The receipt as the game takes it. */
export function receiptArg(r: Receipt): ReceiptArg {
  return {
    chainId: BigInt(r.chainId),
    netuid: r.netuid,
    modelRoot: r.modelRoot,
    requestHash: r.requestHash,
    outputHash: r.outputHash,
    traceRoot: r.traceRoot,
    traceLeaves: BigInt(r.traceLeaves),
    minerHotkey: r.minerHotkey,
    issuedBlock: BigInt(r.issuedBlock),
    validUntilBlock: BigInt(r.validUntilBlock),
    nonce: r.nonce,
  }
}

/** Output tokens as the receipt's outputHash hashes them: big-endian uint32 each. */
export function tokenBytes(tokens: readonly number[]): Hex {
  const out = new Uint8Array(4 * tokens.length)
  const view = new DataView(out.buffer)
  tokens.forEach((t, i) => {
    view.setUint32(4 * i, t)
  })
  return toHex(out)
}

/** The config leaf of modelRoot (leaf 0): the config bytes, tokenizer digest and compact proof. */
export function configOpening(model: Model): {
  config: Hex
  tokenizerDigest: Hex
  configProof: Hex[]
} {
  const config = configBytes(model.config)
  const o = openWeightLeaf(model, 0, concatBytes(config, model.tokenizerDigest))
  return {
    config: toHex(config),
    tokenizerDigest: toHex(model.tokenizerDigest),
    configProof: hexes(compactFromFull(o.proof, 0, o.leafCount)),
  }
}

/**
 * Opens over `receipt`: claiming the challenger's traceRoot `claimedRoot`, or (with
 * `outputIndex`) that output token k is not the one the miner's trace sampled.
 *
 * @example
 * const open = openParams({ receipt, request, tokens, model, claimedRoot: toHex(mine.traceRoot) })
 */
export function openParams(args: {
  receipt: SignedReceipt
  request: InferenceRequest
  tokens: readonly number[]
  model: Model
  claimedRoot?: Hex
  outputIndex?: number
}): OpenParamsArg {
  return {
    receipt: receiptArg(args.receipt),
    signature: args.receipt.signature,
    request: toHex(encodeRequest(args.request)),
    tokens: tokenBytes(args.tokens),
    ...configOpening(args.model),
    claimedRoot: args.claimedRoot ?? `0x${'00'.repeat(32)}`,
    outputIndex: args.outputIndex === undefined ? NO_OUTPUT_CLAIM : BigInt(args.outputIndex),
  }
}

/** The run a dispute is about, as the runtime replays it: the receipt covers `tokens`. */
export function disputeRequest(
  request: InferenceRequest,
  tokens: readonly number[],
): GenerateRequest & { outputTokens: readonly number[] } {
  return {
    promptTokens: request.promptTokens,
    maxTokens: tokens.length,
    params: request.params,
    seed: request.seed,
    outputTokens: tokens,
  }
}
