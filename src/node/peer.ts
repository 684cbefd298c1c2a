import './polyfill.ts'
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { dirname } from 'node:path'
import { autoNAT } from '@libp2p/autonat'
import { bootstrap } from '@libp2p/bootstrap'
import { circuitRelayServer, circuitRelayTransport } from '@libp2p/circuit-relay-v2'
import { generateKeyPair, privateKeyFromProtobuf, privateKeyToProtobuf } from '@libp2p/crypto/keys'
import { dcutr } from '@libp2p/dcutr'
import { gossipsub } from '@libp2p/gossipsub'
import { createPeerScoreParams, createTopicScoreParams } from '@libp2p/gossipsub/score'
import { identify, identifyPush } from '@libp2p/identify'
import type { PeerId, PrivateKey } from '@libp2p/interface'
import { kadDHT, passthroughMapper } from '@libp2p/kad-dht'
import { noise } from '@libp2p/noise'
import { peerIdFromString } from '@libp2p/peer-id'
import { ping } from '@libp2p/ping'
import { tcp } from '@libp2p/tcp'
import { yamux } from '@libp2p/yamux'
import { multiaddr } from '@multiformats/multiaddr'
import { sha256 } from '@noble/hashes/sha2.js'
import { createLibp2p } from 'libp2p'
import { base58btc } from 'multiformats/bases/base58'
import { bytesToHex, type Hex, hexToBytes } from 'viem'
import { PeerUnavailableError } from '../errors/node.ts'

/** Where a node listens, what it tells others, whom it asks first (`verity node` flags). */
export type PeerNetworkOptions = {
  /**
   * Multiaddrs to listen on (default `/ip4/127.0.0.1/tcp/<port>`); `/p2p-circuit` listens
   * through a relay (a node that cannot be dialled directly).
   */
  listen?: string[]
  /**
   * Multiaddrs others should dial (published on chain for the hotkey): a public address or DNS
   * name when the node listens behind NAT or on 0.0.0.0 (default: the listen addresses).
   */
  announce?: string[]
  /** Multiaddrs with /p2p/<id> dialled at start and found again by the bootstrap discovery. */
  bootstrap?: string[]
  /**
   * Serve as a circuit relay (hop) for nodes that cannot be dialled directly; they reach the
   * network through `/p2p-circuit` addresses and upgrade with hole punching (dcutr).
   */
  relay?: boolean
}

export type PeerOptions = PeerNetworkOptions & {
  /** The node's libp2p identity (an Ed25519 key); a fresh one when omitted. */
  privateKey?: PrivateKey
  /** TCP port on 127.0.0.1 when `listen` is not given (0 = any free port). */
  port?: number
  /**
   * Gossip topics whose invalid messages lower the sender's peer score (a sender that keeps
   * publishing what the topic validator rejects is graylisted: its messages are dropped unread).
   */
  scoredTopics?: string[]
  signal?: AbortSignal
}

/** Protocol prefix for Verity's DHT, so it does not join a public IPFS DHT. */
export const DHT_PROTOCOL = '/verity/kad/1.0.0'

/** Parses multiaddrs from the command line or a config; the error names the bad one. */
export function parseMultiaddrs(values: readonly string[], what: string) {
  return values.map((value) => {
    try {
      return multiaddr(value)
    } catch (error) {
      throw new PeerUnavailableError(`${what}: '${value}' is not a multiaddr`, { cause: error })
    }
  })
}

/**
 * Creates and starts a libp2p peer: TCP on the listen addresses (loopback by default), the
 * circuit relay transport (nodes behind NAT are reached through relays, then hole-punched with
 * dcutr), noise, yamux, identify, ping, autonat (a node learns from its peers whether its
 * addresses are dialable), a kad-dht in server mode on Verity's own protocol (private and
 * loopback addresses allowed: networks inside a datacentre or a test namespace), gossipsub, and
 * bootstrap discovery.
 */
export async function createPeer(options: PeerOptions = {}) {
  options.signal?.throwIfAborted()
  const listen = options.listen?.length
    ? options.listen
    : [`/ip4/127.0.0.1/tcp/${options.port ?? 0}`]
  parseMultiaddrs(listen, 'listen address')
  parseMultiaddrs(options.announce ?? [], 'announce address')
  const bootstrapAddrs = parseMultiaddrs(options.bootstrap ?? [], 'bootstrap address')
  for (const addr of bootstrapAddrs)
    if (addr.getComponents().find((c) => c.name === 'p2p') === undefined)
      throw new PeerUnavailableError(
        `bootstrap address: '${addr.toString()}' has no /p2p/<peer id> (a bootstrap peer must be named)`,
      )
  const node = await createLibp2p({
    privateKey: options.privateKey ?? (await generateKeyPair('Ed25519')),
    addresses: {
      // a node behind NAT adds '/p2p-circuit' to its listen addresses: it reserves a slot on a relay
      listen,
      ...(options.announce?.length ? { announce: options.announce } : {}),
    },
    transports: [tcp(outboundFrom(listen)), circuitRelayTransport()],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux()],
    ...(bootstrapAddrs.length > 0
      ? { peerDiscovery: [bootstrap({ list: bootstrapAddrs.map(String) })] }
      : {}),
    services: {
      identify: identify(),
      // protocols a node starts serving after a connection opened (a miner that dialled its
      // bootstrap peers before its infer handler was up) reach its peers
      identifyPush: identifyPush(),
      ping: ping(),
      autoNAT: autoNAT(),
      dcutr: dcutr(),
      ...(options.relay ? { relay: circuitRelayServer() } : {}),
      dht: kadDHT({ protocol: DHT_PROTOCOL, clientMode: false, peerInfoMapper: passthroughMapper }),
      pubsub: gossipsub({
        allowPublishToZeroTopicPeers: true,
        emitSelf: false,
        // Message ids by content: the same bundle published twice, by anyone, is one message,
        // and publishing it again (a client resubmitting an answer) is not an error.
        msgIdFn: (message) => sha256(message.data),
        ignoreDuplicatePublishError: true,
        scoreParams: createPeerScoreParams({
          topics: Object.fromEntries(
            (options.scoredTopics ?? []).map((topic) => [
              topic,
              createTopicScoreParams({
                topicWeight: 1,
                timeInMeshWeight: 0,
                firstMessageDeliveriesWeight: 0,
                meshMessageDeliveriesWeight: 0,
                meshFailurePenaltyWeight: 0,
                // P4: each rejected message counts squared. Three put a sender below the graylist,
                // and nine keep it there for about two minutes of decay (0.99 a second). An
                // honest node never publishes what this topic rejects (a bad signature or
                // binding), so the only cost is to whoever forges.
                invalidMessageDeliveriesWeight: -10,
                invalidMessageDeliveriesDecay: 0.99,
              }),
            ]),
          ),
        }),
        scoreThresholds: {
          gossipThreshold: -10,
          publishThreshold: -50,
          graylistThreshold: -80,
        },
      }),
    },
  })
  for (const addr of bootstrapAddrs) {
    try {
      await node.dial(addr, { signal: options.signal ?? AbortSignal.timeout(5000) })
    } catch {
      // a bootstrap peer that is down is not fatal: chain and DHT discovery continue
    }
  }
  return node
}

/**
 * A node that listens on one specific IPv4 address dials out from it too (a host with several
 * addresses: its peers see the connection come from the address it announced, and a firewall
 * rule for that address covers the node's traffic both ways). Any other listen set leaves the
 * choice to the kernel.
 */
function outboundFrom(listen: readonly string[]): Parameters<typeof tcp>[0] {
  const specific = listen
    .map((a) => /^\/ip4\/([0-9.]+)\/tcp\/\d+$/.exec(a)?.[1])
    .filter((ip): ip is string => ip !== undefined && ip !== '0.0.0.0')
  if (specific.length !== 1 || listen.length !== 1) return {}
  // net.connect's localAddress: not in TCPSocketOptions' type, passed through as is
  return { dialOpts: { localAddress: specific[0] } as never }
}

export type Peer = Awaited<ReturnType<typeof createPeer>>

/** Loads the node's libp2p key from `path`, creating it on first use. */
export async function loadPeerKey(path: string): Promise<PrivateKey> {
  try {
    return privateKeyFromProtobuf(readFileSync(path))
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error
  }
  const key = await generateKeyPair('Ed25519')
  mkdirSync(dirname(path), { recursive: true })
  writeFileSync(path, privateKeyToProtobuf(key), { mode: 0o600 })
  return key
}

/** A peer id as the bytes published on chain (its multihash). */
export function peerIdToBytes(peerId: PeerId): Hex {
  return bytesToHex(peerId.toMultihash().bytes)
}

/** The inverse of peerIdToBytes. */
export function peerIdFromBytes(bytes: Hex): PeerId {
  try {
    return peerIdFromString(base58btc.encode(hexToBytes(bytes)).slice(1))
  } catch (error) {
    throw new PeerUnavailableError(`invalid peer id bytes on chain: ${bytes}`, { cause: error })
  }
}
