import { sha256 } from '@noble/hashes/sha2.js'
import { encodePacked, hexToBytes } from 'viem'
import type { InferenceRequest } from '../types/inference.ts'

/** Most choices one request may ask for (OpenAI `n`): each is a full generation and receipt. */
export const MAX_CHOICES = 8

/**
 * The seed of choice `index` of a request seeded with `seed`: choice 0 keeps the seed (so n = 1
 * is the request it always was); choice i >= 1 takes the top 53 bits of
 * sha256(abi.encodePacked("verity/choice", uint64 seed, uint32 i)), big-endian. Anyone holding the
 * request's seed derives every choice's seed, so a gateway cannot pick which draws to show.
 */
export function choiceSeed(seed: number, index: number): number {
  if (!Number.isSafeInteger(seed) || seed < 0)
    throw new RangeError(`seed must be an integer in [0, 2^53), got ${seed}`)
  if (!Number.isInteger(index) || index < 0 || index >= MAX_CHOICES)
    throw new RangeError(`choice index must be an integer in [0, ${MAX_CHOICES}), got ${index}`)
  if (index === 0) return seed
  const digest = sha256(
    hexToBytes(
      encodePacked(['string', 'uint64', 'uint32'], ['verity/choice', BigInt(seed), index]),
    ),
  )
  const view = new DataView(digest.buffer, digest.byteOffset, 8)
  // top 53 bits: the high word's 32 bits, then the low word's top 21
  return view.getUint32(0) * 2 ** 21 + (view.getUint32(4) >>> 11)
}

/** The n requests of a request with `n` choices: the same but for each choice's seed. */
export function choiceRequests(request: InferenceRequest, n: number): InferenceRequest[] {
  return Array.from({ length: n }, (_, i) => ({ ...request, seed: choiceSeed(request.seed, i) }))
}
