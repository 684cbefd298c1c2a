/**
 * The dispute game's player: what a node calls to open a dispute over a receipt, to compute each
 * next move of either side from the chain's state, and to send it (src/verify/dispute).
 */
export { disputeRequest, openParams, receiptArg, tokenBytes } from './open.ts'
export {
  type StepProofArg,
  type SumOpeningsArg,
  stepProof,
  type TraceData,
  type VectorOpeningArg,
  type WeightOpeningArg,
} from './openings.ts'
export { type PlayResult, type PlaySide, playDispute, readDispute, sendMove } from './play.ts'
export {
  type DisputeMove,
  DisputePlayer,
  type DisputeRole,
  type DisputeView,
  minerToMove,
  type PlayerOptions,
} from './player.ts'
export { playSide, type SideParameters, type SideStep, stepSide } from './side.ts'
export { SumKind, sumKindOf } from './sums.ts'
