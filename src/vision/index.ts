export {
  type CheckVisionAnswerOptions,
  checkVisionAnswer,
  proofHash,
  type SignedVisionReceipt,
  signVisionReceipt,
  type VisionAnswer,
  type VisionReceipt,
  type VisionVerdict,
  visionInputHash,
} from './answer.ts'
export { classifyDigits, type DigitsResult } from './classify.ts'
export { LocalVisionMiner, type VisionCheatMode, type VisionMiner } from './local-miner.ts'
export { type DigitsModel, paramCount, parseDigitsModel } from './model.ts'
export { visionModelId } from './model-id.ts'
export { decodePng } from './png.ts'
export { type GrayImage, toDigitPixels } from './preprocess.ts'
export {
  type DigitsCircuit,
  type DigitsProof,
  loadDigitsCircuit,
  proveDigits,
  stopProver,
  verifierArgs,
  verifyDigitsProof,
} from './prover.ts'
export {
  type DigitsPublic,
  packPixels,
  packScores,
  parsePublicSignals,
  publicSignals,
  unpackPixels,
  unpackScores,
} from './public-signals.ts'
