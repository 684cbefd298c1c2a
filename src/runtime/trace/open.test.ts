import { sha256 } from '@noble/hashes/sha2.js'
import { concatBytes } from '@noble/hashes/utils.js'
import { describe, expect, it } from 'vitest'
import { bitFlips } from '../../../test/bit-flips.ts'
import { TraceError } from '../../errors/runtime.ts'
import { generate } from '../generate.ts'
import { configBytes } from '../model/config.ts'
import { samplingParams } from '../sampler/sample.ts'
import { testModel } from '../test-model.ts'
import { TraceCapture } from './capture.ts'
import {
  checkpointHash,
  verifyBinding,
  verifyBoundaryOpening,
  verifyCheckpointOpening,
  verifyElementOpening,
  verifyPositionLeafOpening,
  verifyScheduledOpId,
  verifyWeightOpening,
} from './checks.ts'
import { traceLeaf, vecRoot } from './hasher.ts'
import { merkleRoot, merkleRootInArena, toHex } from './merkle.ts'
import { oneStep } from './onestep.ts'
import { openElement, openNormChunk, openWeight, openWeightLeaf, weightRowBytes } from './open.ts'
import { NO_LAYER, OpKind, opIdBytes } from './ops.ts'
import { positionTrace, replayTrace } from './replay.ts'
import { boundaryOpAt, positionOpIndex, weightLeafCount, weightLeafIndex } from './schedule.ts'

const request = {
  promptTokens: [1, 17, 250, 33],
  maxTokens: 5,
  params: samplingParams({ temperature: 0.7 }),
  seed: 99,
}

/** Every single-bit corruption of `o` makes `check` throw a TraceError; returns how many ran. */
function expectEveryFlipRejected<T>(o: T, check: (o: T) => unknown, stride = 3): number {
  let flips = 0
  for (const [where, bad] of bitFlips(o, stride)) {
    expect(() => check(bad), where).toThrow(TraceError)
    flips++
  }
  return flips
}

describe('the checkpoint commitment', () => {
  const model = testModel()
  const { config } = model

  it('is what docs/DETERMINISM.md defines, computed from the op outputs in plain code', () => {
    const capture = new TraceCapture()
    const result = generate(model, request, { sink: capture })
    // 4 prompt positions + 4 fed-back tokens.
    expect(result.traceLeafCount).toBe(8)
    const checkpoints = new Uint8Array(8 * 32)
    for (let p = 0; p < 8; p++) {
      const leaves: Uint8Array[] = []
      for (let l = 0; l < config.nLayers; l++) {
        for (const kind of [OpKind.K_ROPE, OpKind.V]) {
          const vec = capture.get(p, l, kind)
          leaves.push(traceLeaf(opIdBytes(p, l, kind, vec.length), vecRoot(vec)))
        }
      }
      if (p >= 3) {
        const sample = capture.get(p, NO_LAYER, OpKind.SAMPLE)
        leaves.push(traceLeaf(opIdBytes(p, NO_LAYER, OpKind.SAMPLE, 5), vecRoot(sample)))
      }
      const flat = new Uint8Array(leaves.length * 32)
      leaves.forEach((leaf, i) => {
        flat.set(leaf, 32 * i)
      })
      const tag = new Uint8Array(32)
      new DataView(tag.buffer).setUint32(0, p)
      tag.set([0xff, 0xff, 0x01, 0x00], 4) // layer NO_LAYER, kind 256
      new DataView(tag.buffer).setUint32(8, leaves.length)
      const c = sha256(new Uint8Array([...tag, ...merkleRoot(flat, leaves.length)]))
      expect(toHex(c)).toBe(
        toHex(checkpointHash(p, leaves.length, merkleRoot(flat, leaves.length))),
      )
      checkpoints.set(c, 32 * p)
    }
    expect(toHex(result.traceRoot!)).toBe(toHex(merkleRoot(checkpoints, 8)))
  })

  it('a replay reproduces the receipt, and R_p alone matches the replay of p', () => {
    const { traceRoot, traceLeafCount } = generate(model, request)
    const replay = replayTrace(model, request, { position: 5 })
    expect(toHex(replay.traceRoot)).toBe(toHex(traceRoot!))
    expect(replay.positions).toBe(traceLeafCount)
    expect(replay.shape).toEqual({ promptLength: 4, generated: 5 })
    const alone = positionTrace(model, request, 5)
    expect(toHex(alone.root)).toBe(toHex(replay.positionRoot))
    expect(alone.leaves.length).toBe(32 * (1 + config.nLayers * 17 + 3))
    // A prompt position before the last has no head.
    expect(positionTrace(model, request, 1).leaves.length).toBe(32 * (1 + config.nLayers * 17))
    expect(() => positionTrace(model, request, 8)).toThrow(/outside the trace/)
  })
})

describe('openings', () => {
  const model = testModel()
  const { config } = model
  const replay = replayTrace(model, request, { position: 6 })
  const ctx = replay.context()

  it('verify: checkpoints, boundary leaves, position leaves, elements, bindings', () => {
    for (let p = 0; p < replay.positions; p++) {
      expect(verifyCheckpointOpening(ctx, replay.checkpoint(p))).toBe(true)
      const count = replay.checkpoint(p).boundaryCount
      expect(count).toBe(2 * config.nLayers + (p >= 3 ? 1 : 0))
      for (let j = 0; j < count; j++)
        expect(verifyBoundaryOpening(ctx, replay.boundary(p, j))).toBe(true)
    }
    const R = replay.positionRoot
    for (let i = 0; i < 1 + config.nLayers * 17 + 3; i++) {
      const leaf = replay.positionLeaf(i)
      expect(verifyPositionLeafOpening(config, replay.shape, R, leaf)).toBe(true)
      const vector = replay.positionVector(i)
      for (const e of [0, vector.length - 1]) {
        const opening = openElement(vector, e)
        expect(opening.value).toBe(vector[e])
        expect(opening.vecRoot).toEqual(leaf.vecRoot)
        expect(verifyElementOpening(vector.length, opening)).toBe(true)
      }
    }
    for (let j = 0; j <= 2 * config.nLayers; j++) {
      const { boundary, leaf } = replay.binding(j)
      expect(verifyBinding(ctx, R, boundary, leaf)).toBe(true)
    }
  })

  it('fail when any bit is flipped', () => {
    const R = replay.positionRoot
    let flips = 0
    flips += expectEveryFlipRejected(replay.checkpoint(2), (o) => verifyCheckpointOpening(ctx, o))
    flips += expectEveryFlipRejected(replay.boundary(4, 3), (o) => verifyBoundaryOpening(ctx, o))
    flips += expectEveryFlipRejected(replay.boundary(6, 2 * config.nLayers), (o) =>
      verifyBoundaryOpening(ctx, o),
    )
    flips += expectEveryFlipRejected(replay.positionLeaf(20), (o) =>
      verifyPositionLeafOpening(config, replay.shape, R, o),
    )
    flips += expectEveryFlipRejected(openElement(replay.positionVector(40), 100), (o) =>
      verifyElementOpening(replay.positionVector(40).length, o),
    )
    flips += expectEveryFlipRejected(replay.binding(5), (o) =>
      verifyBinding(ctx, R, o.boundary, o.leaf),
    )
    // The whole one-step proof of a projection element: claim, input vector, weight row.
    const index = positionOpIndex(config, 2, OpKind.GATE)
    flips += expectEveryFlipRejected(
      replay.oneStepProof(index, 100),
      (o) => oneStep(replay.oneStepContext(), o),
      11,
    )
    // An rmsnorm element: the whole input, and the chunk of g that holds g_e with its proofs.
    const norm = replay.oneStepProof(positionOpIndex(config, 1, OpKind.FFN_NORM), 45)
    expect(norm.weights[0]!.chunk).toMatchObject({ index: 5, count: config.dim / 8 })
    expect(oneStep(replay.oneStepContext(), norm).upheld).toBe(true)
    flips += expectEveryFlipRejected(norm, (o) => oneStep(replay.oneStepContext(), o), 11)
    expect(flips).toBeGreaterThan(700)
  })

  it('fail when a position, index, element or value is moved', () => {
    const R = replay.positionRoot
    const cp = replay.checkpoint(2)
    expect(() => verifyCheckpointOpening(ctx, { ...cp, pos: 3 })).toThrow(TraceError)
    expect(() =>
      verifyCheckpointOpening(ctx, { ...cp, boundaryCount: cp.boundaryCount + 1 }),
    ).toThrow(/boundary leaf count/)
    expect(() => verifyCheckpointOpening(ctx, { ...cp, pos: replay.positions })).toThrow(
      /outside the trace/,
    )
    const b = replay.boundary(4, 3)
    expect(() => verifyBoundaryOpening(ctx, { ...b, index: 2 })).toThrow(TraceError)
    expect(() => verifyBoundaryOpening(ctx, { ...b, pos: 5 })).toThrow(/another position/)
    const leaf = replay.positionLeaf(20)
    expect(() =>
      verifyPositionLeafOpening(config, replay.shape, R, { ...leaf, index: 21 }),
    ).toThrow(/not the one scheduled/)
    const vector = replay.positionVector(40)
    const el = openElement(vector, 100)
    expect(() => verifyElementOpening(vector.length, { ...el, value: el.value + 1 })).toThrow(
      /value/,
    )
    expect(() => verifyElementOpening(vector.length, { ...el, element: 108 })).toThrow(TraceError)
    expect(() => verifyElementOpening(vector.length, { ...el, element: vector.length })).toThrow(
      /outside the op/,
    )
    // A binding pairs boundary leaf j with its own op in R_p, not another.
    const { boundary } = replay.binding(3)
    expect(() => verifyBinding(ctx, R, boundary, replay.positionLeaf(leaf.index))).toThrow(
      /not the one bound/,
    )
  })

  it('the schedule check names the op at every index', () => {
    const op = boundaryOpAt(config, replay.shape, 6, 2 * config.nLayers)
    expect(op).toEqual({ pos: 6, layer: NO_LAYER, kind: OpKind.SAMPLE, length: 5 })
    const index = positionOpIndex(config, NO_LAYER, OpKind.SAMPLE)
    expect(verifyScheduledOpId(config, replay.shape, 6, index, opIdBytes(6, NO_LAYER, 20, 5))).toBe(
      true,
    )
    for (const wrong of [
      opIdBytes(6, NO_LAYER, OpKind.LOGITS, 5),
      opIdBytes(5, NO_LAYER, OpKind.SAMPLE, 5),
      opIdBytes(6, NO_LAYER, OpKind.SAMPLE, 6),
      opIdBytes(6, 0, OpKind.SAMPLE, 5),
    ])
      expect(() => verifyScheduledOpId(config, replay.shape, 6, index, wrong)).toThrow(TraceError)
    // A prompt position that does not sample has no head ops.
    expect(() =>
      verifyScheduledOpId(config, replay.shape, 1, index, opIdBytes(1, NO_LAYER, 20, 5)),
    ).toThrow(/outside position 1/)
  })
})

describe('weight openings', () => {
  const model = testModel()
  const { config } = model

  it('the leaf of every weight follows from the config', () => {
    expect(weightLeafCount(config)).toBe(model.weightLeafCount)
    expect(weightLeafIndex(config, { tensor: 'embed', row: 7 })).toBe(model.embed.leafBase + 7)
    expect(weightLeafIndex(config, { tensor: 'output', row: 9 })).toBe(model.output.leafBase + 9)
    expect(weightLeafIndex(config, { tensor: 'output_norm' })).toBe(model.outputNormLeaf)
    for (let l = 0; l < config.nLayers; l++) {
      const L = model.layers[l]!
      expect(weightLeafIndex(config, { tensor: 'attn_norm', layer: l })).toBe(L.attnNormLeaf)
      expect(weightLeafIndex(config, { tensor: 'ffn_norm', layer: l })).toBe(L.ffnNormLeaf)
      for (const [tensor, w] of [
        ['q', L.wq],
        ['k', L.wk],
        ['v', L.wv],
        ['o', L.wo],
        ['gate', L.wGate],
        ['up', L.wUp],
        ['down', L.wDown],
      ] as const) {
        expect(weightLeafIndex(config, { tensor, layer: l, row: 0 })).toBe(w.leafBase)
        expect(weightLeafIndex(config, { tensor, layer: l, row: w.rows - 1 })).toBe(
          w.leafBase + w.rows - 1,
        )
        expect(() => weightLeafIndex(config, { tensor, layer: l, row: w.rows })).toThrow(TraceError)
      }
    }
  })

  it('open a weight row, a norm and the config and verify against modelRoot; a flipped bit fails', () => {
    const w = model.layers[1]!.wUp
    const rowOpening = openWeightLeaf(model, w.leafBase + 17, weightRowBytes(model, w, 17))
    expect(verifyWeightOpening(model.modelRoot, rowOpening)).toBe(true)
    // A norm's leaf is the vecRoot of its values: g_37 is opened as chunk 4 (of 16 at dim 128).
    const g = model.layers[0]!.ffnNorm
    const leaf = model.layers[0]!.ffnNormLeaf
    expect(toHex(model.weightLeaves.subarray(32 * leaf, 32 * leaf + 32))).toBe(toHex(vecRoot(g)))
    const normOpening = openNormChunk(model, leaf, g, 37)
    expect(normOpening.data.length).toBe(32)
    expect(normOpening.chunk).toMatchObject({ index: 4, count: config.dim / 8 })
    expect(new DataView(normOpening.data.buffer).getInt32(4 * 5, true)).toBe(g[37])
    expect(verifyWeightOpening(model.modelRoot, normOpening)).toBe(true)
    expect(openWeight(model, { tensor: 'ffn_norm', layer: 0 }, 37)).toEqual(normOpening)
    expect(() => openWeight(model, { tensor: 'ffn_norm', layer: 0 })).toThrow(/at an element/)
    expectEveryFlipRejected(normOpening, (o) => verifyWeightOpening(model.modelRoot, o))
    // The whole vector hashed (the old leaf) is not the leaf; nor is another norm's chunk.
    expect(() =>
      openWeightLeaf(model, leaf, new Uint8Array(g.buffer, g.byteOffset, g.byteLength).slice()),
    ).toThrow(/does not hash/)
    expect(() => openNormChunk(model, leaf, model.layers[1]!.ffnNorm, 37)).toThrow(
      /not weight leaf/,
    )
    const moved = { ...normOpening, chunk: { ...normOpening.chunk!, index: 5 } }
    expect(() => verifyWeightOpening(model.modelRoot, moved)).toThrow(TraceError)
    expect(
      verifyWeightOpening(
        model.modelRoot,
        openWeightLeaf(model, 0, concatBytes(configBytes(config), model.tokenizerDigest)),
      ),
    ).toBe(true)
    expectEveryFlipRejected(rowOpening, (o) => verifyWeightOpening(model.modelRoot, o))
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
