import type { Stream } from '@libp2p/interface'
import * as lp from 'it-length-prefixed'
import { type Address, bytesToHex, type Hex, isAddressEqual, recoverTypedDataAddress } from 'viem'
import type { LocalAccount } from 'viem/accounts'
import { RequestAuthError } from '../../errors/node.ts'
import { visionInputHash } from '../../vision/answer.ts'
import { checkPixels } from '../../vision/classify.ts'

/**
 * The classification protocol: the caller writes one classify frame (the pixels and its signature
 * over them, the miner, a nonce and the time); the miner writes one answer frame (a VisionAnswer:
 * label, scores, Groth16 proof, signed receipt) or an error frame, and closes.
 */
export const CLASSIFY_PROTOCOL = '/verity/classify/1'

/** Largest request frame: 64 small integers and a signature fit in well under 2 KiB. */
export const MAX_CLASSIFY_REQUEST_BYTES = 4096
/** Largest answer frame: pixels, scores, a Groth16 proof, four signals and a receipt (~3 KiB). */
export const MAX_CLASSIFY_ANSWER_BYTES = 16_384

/** A classification as a caller sends it to one miner, signed like an inference call. */
export type SignedClassifyCall = {
  pixels: number[]
  caller: Address
  /** The miner's hotkey: a call signed for one miner cannot be replayed to another. */
  miner: Address
  /** 32 bytes; the miner's receipt must carry it. */
  nonce: Hex
  /** Milliseconds since the epoch at signing. */
  timestamp: number
  signature: Hex
}

export type ClassifyFrame = { type: 'classify'; call: SignedClassifyCall }
export type AnswerFrame = { type: 'answer'; answer: unknown }
/** `code`: bad_frame, bad_request, unauthorized, replay, stale, busy, internal. */
export type ClassifyErrorFrame = { type: 'error'; code: string; message: string }

const CALL_DOMAIN = { name: 'Verity', version: '1' } as const
const CALL_TYPES = {
  ClassifyCall: [
    { name: 'inputHash', type: 'bytes32' },
    { name: 'miner', type: 'address' },
    { name: 'nonce', type: 'bytes32' },
    { name: 'timestamp', type: 'uint64' },
  ],
} as const

const typed = (c: Omit<SignedClassifyCall, 'caller' | 'signature'>) => ({
  domain: CALL_DOMAIN,
  types: CALL_TYPES,
  primaryType: 'ClassifyCall' as const,
  message: {
    inputHash: visionInputHash(c.pixels),
    miner: c.miner,
    nonce: c.nonce,
    timestamp: BigInt(c.timestamp),
  },
})

/** Signs a classification of `pixels` for `miner` (a fresh nonce unless given, the time now). */
export async function signClassifyCall(
  caller: LocalAccount,
  pixels: number[],
  options: { miner: Address; nonce?: Hex; timestamp?: number },
): Promise<SignedClassifyCall> {
  checkPixels(pixels)
  const call = {
    pixels: [...pixels],
    miner: options.miner,
    nonce: options.nonce ?? bytesToHex(crypto.getRandomValues(new Uint8Array(32))),
    timestamp: options.timestamp ?? Date.now(),
  }
  const signature = await caller.signTypedData(typed(call))
  return { ...call, caller: caller.address, signature }
}

/**
 * Checks a classify call's shape, pixels and signature (the signer must be `caller`, the target
 * `miner`); freshness and replays are the ReplayGuard's job. Throws a RequestAuthError (bad
 * pixels included) naming what failed.
 */
export async function verifyClassifyCall(
  value: unknown,
  options: { miner: Address },
): Promise<SignedClassifyCall> {
  const bad = (what: string): never => {
    throw new RequestAuthError(`invalid call: ${what}`)
  }
  if (typeof value !== 'object' || value === null) bad('not an object')
  const s = value as Record<string, unknown>
  if (!Array.isArray(s.pixels)) bad('pixels must be an array')
  try {
    checkPixels(s.pixels as number[])
  } catch (error) {
    bad((error as Error).message)
  }
  if (typeof s.caller !== 'string' || !/^0x[0-9a-fA-F]{40}$/.test(s.caller))
    bad('caller must be an address')
  if (typeof s.miner !== 'string' || !/^0x[0-9a-fA-F]{40}$/.test(s.miner))
    bad('miner must be an address')
  if (typeof s.nonce !== 'string' || !/^0x[0-9a-fA-F]{64}$/.test(s.nonce))
    bad('nonce must be 32 bytes of hex')
  if (typeof s.timestamp !== 'number' || !Number.isSafeInteger(s.timestamp) || s.timestamp < 0)
    bad('timestamp must be a non-negative integer')
  if (typeof s.signature !== 'string' || !/^0x[0-9a-fA-F]+$/.test(s.signature))
    bad('signature must be hex')
  const call = s as unknown as SignedClassifyCall
  if (!isAddressEqual(call.miner, options.miner))
    throw new RequestAuthError('call is addressed to another miner', {
      details: `to ${call.miner}, this miner is ${options.miner}`,
    })
  let signer: Address
  try {
    signer = await recoverTypedDataAddress({ ...typed(call), signature: call.signature })
  } catch (error) {
    throw new RequestAuthError('bad request signature: malformed', { cause: error })
  }
  if (!isAddressEqual(signer, call.caller))
    throw new RequestAuthError('bad request signature: it does not recover to the caller')
  return call
}

const encoder = new TextEncoder()
const decoder = new TextDecoder()

/** Writes one length-prefixed JSON frame, waiting for the stream to drain when it asks to. */
export async function writeVisionFrame(
  stream: Stream,
  frame: ClassifyFrame | AnswerFrame | ClassifyErrorFrame,
  options: { signal?: AbortSignal } = {},
): Promise<void> {
  const bytes = lp.encode.single(encoder.encode(JSON.stringify(frame)))
  if (!stream.send(bytes)) await stream.onDrain(options)
}

/** The first length-prefixed JSON frame of a stream, at most `maxBytes`; undefined at the end. */
export async function readVisionFrame(stream: Stream, maxBytes: number): Promise<unknown> {
  for await (const chunk of lp.decode(stream, { maxDataLength: maxBytes })) {
    return JSON.parse(decoder.decode(chunk.subarray()))
  }
  return undefined
}
