import { expect, it } from 'vitest'
import * as market from './index.ts'

it('exports exactly the market API', () => {
  expect(Object.keys(market).sort()).toEqual([
    'MAX_SPEC_BYTES',
    'addResources',
    'canonicalSpecBytes',
    'fits',
    'formatByteSize',
    'parseByteSize',
    'parseCpuUnits',
    'parseDeploymentSpec',
    'parsePricingFlags',
    'parseResources',
    'parseVty',
    'plannedOrders',
    'scalePricing',
    'scriptPricing',
    'shouldBid',
    'specHash',
    'subtractResources',
  ])
})
