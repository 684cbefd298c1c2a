/**
 * The OpenAI-compatible HTTP gateway: routes requests to miners by score and availability, fails
 * over mid-request, and returns each answer with the miner's signed receipt.
 */

export type { ChatMessage } from '../types/inference.ts'
export {
  type ChatTemplate,
  chatTemplate,
  DEFAULT_CHAT_TEMPLATE,
  renderChat,
} from '../verify/prompt/chat.ts'
export { type CompiledTemplate, compileTemplate } from '../verify/prompt/jinja.ts'
export { finalText, findStop, outputText, TextStream } from '../verify/text.ts'
export { Accounts, type AccountsOptions, type Charge } from './accounts/meter.ts'
export { costOf, fixedPriceBook, type Price, type PriceBook } from './accounts/price.ts'
export {
  type AccountRecord,
  AccountStore,
  type KeyLimits,
  type UsageRecord,
} from './accounts/store.ts'
export { createGateway, type Gateway } from './app.ts'
export { mapError, type OpenAIErrorBody } from './errors.ts'
export { type RoutedEvent, type RouteOptions, routeInference } from './execute.ts'
export { LocalMiner, type LocalMinerOptions } from './local-miner.ts'
export { GatewayMetrics } from './metrics.ts'
export {
  type DescribeModelParameters,
  describeLoadedModel,
  describeModel,
  type ServedModel,
} from './model.ts'
export { MinerPool, type MinerPoolOptions, type MinerStatus } from './pool.ts'
export {
  decodeReceiptHeader,
  encodeReceiptHeader,
  RECEIPT_HEADER,
  type VerityField,
} from './respond.ts'
export { type GatewayServer, type GatewayServerOptions, startGatewayServer } from './server.ts'
export type { GatewayOptions } from './state.ts'
export { type AskVisionOptions, askVisionMiners, type ServedVisionAnswer } from './vision/answer.ts'
export {
  type VisionMinerStatus,
  VisionPool,
  type VisionPoolOptions,
} from './vision/pool.ts'
export {
  DEFAULT_IMAGE_LIMITS,
  parseVisionRequest,
  type VisionImageLimits,
} from './vision/request.ts'
export { respondVision, type VisionVerityField } from './vision/respond.ts'
