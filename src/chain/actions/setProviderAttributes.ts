import type { Account, Address, Chain, Client, Transport } from 'viem'
import { attributes, type MarketWriteReturnType, writeMarket } from '../market.ts'

export type SetProviderAttributesParameters = {
  /** The ComputeMarket contract. */
  address: Address
  /** The caller's new attribute set (replaces the old one). */
  attributes: Record<string, string>
}

export type SetProviderAttributesReturnType = MarketWriteReturnType

/**
 * Replaces the calling provider's attributes. An auditor's signature only counts while its value
 * equals the provider's own.
 * Waits for the receipt; a revert surfaces as viem's ContractFunctionExecutionError with the
 * market's decoded custom error.
 *
 * @example
 * await setProviderAttributes(providerWallet, { address: market, attributes: { region: 'us-east' } })
 */
export async function setProviderAttributes(
  client: Client<Transport, Chain, Account>,
  params: SetProviderAttributesParameters,
  options: { signal?: AbortSignal } = {},
): Promise<SetProviderAttributesReturnType> {
  return await writeMarket(
    client,
    params.address,
    'setProviderAttributes',
    [attributes(params.attributes)],
    options,
  )
}
