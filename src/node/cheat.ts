import { sha256 } from '@noble/hashes/sha2.js'
import type { ModelConfig } from '../runtime/model/config.ts'
import { LAYER_OPS, type TraceFault } from '../runtime/trace/ops.ts'
import { opLength } from '../runtime/trace/schedule.ts'
import type { Address, InferenceRequest } from '../types/inference.ts'
import type { NeuronView } from './subnet-view.ts'

/**
 * Cheating miners for devnets and tests of the validators: they serve made-up output (the request
 * run with another seed) and sign receipts consistent with it.
 * - `always`: every answer is made up.
 * - `selective`: an answer is made up whenever the miner judges the call not to come from a
 *   validator, using every feature a miner can observe (`judgeCall`). It shows what a rational
 *   cheater would dodge: checks that can be told apart from user traffic are worth nothing.
 * - `subtle`: every answer is computed honestly but for one element of one op output, deep in
 *   the forward pass (`subtleFault`), and the receipt's trace commits to the wrong value: a miner
 *   whose kernel is slightly off, or who saves work somewhere. The tokens may or may not change;
 *   only a dispute game down to that element shows who is right.
 */
export type CheatMode = 'always' | 'selective' | 'subtle'
export const CHEAT_MODES: readonly CheatMode[] = ['always', 'selective', 'subtle']

/** What a miner can observe about one call. */
export type CallFeatures = {
  caller: Address
  /** The caller's uid on the subnet, when registered (stake, permit, published node). */
  callerNeuron: NeuronView | undefined
  request: InferenceRequest
  /** Date.now() when the call arrived, and when the miner saw the current epoch begin. */
  receivedAt: number
  epochSeenAt: number
}

/** Openers of the fixed grammar validators once drew their synthetic prompts from. */
const SYNTHETIC_OPENERS = [
  'Once upon a time',
  'In the beginning',
  'Tell me a story:',
  'Question: why',
  'Yesterday',
  'Long ago',
  'And so',
  'Write a line about',
]

/**
 * A cheater's guess that a call comes from a validator (then it answers honestly), with the
 * feature that gave it away. Features, in order:
 * 1. the caller's on-chain role: a hotkey with stake (validators stake to set weights);
 * 2. an unregistered, fresh caller key: a validator hiding its hotkey;
 * 3. prompt shape: token ids with no messages or text, or text from the old synthetic grammar;
 * 4. lengths: 4 to 16 new tokens, the old synthetic range;
 * 5. timing: within 3 s of a new epoch, when validators used to run their rounds.
 * A gateway's traffic carries the gateway's key for users and validators alike, so only the
 * request itself and its timing are left to judge by; and validators also re-execute a secret
 * sample of the users' answers, which no feature of a call can predict.
 */
export function judgeCall(f: CallFeatures): { validator: boolean; feature: string } {
  const n = f.callerNeuron
  if (n && n.stake > 0n) return { validator: true, feature: 'caller role' }
  if (!n) return { validator: true, feature: 'fresh caller key' }
  const { prompt } = f.request
  if (prompt === undefined) return { validator: true, feature: 'token prompt' }
  const text =
    prompt.kind === 'text' ? prompt.text : prompt.messages.map((m) => m.content).join('\n')
  if (SYNTHETIC_OPENERS.some((o) => text.startsWith(o)))
    return { validator: true, feature: 'synthetic grammar' }
  if (f.request.maxTokens >= 4 && f.request.maxTokens <= 16)
    return { validator: true, feature: 'synthetic length' }
  if (f.receivedAt - f.epochSeenAt < 3000) return { validator: true, feature: 'epoch timing' }
  return { validator: false, feature: 'looks like a user' }
}

/** The made-up answer a cheater computes instead of the request: the same request, another seed. */
export function madeUp(request: InferenceRequest): { request: InferenceRequest } {
  return { request: { ...request, seed: request.seed + 1 } }
}

/**
 * A subtle cheater's one wrong value for a request: at the last prompt position (always run, and
 * the one whose logits choose the first token), in a layer before the last, an op kind and an
 * element drawn from the request's hash, the value raised by 1.0 (2^16 in Q16) so it is not
 * rounded away; the later layers' K and V, which the checkpoint commits to, carry it.
 */
export function subtleFault(config: ModelConfig, request: InferenceRequest): TraceFault {
  const h = sha256(new TextEncoder().encode(JSON.stringify([request.promptTokens, request.seed])))
  const pick = (i: number, n: number) => ((h[i]! << 8) | h[i + 1]!) % n
  const pos = request.promptTokens.length - 1
  // Not the last layer: there, ops after k and v reach the checkpoint only through the sampled
  // token, and a changed value that samples the same token is no lie anyone signed.
  const layer = pick(0, Math.max(1, config.nLayers - 1))
  // Ops of a layer whose outputs later ops read: attn_norm .. resid_ffn (kinds 1..17).
  const kind = 1 + pick(2, LAYER_OPS)
  const element = pick(4, opLength(config, pos, kind))
  return { pos, layer, kind, element, delta: 1 << 16 }
}
