import { expect, it } from 'vitest'
import * as gateway from './index.ts'

it('exports the gateway API', () => {
  expect(Object.keys(gateway).sort()).toMatchInlineSnapshot(`
    [
      "DEFAULT_CHAT_TEMPLATE",
      "GatewayMetrics",
      "LocalMiner",
      "MinerPool",
      "RECEIPT_HEADER",
      "TextStream",
      "chatTemplate",
      "compileTemplate",
      "createGateway",
      "decodeReceiptHeader",
      "describeLoadedModel",
      "describeModel",
      "encodeReceiptHeader",
      "finalText",
      "findStop",
      "mapError",
      "outputText",
      "renderChat",
      "routeInference",
      "startGatewayServer",
    ]
  `)
})
