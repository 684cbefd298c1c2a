import { expect, it } from 'vitest'
import * as gateway from './index.ts'

it('exports the gateway API', () => {
  expect(Object.keys(gateway).sort()).toMatchInlineSnapshot(`
    [
      "AccountStore",
      "Accounts",
      "DEFAULT_CHAT_TEMPLATE",
      "GatewayMetrics",
      "LocalMiner",
      "MinerPool",
      "RECEIPT_HEADER",
      "TextStream",
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
      "renderChat",
      "routeInference",
      "startGatewayServer",
    ]
  `)
})
