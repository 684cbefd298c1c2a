import type { YumaParams } from '../types.ts'

/** `params` of a `verity-yuma-scenario/1` file. */
export type ScenarioParams = YumaParams & { n: number }

export type ScenarioNeuron = { uid: number; stake: bigint; registrationBlock: number }

export type ScenarioEvent =
  | { type: 'epoch'; block: number; emission: bigint }
  | { type: 'setWeights'; block: number; uid: number; weights: Array<[number, number]> }
  | { type: 'register'; block: number; uid: number; stake: bigint }
  | { type: 'setStake'; block: number; uid: number; stake: bigint }
  | { type: 'resetBonds'; block: number; uid: number }

/** A validated scenario (see ../../../docs/CONSENSUS.md and the shared scenario spec). */
export type Scenario = {
  name: string
  description: string
  params: ScenarioParams
  neurons: ScenarioNeuron[]
  events: ScenarioEvent[]
  tolerance: Record<string, number>
  expect: Array<Record<string, unknown>>
}

/** One epoch of `verity yuma run` output, fields in the order of the format spec. */
export type ScenarioEpochResult = {
  block: number
  stakeWeightU16: number[]
  active: boolean[]
  consensusU16: number[]
  incentiveU16: number[]
  dividendsU16: number[]
  validatorTrustU16: number[]
  validatorPermit: boolean[]
  bondsU16: number[][]
  emission: string[]
  serverEmission: string[]
  validatorEmission: string[]
}
