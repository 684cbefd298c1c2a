import { sha256 } from '@noble/hashes/sha2.js'
import { CompetitionError } from '../errors/competition.ts'

/**
 * The evaluation seed of an epoch: sha256("verity/eval-seed/v1" || blockHash (32 bytes) ||
 * uint16be netuid || uint64be epoch), where blockHash is the hash of the seed block, a block after
 * the epoch's commit deadline. Nobody knows it while commitments still count, so nobody can fit
 * a model to the passages it draws; every validator reads the same hash.
 */
export function evaluationSeed(blockHash: Uint8Array, netuid: number, epoch: bigint): Uint8Array {
  if (blockHash.length !== 32)
    throw new CompetitionError('blockHash', `must be 32 bytes, got ${blockHash.length}`)
  if (!Number.isInteger(netuid) || netuid < 0 || netuid > 0xffff)
    throw new CompetitionError('netuid', `${netuid} is not a u16`)
  if (epoch < 0n || epoch >= 1n << 64n) throw new CompetitionError('epoch', `${epoch} is not a u64`)
  const tag = new TextEncoder().encode('verity/eval-seed/v1')
  const bytes = new Uint8Array(tag.length + 32 + 2 + 8)
  bytes.set(tag)
  bytes.set(blockHash, tag.length)
  const view = new DataView(bytes.buffer, tag.length + 32)
  view.setUint16(0, netuid)
  view.setBigUint64(2, epoch)
  return sha256(bytes)
}

/**
 * Whether a commitment counts in an evaluation seeded at `seedBlock`: it must be at least
 * `minCommitAge` blocks older (commitBlock + minCommitAge < seedBlock), so a model published once
 * the seed is known, or in the blocks just before it, waits for the next epoch.
 */
export function countsForSeed(
  commitBlock: bigint,
  seedBlock: bigint,
  minCommitAge: number,
): boolean {
  return commitBlock > 0n && commitBlock + BigInt(minCommitAge) < seedBlock
}
