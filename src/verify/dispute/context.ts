import { type Hex, toHex } from 'viem'
import { DisputePhase } from '../../chain/dispute.ts'
import type { ModelConfig } from '../../runtime/model/config.ts'
import { epsQ40 } from '../../runtime/model/quantize.ts'
import { positionOpAt, shapeOf } from '../../runtime/trace/schedule.ts'
import type { DisputeView } from './player.ts'

/**
 * The context the game's step libraries check a move in (DisputeTypes.sol `StepContext`), as
 * the contract builds it from a dispute's storage: for simulating a one step (eth_call to
 * StepLib) before sending it, and for gas figures.
 */
export type StepContextArg = {
  config: {
    vocab: bigint
    dim: bigint
    nLayers: bigint
    nHeads: bigint
    nKvHeads: bigint
    headDim: bigint
    ffn: bigint
    context: bigint
    ropeDim: bigint
    tied: boolean
    thetaBits: bigint
    epsQ: bigint
    arch: bigint
    neox: boolean
    attnBias: boolean
    nFactors: bigint
  }
  promptLength: bigint
  positions: bigint
  pos: bigint
  index: bigint
  layer: bigint
  kind: bigint
  element: bigint
  traceRoot: Hex
  modelRoot: Hex
  promptRoot: Hex
  positionRoot: Hex
  seed: bigint
  temperatureMilli: bigint
  topK: bigint
  topPMilli: bigint
  partElements: bigint
}

/** A model config in the game's form (ScheduleLib `ModelConfig`). */
export function configArg(c: ModelConfig): StepContextArg['config'] {
  const bits = new BigUint64Array(new Float64Array([c.ropeTheta]).buffer)[0]!
  return {
    vocab: BigInt(c.vocabSize),
    dim: BigInt(c.dim),
    nLayers: BigInt(c.nLayers),
    nHeads: BigInt(c.nHeads),
    nKvHeads: BigInt(c.nKvHeads),
    headDim: BigInt(c.headDim),
    ffn: BigInt(c.ffnDim),
    context: BigInt(c.contextLength),
    ropeDim: BigInt(c.ropeDim),
    tied: c.tiedOutput,
    thetaBits: bits,
    epsQ: BigInt(epsQ40(c.normEps)),
    arch: c.arch === 'qwen2' ? 1n : 0n,
    neox: c.ropeType === 'neox',
    attnBias: c.attnBias === true,
    nFactors: BigInt(c.ropeFreqFactors?.length ?? 0),
  }
}

/** The context of a dispute at its one step (lane `lane` of its chunk) or in its sum. */
export function stepContext(
  view: DisputeView,
  config: ModelConfig,
  partElements: number,
  lane: number,
): StepContextArg {
  const d = view.dispute
  const shape = shapeOf(d.promptLength, d.positions)
  const op = positionOpAt(config, shape, d.pos, d.op)
  const element =
    d.phase === DisputePhase.STEP ? Number(d.index) * 8 + lane : (d.element & ~7) + lane
  const s = d.sampling
  const u32 = (shift: bigint) => (s >> shift) & 0xffffffffn
  return {
    config: configArg(config),
    promptLength: BigInt(d.promptLength),
    positions: BigInt(d.positions),
    pos: BigInt(d.pos),
    index: BigInt(d.op),
    layer: BigInt(op.layer),
    kind: BigInt(op.kind),
    element: BigInt(element),
    traceRoot: d.traceRoot,
    modelRoot: d.modelRoot,
    promptRoot: d.promptRoot,
    positionRoot: d.positionRoot,
    seed: s & 0xffffffffffffffffn,
    temperatureMilli: u32(64n),
    topK: u32(96n),
    topPMilli: u32(128n),
    partElements: BigInt(partElements),
  }
}

export const ZERO_ROOT: Hex = toHex(new Uint8Array(32))
