import type { LocalAccount } from 'viem/accounts'
import { GenerationError } from '../errors/runtime.ts'
import type { Model } from '../runtime/model/load.ts'
import type { Tokenizer } from '../runtime/tokenizer/index.ts'
import { toHex } from '../runtime/trace/merkle.ts'
import type { TraceFault } from '../runtime/trace/ops.ts'
import type {
  Address,
  FinishReason,
  InferenceRequest,
  SignedReceipt,
  StepLogprobs,
} from '../types/inference.ts'
import type { SignedRequest } from './call.ts'
import { executeRequestAsync } from './execute.ts'
import { assertPromptTokens, type PromptRenderer } from './prompt/render.ts'
import { signReceipt } from './receipt.ts'
import { requestHash } from './request.ts'

/** Who signs a miner's receipts, and for which chain, subnet and contract. */
export type ReceiptSigner = {
  hotkey: LocalAccount
  chainId: number
  netuid: number
  /** The Verity contract (EIP-712 verifyingContract). */
  verifyingContract: Address
  /** The latest chain block the miner knows. */
  blockNumber: () => number
  /** Blocks a receipt stays disputable after it is issued (at least 1). */
  disputeWindowBlocks: number
}

export type Answer = {
  tokens: number[]
  finishReason: FinishReason
  receipt: SignedReceipt
  /** When the request asks for them: one per token. */
  logprobs?: StepLogprobs[]
}

/**
 * How a miner answers one signed call: the request must be for the served model and its prompt
 * tokens exactly the rendering of its prompt source (a miner never signs a receipt for a request
 * that contradicts itself); then the runtime runs it, streaming each token through `onToken`, and
 * the receipt commits to the request, the output, the trace, the call's nonce, the block the
 * miner saw and how long the answer stays disputable. `run` replaces the honest execution
 * (cheaters in devnets and tests: a made-up request, or a run with one value changed).
 */
export async function answerCall(
  served: { model: Model; tokenizer: Tokenizer; renderer: PromptRenderer },
  signer: ReceiptSigner,
  call: SignedRequest,
  options: {
    onToken?: (token: number, index: number) => void | Promise<void>
    signal?: AbortSignal
    /** A cheater's run instead of the honest one: another request, or one wrong value. */
    run?: (request: InferenceRequest) => { request: InferenceRequest; fault?: TraceFault }
  } = {},
): Promise<Answer> {
  const { model, tokenizer, renderer } = served
  const { request } = call
  const modelRoot = toHex(model.modelRoot)
  if (request.modelRoot.toLowerCase() !== modelRoot)
    throw new GenerationError('the request is for another model', {
      details: `request modelRoot ${request.modelRoot}, served ${modelRoot}`,
    })
  assertPromptTokens(renderer, request)
  const ran = options.run ? options.run(request) : { request }
  const result = await executeRequestAsync(model, tokenizer, ran.request, {
    ...(ran.fault ? { fault: ran.fault } : {}),
    ...(options.onToken ? { onToken: options.onToken } : {}),
    ...(options.signal ? { signal: options.signal } : {}),
  })
  const issuedBlock = signer.blockNumber()
  const receipt = await signReceipt(signer.hotkey, {
    chainId: signer.chainId,
    netuid: signer.netuid,
    modelRoot: request.modelRoot,
    requestHash: requestHash(request),
    outputHash: result.outputHash,
    traceRoot: result.traceRoot,
    traceLeaves: result.traceLeaves,
    minerHotkey: signer.hotkey.address,
    issuedBlock,
    validUntilBlock: issuedBlock + Math.max(1, signer.disputeWindowBlocks),
    nonce: call.nonce,
    verifyingContract: signer.verifyingContract,
  })
  return {
    tokens: result.tokens,
    finishReason: result.finishReason,
    receipt,
    ...(result.logprobs ? { logprobs: result.logprobs } : {}),
  }
}
