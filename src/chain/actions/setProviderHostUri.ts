import type { Account, Address, Chain, Client, Transport } from 'viem'
import { type MarketWriteReturnType, writeMarket } from '../market.ts'

export type SetProviderHostUriParameters = {
  /** The ComputeMarket contract. */
  address: Address
  hostUri: string
}

export type SetProviderHostUriReturnType = MarketWriteReturnType

/**
 * Changes the calling provider's host URI.
 * Waits for the receipt; a revert surfaces as viem's ContractFunctionExecutionError with the
 * market's decoded custom error.
 *
 * @example
 * await setProviderHostUri(providerWallet, { address: market, hostUri: 'https://p1.example:8443' })
 */
export async function setProviderHostUri(
  client: Client<Transport, Chain, Account>,
  params: SetProviderHostUriParameters,
  options: { signal?: AbortSignal } = {},
): Promise<SetProviderHostUriReturnType> {
  return await writeMarket(client, params.address, 'setHostUri', [params.hostUri], options)
}
