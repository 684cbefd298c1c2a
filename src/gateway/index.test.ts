import { expect, it } from 'vitest'
import * as gateway from './index.ts'

it('exports the gateway API', () => {
  expect(Object.keys(gateway).sort()).toMatchInlineSnapshot(`
    [
      "AccountStore",
      "Accounts",
      "DEFAULT_CHAT_TEMPLATE",
      "DEFAULT_IMAGE_LIMITS",
      "GatewayMetrics",
      "LocalMiner",
      "MinerPool",
      "RECEIPT_HEADER",
      "TextStream",
      "VisionPool",
      "askVisionMiners",
      "chatTemplate",
      "compileTemplate",
      "costOf",
      "createGateway",
      "decodeReceiptHeader",
      "describeLoadedModel",
      "describeModel",
      "encodeReceiptHeader",
      "finalText",
      "findStop",
      "fixedPriceBook",
      "mapError",
      "outputText",
      "parseVisionRequest",
      "renderChat",
      "respondVision",
      "routeInference",
      "startGatewayServer",
    ]
  `)
})
