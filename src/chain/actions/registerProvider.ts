import type { Account, Address, Chain, Client, Transport } from 'viem'
import { attributes, type MarketWriteReturnType, writeMarket } from '../market.ts'

export type RegisterProviderParameters = {
  /** The ComputeMarket contract. */
  address: Address
  /** Its gateway, where tenants send manifests (1..256 bytes). */
  hostUri: string
  /** Its own attributes, e.g. { region: 'eu-west', gpu: 'h100' } (at most 32). */
  attributes: Record<string, string>
}

export type RegisterProviderReturnType = MarketWriteReturnType

/**
 * Registers the caller as a provider with a host URI and its attributes.
 * Waits for the receipt; a revert surfaces as viem's ContractFunctionExecutionError with the
 * market's decoded custom error.
 *
 * @example
 * await registerProvider(providerWallet, { address: market, hostUri: 'https://p1:8443', attributes: { region: 'eu-west' } })
 */
export async function registerProvider(
  client: Client<Transport, Chain, Account>,
  params: RegisterProviderParameters,
  options: { signal?: AbortSignal } = {},
): Promise<RegisterProviderReturnType> {
  return await writeMarket(
    client,
    params.address,
    'registerProvider',
    [params.hostUri, attributes(params.attributes)],
    options,
  )
}
