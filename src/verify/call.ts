import { type Address, bytesToHex, type Hex, isAddressEqual, recoverTypedDataAddress } from 'viem'
import type { LocalAccount } from 'viem/accounts'
import { RequestAuthError } from '../errors/node.ts'
import type { CallProof, InferenceRequest } from '../types/inference.ts'
import { assertRequest, requestHash } from './request.ts'

/**
 * A request as a caller sends it to one miner: signed by the caller over
 * (requestHash, miner, nonce, timestamp), as Bittensor's dendrite signs
 * `nonce.dendrite.axon.uuid.body_hash`. The miner rejects a reused nonce and a stale timestamp.
 */
export type SignedRequest = {
  request: InferenceRequest
  caller: Address
  /** The miner's hotkey: a call signed for one miner cannot be replayed to another. */
  miner: Address
  /** 32 fresh random bytes. */
  nonce: Hex
  /** Milliseconds since the epoch at signing. */
  timestamp: number
  signature: Hex
}

const CALL_DOMAIN = { name: 'Verity', version: '1' } as const
const CALL_TYPES = {
  InferenceCall: [
    { name: 'requestHash', type: 'bytes32' },
    { name: 'miner', type: 'address' },
    { name: 'nonce', type: 'bytes32' },
    { name: 'timestamp', type: 'uint64' },
  ],
} as const

/** The call without its request: what a response carries so anyone can check who asked. */
export function callProof(call: SignedRequest): CallProof {
  const { caller, miner, nonce, timestamp, signature } = call
  return { caller, miner, nonce, timestamp, signature }
}

/**
 * Checks that `proof` is the caller's signature over a call of `request` to `proof.miner`;
 * throws a RequestAuthError naming what failed.
 */
export async function verifyCallProof(
  proof: unknown,
  request: InferenceRequest,
): Promise<CallProof> {
  const call = await verifySignedRequest(
    { ...(typeof proof === 'object' && proof !== null ? proof : {}), request },
    { miner: (proof as { miner?: Address } | null)?.miner ?? '0x' },
  )
  return callProof(call)
}

/** Signs a request for `miner` with a fresh nonce and the current time. */
export async function signRequest(
  caller: LocalAccount,
  request: InferenceRequest,
  options: { miner: Address; nonce?: Hex; timestamp?: number },
): Promise<SignedRequest> {
  const nonce = options.nonce ?? bytesToHex(crypto.getRandomValues(new Uint8Array(32)))
  const timestamp = options.timestamp ?? Date.now()
  const signature = await caller.signTypedData({
    domain: CALL_DOMAIN,
    types: CALL_TYPES,
    primaryType: 'InferenceCall',
    message: {
      requestHash: requestHash(request),
      miner: options.miner,
      nonce,
      timestamp: BigInt(timestamp),
    },
  })
  return { request, caller: caller.address, miner: options.miner, nonce, timestamp, signature }
}

/**
 * Checks a signed request's shape and signature (the signer must be `caller`, the target
 * `miner`); freshness and replays are the ReplayGuard's job.
 */
export async function verifySignedRequest(
  value: unknown,
  options: { miner: Address },
): Promise<SignedRequest> {
  if (typeof value !== 'object' || value === null)
    throw new RequestAuthError('invalid call: not an object')
  const s = value as Record<string, unknown>
  assertRequest(s.request)
  if (typeof s.caller !== 'string' || !/^0x[0-9a-fA-F]{40}$/.test(s.caller))
    throw new RequestAuthError('invalid call: caller must be an address')
  if (typeof s.miner !== 'string' || !/^0x[0-9a-fA-F]{40}$/.test(s.miner))
    throw new RequestAuthError('invalid call: miner must be an address')
  if (typeof s.nonce !== 'string' || !/^0x[0-9a-fA-F]{64}$/.test(s.nonce))
    throw new RequestAuthError('invalid call: nonce must be 32 bytes of hex')
  if (typeof s.timestamp !== 'number' || !Number.isSafeInteger(s.timestamp) || s.timestamp < 0)
    throw new RequestAuthError('invalid call: timestamp must be a non-negative integer')
  if (typeof s.signature !== 'string' || !/^0x[0-9a-fA-F]+$/.test(s.signature))
    throw new RequestAuthError('invalid call: signature must be hex')
  const call = s as unknown as SignedRequest
  if (!isAddressEqual(call.miner, options.miner))
    throw new RequestAuthError('call is addressed to another miner', {
      details: `to ${call.miner}, this miner is ${options.miner}`,
    })
  let signer: Address
  try {
    signer = await recoverTypedDataAddress({
      domain: CALL_DOMAIN,
      types: CALL_TYPES,
      primaryType: 'InferenceCall',
      message: {
        requestHash: requestHash(call.request),
        miner: call.miner,
        nonce: call.nonce,
        timestamp: BigInt(call.timestamp),
      },
      signature: call.signature,
    })
  } catch (error) {
    throw new RequestAuthError('bad request signature: malformed', { cause: error })
  }
  if (!isAddressEqual(signer, call.caller))
    throw new RequestAuthError('bad request signature: it does not recover to the caller')
  return call
}

export type ReplayGuardOptions = {
  /** How far a timestamp may be from the miner's clock, either way (default 60 s). */
  maxSkewMs?: number
  /** Clock (tests). */
  now?: () => number
  /** Where seen pairs are kept (default: memory; a miner keeps them in its SQLite store). */
  nonces?: NonceBook
}

/**
 * The (caller, nonce) pairs a guard has accepted, with their timestamps. Kept outside the guard so
 * that a miner's survive a restart: a request replayed to the restarted miner is still a replay.
 */
export type NonceBook = {
  /** Records the pair; false when it is already there. */
  claim(key: string, timestamp: number): boolean
  /** Forgets pairs whose timestamp is before `timestamp`. */
  forgetBefore(timestamp: number): void
}

/** A NonceBook in memory (one process's lifetime). */
export function memoryNonceBook(): NonceBook {
  const seen = new Map<string, number>()
  return {
    claim(key, timestamp) {
      if (seen.has(key)) return false
      seen.set(key, timestamp)
      return true
    },
    forgetBefore(timestamp) {
      for (const [key, ts] of seen) if (ts < timestamp) seen.delete(key)
    },
  }
}

/**
 * Remembers (caller, nonce) pairs for as long as their timestamps are fresh; a call outside the
 * window is stale, a pair seen inside it is a replay. Storage is bounded by the call rate times
 * the window, since expired entries are dropped.
 */
export class ReplayGuard {
  private readonly maxSkewMs: number
  private readonly now: () => number
  private readonly nonces: NonceBook

  constructor(options: ReplayGuardOptions = {}) {
    this.maxSkewMs = options.maxSkewMs ?? 60_000
    this.now = options.now ?? Date.now
    this.nonces = options.nonces ?? memoryNonceBook()
  }

  /** Accepts the call once; throws a RequestAuthError for a stale timestamp or a replay. */
  check(call: Pick<SignedRequest, 'caller' | 'nonce' | 'timestamp'>): void {
    const now = this.now()
    if (Math.abs(now - call.timestamp) > this.maxSkewMs)
      throw new RequestAuthError('stale request: timestamp outside the accepted window', {
        details: `timestamp ${call.timestamp}, now ${now}, window ±${this.maxSkewMs} ms`,
      })
    this.prune(now)
    const key = `${call.caller.toLowerCase()}:${call.nonce.toLowerCase()}`
    if (!this.nonces.claim(key, call.timestamp))
      throw new RequestAuthError('replayed request: nonce already used')
  }

  private lastPrune = 0
  private prune(now: number): void {
    if (now - this.lastPrune < 1000) return
    this.lastPrune = now
    // A pair older than the window can never be accepted again: its timestamp is stale.
    this.nonces.forgetBefore(now - this.maxSkewMs)
  }
}
