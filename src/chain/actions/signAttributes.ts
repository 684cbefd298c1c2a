import type { Account, Address, Chain, Client, Transport } from 'viem'
import { attributes, type MarketWriteReturnType, writeMarket } from '../market.ts'

export type SignAttributesParameters = {
  /** The ComputeMarket contract. */
  address: Address
  /** The registered provider the caller vouches for. */
  provider: Address
  /** The attributes the caller, as an auditor, signs. */
  attributes: Record<string, string>
}

export type SignAttributesReturnType = MarketWriteReturnType

/**
 * The caller, as an auditor, signs attributes of a registered provider on chain. Orders name the
 * auditors they trust (signedByAnyOf / signedByAllOf).
 * Waits for the receipt; a revert surfaces as viem's ContractFunctionExecutionError with the
 * market's decoded custom error.
 *
 * @example
 * await signAttributes(auditorWallet, { address: market, provider, attributes: { region: 'eu-west' } })
 */
export async function signAttributes(
  client: Client<Transport, Chain, Account>,
  params: SignAttributesParameters,
  options: { signal?: AbortSignal } = {},
): Promise<SignAttributesReturnType> {
  return await writeMarket(
    client,
    params.address,
    'signAttributes',
    [params.provider, attributes(params.attributes)],
    options,
  )
}
