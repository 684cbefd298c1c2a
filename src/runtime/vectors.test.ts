import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { type RuntimeVector, runtimeVectors } from './vectors.ts'

const committed = JSON.parse(
  readFileSync(join(import.meta.dirname, '../../vectors/runtime.json'), 'utf8'),
) as RuntimeVector[]

describe('golden runtime vectors (vectors/runtime.json)', () => {
  it('cover the trained model and three tensor types, with four sampling settings', () => {
    expect(committed).toHaveLength(16)
    expect(new Set(committed.map((v) => v.model))).toEqual(
      new Set(['verity-tiny-f32', 'synthetic-f32', 'synthetic-f16', 'synthetic-q8_0']),
    )
  })

  it('have not drifted: same modelRoot, tokens and traceRoot', () => {
    const fresh = runtimeVectors()
    expect(fresh).toHaveLength(committed.length)
    fresh.forEach((v, i) => {
      const want = committed[i]!
      const label = `${want.model} case ${i % 4}`
      expect(v.modelRoot, label).toBe(want.modelRoot)
      expect(v.tokens, label).toEqual(want.tokens)
      expect(v.traceRoot, label).toBe(want.traceRoot)
      expect(v.traceLeaves, label).toBe(want.traceLeaves)
    })
  })
})
