import { expect, it } from 'vitest'
import * as market from './index.ts'

it('exports exactly the market API', () => {
  expect(Object.keys(market).sort()).toEqual([
    'MAX_SPEC_BYTES',
    'ProviderNode',
    'ProviderStore',
    'addResources',
    'canonicalSpecBytes',
    'deploySpec',
    'fits',
    'formatByteSize',
    'leaseDelegationMessage',
    'leaseSigningKey',
    'newApiKey',
    'parseByteSize',
    'parseCpuUnits',
    'parseDeploymentSpec',
    'parsePricingFlags',
    'parseResources',
    'parseVty',
    'plannedOrders',
    'processAlive',
    'residentBytes',
    'scalePricing',
    'scriptPricing',
    'shouldBid',
    'specHash',
    'startLeaseServer',
    'startProvider',
    'startProviderIngress',
    'startWorkload',
    'subtractResources',
    'vouchedSigner',
  ])
})
