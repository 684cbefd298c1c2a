/**
 * Yuma Consensus, bit-exact with subtensor's sparse epoch, plus the subnet state machine, the
 * scenario runner and the adversarial simulator. See docs/CONSENSUS.md for the arithmetic.
 */
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
export type { EpochInput, EpochOutput, SparseMatrix, SparseRow, YumaParams } from './types.ts'
export { isMaxLimited, maxUpscaleToU16, storeWeights } from './weights.ts'
