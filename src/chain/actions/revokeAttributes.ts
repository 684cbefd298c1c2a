import type { Account, Address, Chain, Client, Transport } from 'viem'
import { attributeKey, type MarketWriteReturnType, writeMarket } from '../market.ts'

export type RevokeAttributesParameters = {
  /** The ComputeMarket contract. */
  address: Address
  provider: Address
  /** The attribute keys whose signature the caller withdraws. */
  keys: string[]
}

export type RevokeAttributesReturnType = MarketWriteReturnType

/**
 * The caller, as an auditor, withdraws its signature of some of a provider's attributes.
 * Waits for the receipt; a revert surfaces as viem's ContractFunctionExecutionError with the
 * market's decoded custom error.
 *
 * @example
 * await revokeAttributes(auditorWallet, { address: market, provider, keys: ['region'] })
 */
export async function revokeAttributes(
  client: Client<Transport, Chain, Account>,
  params: RevokeAttributesParameters,
  options: { signal?: AbortSignal } = {},
): Promise<RevokeAttributesReturnType> {
  return await writeMarket(
    client,
    params.address,
    'revokeAttributes',
    [params.provider, params.keys.map(attributeKey)],
    options,
  )
}
