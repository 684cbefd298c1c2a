import type { Account, Address, Chain, Client, Transport } from 'viem'
import { type MarketWriteReturnType, writeMarket } from '../market.ts'

export type DeregisterProviderParameters = {
  /** The ComputeMarket contract. */
  address: Address
}

export type DeregisterProviderReturnType = MarketWriteReturnType

/**
 * Removes the calling provider from the registry; refused (ProviderBusy) while it has open bids
 * or leases. Audits of this registration never count again.
 * Waits for the receipt; a revert surfaces as viem's ContractFunctionExecutionError with the
 * market's decoded custom error.
 *
 * @example
 * await deregisterProvider(providerWallet, { address: market })
 */
export async function deregisterProvider(
  client: Client<Transport, Chain, Account>,
  params: DeregisterProviderParameters,
  options: { signal?: AbortSignal } = {},
): Promise<DeregisterProviderReturnType> {
  return await writeMarket(client, params.address, 'deregisterProvider', [], options)
}
