import { runEpoch } from '../epoch.ts'
import type { EpochOutput, SparseMatrix } from '../types.ts'
import { storeWeights } from '../weights.ts'
import type { Scenario, ScenarioEpochResult } from './types.ts'

/** Subnet storage as the scenario format models it (no extrinsic checks, see the format spec). */
type State = {
  stake: bigint[]
  lastUpdate: number[]
  registration: number[]
  permits: boolean[]
  weights: SparseMatrix
  bonds: SparseMatrix
}

/** One epoch of a replay: its block, the full epoch output, and the stored bonds afterwards. */
export type ScenarioEpoch = { block: number; output: EpochOutput; storedBonds: SparseMatrix }

/** Replays a scenario's events and returns every epoch's full output, in event order. */
export function runScenarioEpochs(scenario: Scenario): ScenarioEpoch[] {
  const { params, neurons } = scenario
  const n = params.n
  const s: State = {
    stake: neurons.map((x) => x.stake),
    lastUpdate: neurons.map((x) => x.registrationBlock),
    registration: neurons.map((x) => x.registrationBlock),
    permits: new Array<boolean>(n).fill(false),
    weights: Array.from({ length: n }, () => []),
    bonds: Array.from({ length: n }, () => []),
  }
  const outputs: ScenarioEpoch[] = []
  for (const e of scenario.events) {
    switch (e.type) {
      case 'epoch': {
        const out = runEpoch({
          block: e.block,
          params,
          stake: s.stake,
          lastUpdate: s.lastUpdate,
          blockAtRegistration: s.registration,
          validatorPermit: s.permits,
          weights: s.weights,
          bonds: s.bonds,
          emission: e.emission,
        })
        out.bonds.forEach((row, i) => {
          if (row) s.bonds[i] = row
        })
        s.permits = out.validatorPermit.slice()
        outputs.push({ block: e.block, output: out, storedBonds: s.bonds.map((r) => r.slice()) })
        break
      }
      case 'setWeights':
        s.weights[e.uid] = storeWeights(e.weights)
        s.lastUpdate[e.uid] = e.block
        break
      case 'register':
        // subtensor `replace_neuron`: new registration block, own rows deleted, others' weights
        // to this uid zeroed in place, permit cleared; bonds on the column are kept.
        s.registration[e.uid] = e.block
        s.lastUpdate[e.uid] = e.block
        s.weights[e.uid] = []
        s.bonds[e.uid] = []
        s.weights = s.weights.map((row) =>
          row.map(([j, v]): [number, number] => [j, j === e.uid ? 0 : v]),
        )
        s.permits[e.uid] = false
        s.stake[e.uid] = e.stake
        break
      case 'setStake':
        s.stake[e.uid] = e.stake
        break
      case 'resetBonds':
        if (params.bondsResetOn) s.bonds = s.bonds.map((row) => row.filter(([j]) => j !== e.uid))
        break
    }
  }
  return outputs
}

/** The `verity yuma run` view of one epoch: u16 terms, dense stored bonds, rao as strings. */
export function toScenarioResult(
  block: number,
  out: EpochOutput,
  storedBonds: SparseMatrix,
): ScenarioEpochResult {
  const n = out.stakeWeight.length
  const dense = storedBonds.map((row) => {
    const r = new Array<number>(n).fill(0)
    for (const [j, v] of row) if (j < n) r[j] = v
    return r
  })
  return {
    block,
    stakeWeightU16: out.stakeWeightU16,
    active: out.active,
    consensusU16: out.consensusU16,
    incentiveU16: out.incentiveU16,
    dividendsU16: out.dividendsU16,
    validatorTrustU16: out.validatorTrustU16,
    validatorPermit: out.validatorPermit,
    bondsU16: dense,
    emission: out.emission.map(String),
    serverEmission: out.serverEmission.map(String),
    validatorEmission: out.validatorEmission.map(String),
  }
}

/** Runs a scenario and returns the output of `verity yuma run`: one result per epoch event. */
export function runScenario(scenario: Scenario): ScenarioEpochResult[] {
  return runScenarioEpochs(scenario).map((e) => toScenarioResult(e.block, e.output, e.storedBonds))
}
