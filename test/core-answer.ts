import { toHex } from 'viem'
import type { HDAccount } from 'viem/accounts'
import type { Devnet } from '../src/chain/devnet.ts'
import { generate } from '../src/runtime/generate.ts'
import type { Model } from '../src/runtime/model/load.ts'
import { samplingParams } from '../src/runtime/sampler/sample.ts'
import type { TraceFault } from '../src/runtime/trace/ops.ts'
import type { InferenceRequest, SignedReceipt } from '../src/types/inference.ts'
import { signReceipt } from '../src/verify/receipt.ts'
import { outputHash, requestHash } from '../src/verify/request.ts'

/**
 * Answers signed outside any node, for tests of the dispute game on the devnet's real core: a
 * short greedy completion request, and a miner's run of it (with `fault`, a cheater's) under a
 * receipt the core's EIP-712 domain accepts.
 */

/** A 3-token greedy completion of a 4-token prompt. */
export function completionRequest(model: Model): InferenceRequest {
  return {
    modelRoot: toHex(model.modelRoot),
    prompt: { kind: 'text', text: 'the cat' },
    promptTokens: [1, 40, 41, 42],
    maxTokens: 3,
    params: samplingParams({}),
    seed: 7,
    stopTokens: [],
    stop: [],
  }
}

/** `miner`'s run of `request` and the receipt it signs, disputable for `validity` blocks. */
export async function signedCoreAnswer(args: {
  devnet: Devnet
  netuid: number
  model: Model
  miner: HDAccount
  request: InferenceRequest
  validity: number
  fault?: TraceFault
}): Promise<{ receipt: SignedReceipt; tokens: number[] }> {
  const { devnet, model, request } = args
  const run = generate(
    model,
    {
      promptTokens: request.promptTokens,
      maxTokens: request.maxTokens,
      params: request.params,
      seed: request.seed,
    },
    args.fault ? { fault: args.fault } : {},
  )
  const block = Number(await devnet.publicClient.getBlockNumber())
  const receipt = await signReceipt(args.miner, {
    chainId: devnet.chain.id,
    netuid: args.netuid,
    modelRoot: toHex(model.modelRoot),
    requestHash: requestHash(request),
    outputHash: outputHash(run.tokens),
    traceRoot: toHex(run.traceRoot!),
    traceLeaves: run.traceLeafCount!,
    minerHotkey: args.miner.address,
    issuedBlock: block,
    validUntilBlock: block + args.validity,
    nonce: toHex(crypto.getRandomValues(new Uint8Array(32))),
    verifyingContract: devnet.addresses.verity,
  })
  return { receipt, tokens: run.tokens }
}
