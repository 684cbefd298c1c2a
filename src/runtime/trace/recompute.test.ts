import { describe, expect, it } from 'vitest'
import { generate } from '../generate.ts'
import { samplingParams } from '../sampler/sample.ts'
import { testModel } from '../test-model.ts'
import { TraceCapture } from './capture.ts'
import { elementInputs } from './inputs.ts'
import { OP_NAMES, OpKind } from './ops.ts'
import { recomputeElement } from './recompute.ts'
import { positionCount, positionOpAt, positionOpCount, positionOpIndex } from './schedule.ts'

describe('recomputeElement (the one-step reference)', () => {
  it('reproduces every element of every op of a trace from its inputs alone', () => {
    const model = testModel()
    const request = {
      promptTokens: [1, 40, 90, 300, 7],
      maxTokens: 6,
      params: samplingParams({ temperature: 0.9, topK: 40, topP: 0.95 }),
      seed: 7,
    }
    const capture = new TraceCapture()
    const result = generate(model, request, { sink: capture })
    expect(result.tokens).toHaveLength(6)
    const checkedPerKind = new Map<string, number>()
    for (const entry of capture.entries) {
      for (let e = 0; e < entry.vec.length; e++) {
        const { inputs, element } = elementInputs(
          model,
          capture,
          request,
          entry.pos,
          entry.layer,
          entry.kind,
          e,
        )
        const value = recomputeElement(inputs, element)
        if (value !== entry.vec[e]) {
          throw new Error(
            `${OP_NAMES[entry.kind]} at position ${entry.pos}, layer ${entry.layer}, element ${e}: fast ${entry.vec[e]}, reference ${value}`,
          )
        }
      }
      const name = OP_NAMES[entry.kind]!
      checkedPerKind.set(name, (checkedPerKind.get(name) ?? 0) + 1)
    }
    // Every op kind was exercised.
    expect([...checkedPerKind.keys()].sort()).toEqual(
      Object.keys(OpKind)
        .map((k) => k.toLowerCase())
        .sort(),
    )
    // 10 positions run (5 prompt + 5 fed back), each 1 embed + layers x 17 ops; logits at 6 positions; 6 samples.
    expect(capture.entries.length).toBe(10 * (1 + model.config.nLayers * 17) + 6 * 2 + 6)
    // The receipt commits to one checkpoint per position.
    expect(result.traceLeafCount).toBe(10)
    // The schedule names every op of the trace where the run puts it, and nothing else.
    const shape = { promptLength: 5, generated: 6 }
    expect(positionCount(shape)).toBe(10)
    let at = 0
    for (let pos = 0; pos < 10; pos++) {
      const count = positionOpCount(model.config, shape, pos)
      expect(count).toBe(1 + model.config.nLayers * 17 + (pos >= 4 ? 3 : 0))
      for (let index = 0; index < count; index++) {
        const entry = capture.entries[at++]!
        expect(positionOpAt(model.config, shape, pos, index)).toEqual({
          pos: entry.pos,
          layer: entry.layer,
          kind: entry.kind,
          length: entry.vec.length,
        })
        expect(positionOpIndex(model.config, entry.layer, entry.kind)).toBe(index)
      }
    }
    expect(at).toBe(capture.entries.length)
  })

  it('detects a wrong value: a changed input changes the recomputed element', () => {
    const model = testModel()
    const request = { promptTokens: [1, 2, 3], maxTokens: 1, params: samplingParams({}), seed: 0 }
    const capture = new TraceCapture()
    generate(model, request, { sink: capture })
    const { inputs } = elementInputs(model, capture, request, 2, 1, OpKind.GATE, 5)
    const honest = recomputeElement(inputs, 5)
    if (inputs.kind !== OpKind.GATE) throw new Error('unexpected kind')
    const tampered = { ...inputs, x: inputs.x.map((v, j) => (j === 3 ? v + 40000 : v)) }
    expect(recomputeElement(tampered, 5)).not.toBe(honest)
  })
})
