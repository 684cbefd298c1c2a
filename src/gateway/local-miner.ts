import { zeroAddress } from 'viem'
import type { LocalAccount } from 'viem/accounts'
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts'
import { type LoadModelOptions, loadModel, type Model } from '../runtime/model/load.ts'
import type { Tokenizer } from '../runtime/tokenizer/index.ts'
import type {
  Address,
  Hex,
  InferenceEvent,
  InferenceRequest,
  MinerClient,
} from '../types/inference.ts'
import { type Answer, answerCall, type ReceiptSigner } from '../verify/answer.ts'
import { callProof, signRequest } from '../verify/call.ts'
import { type PromptRenderer, promptRenderer } from '../verify/prompt/render.ts'
import { describeLoadedModel, type ServedModel } from './model.ts'

export type LocalMinerOptions = {
  model: Model
  /** The miner's hotkey: signs every receipt. */
  account: LocalAccount
  chainId?: number
  netuid?: number
  /** The Verity contract receipts name (default: the zero address, no chain). */
  verifyingContract?: Address
  /** The chain's latest block as the miner knows it (default 0). */
  blockNumber?: () => number
  /** Blocks a receipt stays disputable after it is issued (default 7200). */
  disputeWindowBlocks?: number
  /** The key that signs each call to this miner, as a gateway would (default: a fresh random key). */
  caller?: LocalAccount
  peerId?: string
}

/**
 * An in-process miner: the deterministic runtime plus a hotkey that signs receipts. Each request
 * is signed as a call by `caller` (what a gateway does over libp2p), then answered exactly as a
 * libp2p miner does (src/verify `answerCall`): the prompt checked against its source, tokens
 * streamed as they are made, the receipt bound to the call's nonce.
 *
 * @example
 * const miner = LocalMiner.fromBytes(defaultModelBytes(), { privateKey: '0x…' })
 * for await (const event of miner.infer(request)) …
 */
export class LocalMiner implements MinerClient {
  readonly hotkey: Address
  readonly peerId?: string
  readonly model: Model
  readonly tokenizer: Tokenizer
  readonly renderer: PromptRenderer
  private readonly caller: LocalAccount
  private readonly signer: ReceiptSigner

  constructor(options: LocalMinerOptions) {
    this.model = options.model
    this.renderer = promptRenderer(options.model.metadata)
    this.tokenizer = this.renderer.tokenizer
    this.hotkey = options.account.address
    if (options.peerId !== undefined) this.peerId = options.peerId
    this.caller = options.caller ?? privateKeyToAccount(generatePrivateKey())
    this.signer = {
      hotkey: options.account,
      chainId: options.chainId ?? 31337,
      netuid: options.netuid ?? 1,
      verifyingContract: options.verifyingContract ?? zeroAddress,
      blockNumber: options.blockNumber ?? (() => 0),
      disputeWindowBlocks: options.disputeWindowBlocks ?? 7200,
    }
  }

  /** Loads a GGUF model and makes a miner with the given hotkey. */
  static fromBytes(
    bytes: Uint8Array,
    options: Omit<LocalMinerOptions, 'model' | 'account'> & {
      privateKey: Hex
      load?: LoadModelOptions
    },
  ): LocalMiner {
    const { privateKey, load, ...rest } = options
    return new LocalMiner({
      ...rest,
      model: loadModel(bytes, load),
      account: privateKeyToAccount(privateKey),
    })
  }

  /** The model as the gateway describes it (tokenizer, template, stop tokens). */
  describe(options: { id?: string } = {}): ServedModel {
    return describeLoadedModel(this.model, options)
  }

  async *infer(
    request: InferenceRequest,
    options: { signal?: AbortSignal } = {},
  ): AsyncGenerator<InferenceEvent> {
    const { signal } = options
    signal?.throwIfAborted()
    const call = await signRequest(this.caller, request, { miner: this.hotkey })
    // The answer runs in the background and hands each token over as it is made; the generator
    // yields them in order, and a consumer that stops early aborts the run.
    const queue: number[] = []
    let wake: (() => void) | undefined
    const controller = new AbortController()
    const onAbort = () => controller.abort(signal?.reason)
    signal?.addEventListener('abort', onAbort, { once: true })
    let answer: Answer | undefined
    let failure: unknown
    let settled = false
    const run = answerCall(
      { model: this.model, tokenizer: this.tokenizer, renderer: this.renderer },
      this.signer,
      call,
      {
        signal: controller.signal,
        onToken: (token) => {
          queue.push(token)
          wake?.()
        },
      },
    ).then(
      (a) => {
        answer = a
      },
      (error) => {
        failure = error
      },
    )
    const done = run.finally(() => {
      settled = true
      wake?.()
    })
    try {
      let index = 0
      for (;;) {
        while (index < queue.length) yield { type: 'token', index, token: queue[index++]! }
        if (settled) break
        await new Promise<void>((resolve) => {
          wake = resolve
        })
        wake = undefined
      }
      while (index < queue.length) yield { type: 'token', index, token: queue[index++]! }
      if (failure !== undefined) throw failure
      signal?.throwIfAborted()
      const { tokens, finishReason, receipt, logprobs } = answer!
      yield {
        type: 'done',
        tokens,
        finishReason,
        receipt,
        call: callProof(call),
        ...(logprobs ? { logprobs } : {}),
      }
    } finally {
      signal?.removeEventListener('abort', onAbort)
      if (!settled) controller.abort(new Error('the consumer stopped reading'))
      await done
    }
  }
}
