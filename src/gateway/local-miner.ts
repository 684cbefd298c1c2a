import type { LocalAccount } from 'viem/accounts'
import { privateKeyToAccount } from 'viem/accounts'
import { type LoadModelOptions, loadModel, type Model } from '../runtime/model/load.ts'
import { type Tokenizer, tokenizerFromGguf } from '../runtime/tokenizer/index.ts'
import type {
  Address,
  Hex,
  InferenceEvent,
  InferenceRequest,
  MinerClient,
  Receipt,
  SignedReceipt,
} from '../types/inference.ts'
import { type ExecuteResult, executeSteps } from '../verify/execute.ts'
import { signReceipt } from '../verify/receipt.ts'
import { requestHash } from '../verify/request.ts'
import { describeLoadedModel, type ServedModel } from './model.ts'

export type LocalMinerOptions = {
  model: Model
  /** The miner's hotkey: signs every receipt. */
  account: LocalAccount
  chainId?: number
  netuid?: number
  /** Last block a receipt may be disputed in; a function is asked per receipt (default 0). */
  validUntilBlock?: number | (() => number)
  peerId?: string
  /** Replaces the receipt signer (default: src/verify `signReceipt`, EIP-712). */
  sign?: (account: LocalAccount, receipt: Receipt) => Promise<SignedReceipt>
}

function randomNonce(): Hex {
  const bytes = crypto.getRandomValues(new Uint8Array(32))
  return `0x${Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('')}`
}

/**
 * An in-process miner: the deterministic runtime plus a hotkey that signs receipts. Generation runs
 * on the caller's thread one token at a time (src/verify `executeSteps`, the same code validators
 * re-execute), each token streamed as it is made; the signed receipt closes the stream.
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
  private readonly account: LocalAccount
  private readonly chainId: number
  private readonly netuid: number
  private readonly validUntilBlock: number | (() => number)
  private readonly sign: (account: LocalAccount, receipt: Receipt) => Promise<SignedReceipt>

  constructor(options: LocalMinerOptions) {
    this.model = options.model
    this.tokenizer = tokenizerFromGguf(options.model.metadata)
    this.account = options.account
    this.hotkey = options.account.address
    if (options.peerId !== undefined) this.peerId = options.peerId
    this.chainId = options.chainId ?? 31337
    this.netuid = options.netuid ?? 1
    this.validUntilBlock = options.validUntilBlock ?? 0
    this.sign = options.sign ?? signReceipt
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
  describe(options: { id?: string; chatTemplate?: string } = {}): ServedModel {
    return describeLoadedModel(this.model, options)
  }

  async *infer(
    request: InferenceRequest,
    options: { signal?: AbortSignal } = {},
  ): AsyncGenerator<InferenceEvent> {
    const { signal } = options
    signal?.throwIfAborted()
    // One token per step, with a pause on the event loop after each, so the stream flows as the
    // tokens are made and other requests are served meanwhile.
    const steps = executeSteps(this.model, this.tokenizer, request, signal ? { signal } : {})
    let result: ExecuteResult | undefined
    for (let index = 0; result === undefined; index++) {
      const step = steps.next()
      if (step.done) {
        result = step.value
        break
      }
      yield { type: 'token', index, token: step.value }
      await new Promise((resolve) => setImmediate(resolve))
      signal?.throwIfAborted()
    }
    const valid = this.validUntilBlock
    const receipt = await this.sign(this.account, {
      chainId: this.chainId,
      netuid: this.netuid,
      modelRoot: request.modelRoot,
      requestHash: requestHash(request),
      outputHash: result.outputHash,
      traceRoot: result.traceRoot,
      traceLeaves: result.traceLeaves,
      minerHotkey: this.hotkey,
      validUntilBlock: typeof valid === 'function' ? valid() : valid,
      nonce: randomNonce(),
    })
    signal?.throwIfAborted()
    yield { type: 'done', tokens: result.tokens, finishReason: result.finishReason, receipt }
  }
}
