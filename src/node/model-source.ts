import { readFile } from 'node:fs/promises'
import { peerIdFromString } from '@libp2p/peer-id'
import { type Multiaddr, multiaddr } from '@multiformats/multiaddr'
import type { Address, Chain, Client, Transport } from 'viem'
import { getNode } from '../chain/actions/getNode.ts'
import { NodeError } from '../errors/node.ts'
import type { ModelSource } from './competition-validator.ts'
import { fetchModelFile } from './model-files/fetch.ts'
import { type Peer, peerIdFromBytes } from './peer.ts'

/**
 * A ModelSource reading each hotkey's file from a local path (the devnet, tests): the miners'
 * files are on this machine. A hotkey with no path is a miner that serves nothing.
 */
export function localFileSource(
  paths: ReadonlyMap<Address, string> | Record<string, string>,
): ModelSource {
  const byHotkey = new Map<string, string>(
    [...(paths instanceof Map ? paths.entries() : Object.entries(paths))].map(([k, v]) => [
      k.toLowerCase(),
      v,
    ]),
  )
  return async (_commit, hotkey, signal) => {
    const path = byHotkey.get(hotkey.toLowerCase())
    if (path === undefined) throw new NodeError(`${hotkey} serves no model file`)
    return new Uint8Array(await readFile(path, { signal }))
  }
}

/** Where a hotkey's node listens (the metagraph's published peer id and addresses). */
export type MinerLocation = { peerId: string; multiaddrs: readonly Multiaddr[] }

/**
 * A ModelSource downloading each file over libp2p (`/verity/model-file/1`) from the committing
 * hotkey's node, found by `locate`, every chunk checked against the committed file root
 * (fetchModelFile). A hotkey with no known node is a miner that serves nothing.
 */
export function libp2pModelSource(
  peer: Peer,
  locate: (hotkey: Address) => MinerLocation | undefined,
  options: { maxBytes?: bigint } = {},
): ModelSource {
  return async (commit, hotkey, signal) => {
    const at = locate(hotkey)
    if (at === undefined) throw new NodeError(`${hotkey} has no known node to fetch from`)
    if (at.multiaddrs.length > 0)
      await peer.peerStore.merge(peerIdFromString(at.peerId), { multiaddrs: [...at.multiaddrs] })
    return await fetchModelFile(peer, at.peerId, commit, {
      signal,
      ...(options.maxBytes === undefined ? {} : { maxBytes: options.maxBytes }),
    })
  }
}

/**
 * A ModelSource that finds each committing hotkey's node where every node publishes it, on chain
 * (`Verity.node(netuid, hotkey)`: peer id and multiaddrs), read afresh for every file, and
 * downloads over libp2p (libp2pModelSource). A hotkey that published no node, or a malformed
 * one, serves nothing: its model scores 0 with that reason.
 */
export function chainModelSource(
  peer: Peer,
  chain: { publicClient: Client<Transport, Chain>; address: Address; netuid: number },
  options: { maxBytes?: bigint } = {},
): ModelSource {
  return async (commit, hotkey, signal) => {
    const [peerIdBytes, addrs] = await getNode(
      chain.publicClient,
      { address: chain.address, netuid: chain.netuid, hotkey },
      { signal },
    )
    if (peerIdBytes === '0x') throw new NodeError(`${hotkey} has published no node on chain`)
    let at: MinerLocation
    try {
      at = {
        peerId: peerIdFromBytes(peerIdBytes).toString(),
        multiaddrs: addrs.map((a) => multiaddr(a)),
      }
    } catch (cause) {
      throw new NodeError(`${hotkey} published a node that cannot be read`, { cause })
    }
    return await libp2pModelSource(peer, () => at, options)(commit, hotkey, signal)
  }
}
