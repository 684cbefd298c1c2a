import type { Address, Chain, Client, Transport } from 'viem'
import { getBlockNumber } from 'viem/actions'
import type { Peer } from './peer.ts'
import type { SubnetView } from './subnet-view.ts'

/** What a load balancer or an operator needs to know of a node; `ready` decides 200 or 503. */
export type NodeHealth = {
  ready: boolean
  role: 'miner' | 'validator' | 'gateway'
  hotkey: Address
  /** The hotkey's uid on the subnet, as of the last metagraph read (null: not registered). */
  uid: number | null
  chain: ChainHealth
  /** Distinct peers connected now. */
  peers: number
}

export type ChainHealth = { reachable: boolean; head: number | null }

/**
 * The chain's head, read at most once per `cacheMs` however often /health is asked (a scraper or
 * an attacker hammering /health must not become RPC load). A failure says only `reachable:
 * false`: the RPC error may name the endpoint's URL and its key.
 */
export function chainProbe(
  client: Client<Transport, Chain>,
  options: { cacheMs?: number; timeoutMs?: number } = {},
): () => Promise<ChainHealth> {
  let last: { at: number; health: Promise<ChainHealth> } | undefined
  return () => {
    const now = Date.now()
    if (last && now - last.at < (options.cacheMs ?? 1000)) return last.health
    const timeout = options.timeoutMs ?? 2000
    const health = Promise.race([
      getBlockNumber(client, { cacheTime: 0 }).then((head) => ({
        reachable: true,
        head: Number(head),
      })),
      new Promise<ChainHealth>((resolve) =>
        setTimeout(() => resolve({ reachable: false, head: null }), timeout).unref(),
      ),
    ]).catch(() => ({ reachable: false, head: null }))
    last = { at: now, health }
    return health
  }
}

/** Distinct remote peers among the peer's open connections. */
export function connectedPeers(peer: Peer): number {
  return new Set(peer.getConnections().map((c) => c.remotePeer.toString())).size
}

/** A miner's or validator's health: ready when the chain answers and its hotkey has a uid. */
export function nodeHealth(options: {
  role: 'miner' | 'validator'
  hotkey: Address
  view: SubnetView
  peer: Peer
  chain: () => Promise<ChainHealth>
}): () => Promise<NodeHealth> {
  return async () => {
    const chain = await options.chain()
    const uid = options.view.neuron(options.hotkey)?.uid ?? null
    return {
      ready: chain.reachable && uid !== null,
      role: options.role,
      hotkey: options.hotkey,
      uid,
      chain,
      peers: connectedPeers(options.peer),
    }
  }
}
