import { zeroAddress } from 'viem'
import { type LocalAccount, privateKeyToAccount } from 'viem/accounts'
import { NodeError } from '../errors/node.ts'
import { defaultModelBytes } from '../runtime/model/default.ts'
import { loadModel, type Model } from '../runtime/model/load.ts'
import type {
  Address,
  Hex,
  InferenceEvent,
  InferenceRequest,
  MinerClient,
} from '../types/inference.ts'
import { callProof, signRequest } from '../verify/call.ts'
import { assertPromptTokens, type PromptRenderer, promptRenderer } from '../verify/prompt/render.ts'
import { signReceipt } from '../verify/receipt.ts'
import { outputHash, requestHash } from '../verify/request.ts'
import { LocalMiner } from './local-miner.ts'

/** Anvil's well-known development keys (never for real funds). */
export const DEV_KEYS: Hex[] = [
  '0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d',
  '0x5de4111afa1a4b94908f83103eb1f1706367c2e68ca870fc3fb9a804cdab365a',
  '0x7c852118294e51e653712a81e05800f419141751be58f605c371e15141b007a6',
  '0x47e179ec197488593b187f80a00eb0da91f1b9d0b24be8d7e8c6f6a34e4c7bd7',
]

let model: Model | undefined
/** The default model, loaded once per test process. */
export function testModel(): Model {
  model ??= loadModel(defaultModelBytes())
  return model
}

export function testMiner(i = 0, options: { peerId?: string } = {}): LocalMiner {
  return new LocalMiner({
    model: testModel(),
    account: privateKeyToAccount(DEV_KEYS[i]!),
    ...options,
  })
}

/** A miner that delegates to another one but fails after `failAfter` tokens (0 = before any). */
export class FlakyMiner implements MinerClient {
  readonly hotkey: Address
  calls = 0
  constructor(
    private readonly inner: MinerClient,
    private readonly failAfter: number,
    hotkey?: Address,
  ) {
    this.hotkey = hotkey ?? inner.hotkey
  }
  async *infer(
    request: InferenceRequest,
    options: { signal?: AbortSignal } = {},
  ): AsyncGenerator<InferenceEvent> {
    this.calls++
    let n = 0
    for await (const e of this.inner.infer(request, options)) {
      if (n >= this.failAfter) throw new NodeError('miner connection reset (test)')
      if (e.type === 'token') n++
      yield e
    }
  }
}

/** A miner that never answers until aborted. */
export class HangingMiner implements MinerClient {
  readonly hotkey: Address
  aborted = 0
  constructor(hotkey: Address) {
    this.hotkey = hotkey
  }
  async *infer(
    _request: InferenceRequest,
    options: { signal?: AbortSignal } = {},
  ): AsyncGenerator<InferenceEvent> {
    await new Promise<void>((_, reject) => {
      options.signal?.addEventListener('abort', () => {
        this.aborted++
        reject(new NodeError('aborted'))
      })
    })
  }
}

/** A miner that answers with other tokens than an honest one (for mismatch detection). */
export class LyingMiner implements MinerClient {
  readonly hotkey: Address
  constructor(
    private readonly inner: MinerClient,
    hotkey: Address,
  ) {
    this.hotkey = hotkey
  }
  async *infer(
    request: InferenceRequest,
    options: { signal?: AbortSignal } = {},
  ): AsyncGenerator<InferenceEvent> {
    for await (const e of this.inner.infer(request, options)) {
      if (e.type === 'token') yield { ...e, token: (e.token + 1) % 512 }
      else yield { ...e, tokens: e.tokens.map((t) => (t + 1) % 512) }
    }
  }
}

/**
 * A miner that answers every request with the tokens of a fixed text, then its end-of-turn token,
 * whatever the model would say: for tests of how an answer is read (the tiny test model writes
 * word salad, never a tool call). It checks the prompt like an honest miner and signs a receipt
 * that is honest about the request and the tokens, but its trace commits to nothing (traceRoot
 * zero), so re-execution or a dispute would catch it; signature, binding and text checks pass.
 */
export class ScriptedMiner implements MinerClient {
  readonly hotkey: Address
  private readonly renderer: PromptRenderer
  private readonly caller = privateKeyToAccount(DEV_KEYS[3]!)
  constructor(
    model: Model,
    private readonly account: LocalAccount,
    private readonly text: string,
  ) {
    this.hotkey = account.address
    this.renderer = promptRenderer(model.metadata)
  }
  async *infer(
    request: InferenceRequest,
    options: { signal?: AbortSignal } = {},
  ): AsyncGenerator<InferenceEvent> {
    options.signal?.throwIfAborted()
    assertPromptTokens(this.renderer, request)
    const { tokenizer } = this.renderer
    const tokens = [...tokenizer.encode(this.text, { addBos: false, addEos: false })]
    if (tokenizer.eosId !== undefined) tokens.push(tokenizer.eosId)
    const call = await signRequest(this.caller, request, { miner: this.hotkey })
    for (const [index, token] of tokens.entries()) yield { type: 'token', index, token }
    const receipt = await signReceipt(this.account, {
      chainId: 31337,
      netuid: 1,
      modelRoot: request.modelRoot,
      requestHash: requestHash(request),
      outputHash: outputHash(tokens),
      traceRoot: `0x${'00'.repeat(32)}`,
      traceLeaves: 1,
      minerHotkey: this.hotkey,
      issuedBlock: 0,
      validUntilBlock: 7200,
      nonce: call.nonce,
      verifyingContract: zeroAddress,
    })
    yield { type: 'done', tokens, finishReason: 'stop', receipt, call: callProof(call) }
  }
}
