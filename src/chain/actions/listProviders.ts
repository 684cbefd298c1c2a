import type { Address, Chain, Client, Hex, Transport } from 'viem'
import { marketLogs } from './listOrders.ts'

export type ListProvidersParameters = {
  /** The ComputeMarket contract (its provider registry). */
  address: Address
  /** Only providers registered now (not deregistered since). */
  registeredOnly?: boolean
  /** The first block to search (default 0: pass the deployment's block). */
  fromBlock?: bigint
}

/** One provider as the registry's events tell it. */
export type ProviderSummary = {
  provider: Address
  /** Still registered (no ProviderDeregistered after its last registration). */
  registered: boolean
  /** Bumped on every registration. */
  generation: number
  hostUri: string
  /** Its own attributes as stored (bytes32; `fromBytes32` gives the strings). */
  attributes: { key: Hex; value: Hex }[]
  /** The block of its last registration. */
  registeredBlock: bigint
}

export type ListProvidersReturnType = ProviderSummary[]

const EVENTS = [
  'ProviderRegistered',
  'ProviderAttributesSet',
  'ProviderHostUriSet',
  'ProviderDeregistered',
] as const

/**
 * Lists providers from the registry's events (ProviderRegistered, ProviderAttributesSet,
 * ProviderHostUriSet, ProviderDeregistered), in the order they first registered: one eth_getLogs
 * for the four kinds. getProvider reads one's open bids and leases.
 *
 * @example
 * const providers = await listProviders(publicClient, { address: market, registeredOnly: true })
 */
export async function listProviders(
  client: Client<Transport, Chain>,
  params: ListProvidersParameters,
  options: { signal?: AbortSignal } = {},
): Promise<ListProvidersReturnType> {
  options.signal?.throwIfAborted()
  const byAddress = new Map<string, ProviderSummary>()
  for (const log of await marketLogs(client, params.address, EVENTS, params.fromBlock)) {
    if (log.eventName === 'ProviderRegistered') {
      byAddress.set(log.args.provider.toLowerCase(), {
        provider: log.args.provider,
        registered: true,
        generation: log.args.generation,
        hostUri: log.args.hostUri,
        attributes: log.args.attributes.map((a) => ({ key: a.key, value: a.value })),
        registeredBlock: log.blockNumber,
      })
    } else if (log.eventName === 'ProviderAttributesSet') {
      const p = byAddress.get(log.args.provider.toLowerCase())
      if (p) p.attributes = log.args.attributes.map((a) => ({ key: a.key, value: a.value }))
    } else if (log.eventName === 'ProviderHostUriSet') {
      const p = byAddress.get(log.args.provider.toLowerCase())
      if (p) p.hostUri = log.args.hostUri
    } else if (log.eventName === 'ProviderDeregistered') {
      const p = byAddress.get(log.args.provider.toLowerCase())
      if (p) p.registered = false
    }
  }
  return [...byAddress.values()].filter((p) => !params.registeredOnly || p.registered)
}
