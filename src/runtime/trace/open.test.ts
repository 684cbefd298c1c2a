import { describe, expect, it } from 'vitest'
import { TraceError } from '../../errors/runtime.ts'
import { generate } from '../generate.ts'
import { samplingParams } from '../sampler/sample.ts'
import { testModel } from '../test-model.ts'
import { merkleRoot, merkleRootInArena } from './merkle.ts'
import {
  openTraceElement,
  openWeightLeaf,
  verifyTraceOpening,
  verifyWeightOpening,
  weightRowBytes,
} from './open.ts'

const request = {
  promptTokens: [1, 17, 250, 33],
  maxTokens: 5,
  params: samplingParams({ temperature: 0.7 }),
  seed: 99,
}

/** Every way of flipping one bit of an opening's byte fields. */
function* bitFlips<T extends Record<string, unknown>>(o: T): Generator<[string, T]> {
  for (const [key, value] of Object.entries(o)) {
    const arrays =
      value instanceof Uint8Array ? [value] : Array.isArray(value) ? (value as Uint8Array[]) : []
    for (let a = 0; a < arrays.length; a++) {
      for (let byte = 0; byte < arrays[a]!.length; byte += 7) {
        const copy = arrays.map((x) => x.slice())
        copy[a]![byte]! ^= 1 << (byte % 8)
        yield [
          `${key}[${a}] byte ${byte}`,
          { ...o, [key]: value instanceof Uint8Array ? copy[0] : copy },
        ]
      }
    }
  }
}

describe('trace openings', () => {
  const model = testModel()
  const { traceRoot, traceLeafCount } = generate(model, request)

  // Leaf 13 is the first GATE entry (172 elements); the last two are LOGITS (512) and SAMPLE.
  it('open elements of several entries and verify against the traceRoot', () => {
    for (const [leaf, element] of [
      [0, 0],
      [5, 3],
      [13, 100],
      [traceLeafCount! - 1, 0],
      [traceLeafCount! - 2, 511],
    ] as const) {
      const opening = openTraceElement(model, request, leaf, element)
      expect(opening.value).toBe(opening.vector[element])
      expect(verifyTraceOpening(traceRoot!, opening)).toBe(true)
    }
  })

  it('fail when any single bit is flipped, or the value, index or element change', () => {
    const opening = openTraceElement(model, request, 13, 100)
    let flips = 0
    for (const [where, bad] of bitFlips(opening)) {
      expect(() => verifyTraceOpening(traceRoot!, bad), where).toThrow(TraceError)
      flips++
    }
    expect(flips).toBeGreaterThan(50)
    expect(() => verifyTraceOpening(traceRoot!, { ...opening, value: opening.value + 1 })).toThrow(
      /value/,
    )
    expect(() => verifyTraceOpening(traceRoot!, { ...opening, leafIndex: 14 })).toThrow(TraceError)
    expect(() => verifyTraceOpening(traceRoot!, { ...opening, element: 101 })).toThrow(TraceError)
  })

  it('reject leaves and elements outside the trace', () => {
    expect(() => openTraceElement(model, request, traceLeafCount!, 0)).toThrow(/outside the trace/)
    expect(() => openTraceElement(model, request, 0, model.config.dim)).toThrow(/outside entry 0/)
  })
})

describe('weight openings', () => {
  const model = testModel()
  it('open a weight row and a norm and verify against modelRoot; a flipped bit fails', () => {
    const w = model.layers[1]!.wUp
    const rowOpening = openWeightLeaf(model, w.leafBase + 17, weightRowBytes(model, w, 17))
    expect(verifyWeightOpening(model.modelRoot, rowOpening)).toBe(true)
    const g = model.layers[0]!.ffnNorm
    const normOpening = openWeightLeaf(
      model,
      model.layers[0]!.ffnNormLeaf,
      new Uint8Array(g.buffer, g.byteOffset, g.byteLength).slice(),
    )
    expect(verifyWeightOpening(model.modelRoot, normOpening)).toBe(true)
    for (const [where, bad] of bitFlips(rowOpening))
      expect(() => verifyWeightOpening(model.modelRoot, bad), where).toThrow(TraceError)
    expect(() => openWeightLeaf(model, w.leafBase, weightRowBytes(model, w, 1))).toThrow(
      /does not hash/,
    )
  })

  it('the arena Merkle root equals the plain one', () => {
    expect(merkleRootInArena(model.kernel, model.scratch.hash, model.weightLeaves, 1000)).toEqual(
      merkleRoot(model.weightLeaves, 1000),
    )
    expect(
      merkleRootInArena(
        model.kernel,
        model.scratch.hash,
        model.weightLeaves,
        model.weightLeafCount,
      ),
    ).toEqual(model.modelRoot)
  })
})
