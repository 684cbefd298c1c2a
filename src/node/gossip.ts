import { createHmac } from 'node:crypto'
import type { Message } from '@libp2p/gossipsub'
import { TopicValidatorResult } from '@libp2p/gossipsub'
import type { PeerId } from '@libp2p/interface'
import { sha256 } from '@noble/hashes/sha2.js'
import { BaseError } from '../errors/base.ts'
import type { Address } from '../types/inference.ts'
import {
  MAX_BUNDLE_BYTES,
  parseReceiptBundle,
  type ReceiptBundle,
  verifyBundle,
} from '../verify/bundle.ts'
import type { Peer } from './peer.ts'
import type { SubnetView } from './subnet-view.ts'

/** The topic on which gateways (and clients, through a gateway) share receipt bundles. */
export const receiptTopic = (netuid: number) => `/verity/receipts/1/${netuid}`
/** The topic on which validators share evidence against miners. */
export const evidenceTopic = (netuid: number) => `/verity/evidence/1/${netuid}`

const encoder = new TextEncoder()
const decoder = new TextDecoder()

/** Publishes a receipt bundle for validators to sample. */
export async function publishBundle(
  peer: Peer,
  netuid: number,
  bundle: ReceiptBundle,
): Promise<void> {
  await peer.services.pubsub.publish(receiptTopic(netuid), encoder.encode(JSON.stringify(bundle)))
}

/** Decodes a gossiped JSON message; undefined when it is not JSON or too large. */
export function decodeJson(data: Uint8Array): unknown {
  if (data.length > MAX_BUNDLE_BYTES) return undefined
  try {
    return JSON.parse(decoder.decode(data))
  } catch {
    return undefined
  }
}

/** Gossipsub message ids by content: the same bundle published twice is one message. */
export function contentMessageId(message: { data: Uint8Array }): Uint8Array {
  return sha256(message.data)
}

/**
 * A per-sender token bucket: at most `rate` messages a second on average, bursts of `burst`.
 * Senders are forgotten once idle long enough to have a full bucket again.
 */
export class RateLimiter {
  private readonly buckets = new Map<string, { tokens: number; at: number }>()
  constructor(
    private readonly rate: number,
    private readonly burst: number,
    private readonly now: () => number = Date.now,
  ) {}

  take(key: string): boolean {
    const now = this.now()
    const b = this.buckets.get(key) ?? { tokens: this.burst, at: now }
    b.tokens = Math.min(this.burst, b.tokens + ((now - b.at) / 1000) * this.rate)
    b.at = now
    if (this.buckets.size > 10_000) this.sweep(now)
    if (b.tokens < 1) {
      this.buckets.set(key, b)
      return false
    }
    b.tokens -= 1
    this.buckets.set(key, b)
    return true
  }

  private sweep(now: number): void {
    const full = (this.burst / this.rate) * 1000
    for (const [k, b] of this.buckets) if (now - b.at > full) this.buckets.delete(k)
  }
}

export type BundleVerdict =
  | { ok: true; bundle: ReceiptBundle; uid: number }
  | { ok: false; result: TopicValidatorResult; reason: string }

/**
 * What a node accepts on the receipt topic: a complete bundle whose receipt is signed by the
 * hotkey of a registered uid of this subnet, for this chain and contract, committing to its
 * request and tokens, answering a call signed by its caller, and still disputable. Anything else
 * is rejected (gossipsub then lowers the sender's score and stops relaying for it); an expired
 * receipt or a miner this node does not know yet is ignored.
 */
export async function judgeBundle(
  data: unknown,
  expect: { chainId: number; netuid: number; verifyingContract: Address; view: SubnetView },
): Promise<BundleVerdict> {
  let bundle: ReceiptBundle
  try {
    bundle = parseReceiptBundle(data)
    await verifyBundle(bundle, {
      chainId: expect.chainId,
      netuid: expect.netuid,
      verifyingContract: expect.verifyingContract,
    })
  } catch (error) {
    return {
      ok: false,
      result: TopicValidatorResult.Reject,
      reason: error instanceof BaseError ? error.shortMessage : String(error),
    }
  }
  const neuron = expect.view.neuron(bundle.receipt.minerHotkey)
  if (!neuron)
    return {
      ok: false,
      result: TopicValidatorResult.Ignore,
      reason: `the signer ${bundle.receipt.minerHotkey} is not registered on subnet ${expect.netuid}`,
    }
  if (expect.view.block > bundle.receipt.validUntilBlock)
    return { ok: false, result: TopicValidatorResult.Ignore, reason: 'the receipt has expired' }
  return { ok: true, bundle, uid: neuron.uid }
}

/**
 * Installs a topic validator on the receipt topic: per-publisher rate limit (excess ignored),
 * then `judgeBundle`. Accepted bundles are handed to `onBundle` (the same message id is never
 * handed over twice). Returns the counters and an uninstall function.
 */
export function guardReceiptTopic(
  peer: Peer,
  options: {
    chainId: number
    netuid: number
    verifyingContract: Address
    view: SubnetView
    /** Messages a second per publisher (default 50, bursts of 200). */
    rate?: number
    onBundle: (bundle: ReceiptBundle, uid: number, from: PeerId | undefined) => void
    onReject?: (reason: string, from: PeerId) => void
  },
) {
  const pubsub = peer.services.pubsub
  const topic = receiptTopic(options.netuid)
  const limiter = new RateLimiter(options.rate ?? 50, 4 * (options.rate ?? 50))
  const counters = { accepted: 0, rejected: 0, ignored: 0, limited: 0 }
  const validate = async (from: PeerId, message: Message): Promise<TopicValidatorResult> => {
    const publisher = message.type === 'signed' ? message.from.toString() : from.toString()
    if (!limiter.take(publisher)) {
      counters.limited++
      return TopicValidatorResult.Ignore
    }
    const verdict = await judgeBundle(decodeJson(message.data), options)
    if (!verdict.ok) {
      if (verdict.result === TopicValidatorResult.Reject) {
        counters.rejected++
        options.onReject?.(verdict.reason, from)
      } else counters.ignored++
      return verdict.result
    }
    counters.accepted++
    options.onBundle(verdict.bundle, verdict.uid, message.type === 'signed' ? message.from : from)
    return TopicValidatorResult.Accept
  }
  pubsub.topicValidators.set(topic, validate)
  pubsub.subscribe(topic)
  return {
    counters,
    uninstall() {
      pubsub.topicValidators.delete(topic)
      pubsub.unsubscribe(topic)
    },
  }
}

/**
 * Whether a validator re-executes an answer: HMAC-SHA256 under the validator's secret key of
 * (requestHash, nonce), read as a number in [0, 1), below `rate`. No miner can predict it without
 * the key, whoever sent the request and however it looks; the same answer gossiped twice is
 * sampled (or not) once; different validators sample independently.
 */
export function secretSample(
  key: Uint8Array,
  bundle: Pick<ReceiptBundle, 'receipt'>,
  rate: number,
): boolean {
  const mac = createHmac('sha256', key)
    .update(bundle.receipt.requestHash)
    .update(bundle.receipt.nonce)
    .digest()
  return mac.readUInt32BE(0) / 2 ** 32 < rate
}

/**
 * Installs a topic validator on the evidence topic: only a node published on chain by a staked
 * hotkey (a validator) may publish, at most one message a second on average; the evidence's
 * bundle must verify like a gossiped one (`judgeBundle`). Accepted bundles go to `onBundle`,
 * which re-executes them before anything counts against the miner (evidence is self-proving).
 */
export function guardEvidenceTopic(
  peer: Peer,
  options: {
    chainId: number
    netuid: number
    verifyingContract: Address
    view: SubnetView
    onBundle: (bundle: ReceiptBundle, uid: number) => void
  },
) {
  const pubsub = peer.services.pubsub
  const topic = evidenceTopic(options.netuid)
  const limiter = new RateLimiter(1, 10)
  const validate = async (_from: PeerId, message: Message): Promise<TopicValidatorResult> => {
    if (message.type !== 'signed') return TopicValidatorResult.Reject
    const publisher = message.from.toString()
    const staked = options.view.neurons.some((n) => n.peerId === publisher && n.stake > 0n)
    if (!staked || !limiter.take(publisher)) return TopicValidatorResult.Ignore
    const evidence = decodeJson(message.data) as { bundle?: unknown } | undefined
    const verdict = await judgeBundle(evidence?.bundle, options)
    if (!verdict.ok) return verdict.result
    options.onBundle(verdict.bundle, verdict.uid)
    return TopicValidatorResult.Accept
  }
  pubsub.topicValidators.set(topic, validate)
  pubsub.subscribe(topic)
  return {
    uninstall() {
      pubsub.topicValidators.delete(topic)
      pubsub.unsubscribe(topic)
    },
  }
}
