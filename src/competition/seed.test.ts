import { createHash } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { toHex } from '../runtime/trace/merkle.ts'
import { countsForSeed, evaluationSeed } from './seed.ts'

const hash = new Uint8Array(32).map((_, i) => i)

describe('evaluation seeds', () => {
  it('are sha256 of the tag, the block hash, netuid and epoch (checked with node:crypto)', () => {
    const expected = createHash('sha256')
      .update('verity/eval-seed/v1')
      .update(hash)
      .update(Buffer.from('0007000000000000002a', 'hex'))
      .digest('hex')
    expect(toHex(evaluationSeed(hash, 7, 42n))).toBe(`0x${expected}`)
  })

  it('differ by block hash, subnet and epoch', () => {
    const a = toHex(evaluationSeed(hash, 1, 1n))
    const other = hash.slice()
    other[31]! ^= 1
    expect(toHex(evaluationSeed(other, 1, 1n))).not.toBe(a)
    expect(toHex(evaluationSeed(hash, 2, 1n))).not.toBe(a)
    expect(toHex(evaluationSeed(hash, 1, 2n))).not.toBe(a)
  })

  it('refuse malformed input by name', () => {
    expect(() => evaluationSeed(new Uint8Array(31), 1, 1n)).toThrow(/blockHash: must be 32 bytes/)
    expect(() => evaluationSeed(hash, 65536, 1n)).toThrow(/netuid/)
    expect(() => evaluationSeed(hash, 1, -1n)).toThrow(/epoch/)
    expect(() => evaluationSeed(hash, 1, 1n << 64n)).toThrow(/epoch/)
  })
})

describe('which commitments count for a seed', () => {
  it('only those older than the seed block by more than minCommitAge', () => {
    expect(countsForSeed(100n, 103n, 2)).toBe(true)
    expect(countsForSeed(101n, 103n, 2)).toBe(false) // published 2 blocks before the seed
    expect(countsForSeed(103n, 103n, 0)).toBe(false) // in the seed block itself
    expect(countsForSeed(104n, 103n, 0)).toBe(false) // after the seed was known
    expect(countsForSeed(0n, 103n, 0)).toBe(false) // no commitment
  })
})
