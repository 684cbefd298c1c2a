/**
 * Yuma Consensus, bit-exact with subtensor's sparse epoch, plus the subnet state machine, the
 * scenario runner and the adversarial simulator. See docs/CONSENSUS.md for the arithmetic.
 */
export { DEFAULT_YUMA_PARAMS } from './defaults.ts'
export { runEpoch } from './epoch.ts'
export { expSafe } from './exp.ts'
export * as fixed from './fixed.ts'
export { weightedMedian, weightedMedianColSparse } from './median.ts'
export { type Comparison, compareScenario, type Mismatch } from './scenario/compare.ts'
export { parseScenario, parseScenarioText } from './scenario/parse.ts'
export { runScenario, runScenarioEpochs, type ScenarioEpoch } from './scenario/run.ts'
export type {
  Scenario,
  ScenarioEpochResult,
  ScenarioEvent,
  ScenarioParams,
} from './scenario/types.ts'
export { parseSimulation } from './simulate/parse.ts'
export { SIMULATIONS } from './simulate/scenarios.ts'
export { qualityAt, simulate, summarize, toCsv } from './simulate/simulate.ts'
export { chartSvg, type Series } from './simulate/svg.ts'
export type { SimEpoch, SimResult, Simulation, Strategy } from './simulate/types.ts'
export { type BurnConfig, bumpBurn, decayBurn, decayFactorQ32 } from './subnet/burn.ts'
export { commitHash } from './subnet/commit.ts'
export { DEFAULT_SUBNET_CONFIG, type SubnetConfig } from './subnet/config.ts'
export { blockEmission, halvings } from './subnet/emission-schedule.ts'
export { neuronToPrune, type PruneCandidate } from './subnet/prune.ts'
export { blocksUntilNextEpoch, epochIndex, isEpochBlock } from './subnet/schedule.ts'
export { type Earnings, Subnet } from './subnet/subnet.ts'
export type { EpochInput, EpochOutput, SparseMatrix, SparseRow, YumaParams } from './types.ts'
export { validateEpochInput } from './validate.ts'
export { isMaxLimited, maxUpscaleToU16, storeWeights } from './weights.ts'
