import { describe, expect, it } from 'vitest'
import { fuzzSeedFiles, lengthFieldOffsets, MUTATIONS, runGgufFuzz } from './fuzz.ts'
import { readGguf } from './read.ts'

describe('GGUF reader fuzz', () => {
  it('finds every length field of the seed files', () => {
    for (const file of fuzzSeedFiles()) {
      const parsed = readGguf(file)
      const { u64 } = lengthFieldOffsets(file)
      // Header counts + one length per key and per tensor name + each tensor's dims and offset.
      expect(u64.length).toBeGreaterThanOrEqual(
        2 + parsed.metadata.size + 3 * parsed.tensors.length,
      )
    }
  })

  // CI sample: fixed seed, 10,000 mutants. A hang fails on the timeout; any exception other
  // than GgufError fails with the case number and mutation (replay with scripts/fuzz-gguf.ts).
  it('10,000 seeded mutations give only GgufError', { timeout: 30_000 }, () => {
    const result = runGgufFuzz(10_000, 20_260_101)
    expect(result.parsed + result.rejected).toBe(10_000)
    for (const kind of MUTATIONS) {
      // Every mutation kind is exercised and mostly produces rejected files.
      expect(result.byMutation[kind].rejected).toBeGreaterThan(0)
    }
    expect(result.rejected).toBeGreaterThan(5_000)
  })
})
