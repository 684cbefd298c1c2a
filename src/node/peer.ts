import './polyfill.ts'
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { dirname } from 'node:path'
import { generateKeyPair, privateKeyFromProtobuf, privateKeyToProtobuf } from '@libp2p/crypto/keys'
import { gossipsub } from '@libp2p/gossipsub'
import { createPeerScoreParams, createTopicScoreParams } from '@libp2p/gossipsub/score'
import { identify } from '@libp2p/identify'
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

export type PeerOptions = {
  /** The node's libp2p identity (an Ed25519 key); a fresh one when omitted. */
  privateKey?: PrivateKey
  /** TCP port on 127.0.0.1 (0 = any free port). */
  port?: number
  /** Multiaddrs (with /p2p/<id>) to dial at start. */
  bootstrap?: string[]
  /**
   * Gossip topics whose invalid messages lower the sender's peer score (a sender that keeps
   * publishing what the topic validator rejects is graylisted: its messages are dropped unread).
   */
  scoredTopics?: string[]
  signal?: AbortSignal
}

/** Protocol prefix for Verity's DHT, so it does not join a public IPFS DHT. */
export const DHT_PROTOCOL = '/verity/kad/1.0.0'

/**
 * Creates and starts a libp2p peer: TCP on 127.0.0.1, noise, yamux, identify, ping, a kad-dht
 * in server mode (loopback addresses allowed) and gossipsub.
 */
export async function createPeer(options: PeerOptions = {}) {
  options.signal?.throwIfAborted()
  const node = await createLibp2p({
    privateKey: options.privateKey ?? (await generateKeyPair('Ed25519')),
    addresses: { listen: [`/ip4/127.0.0.1/tcp/${options.port ?? 0}`] },
    transports: [tcp()],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux()],
    services: {
      identify: identify(),
      ping: ping(),
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
                // P4: each rejected message counts squared; ten put a sender below the graylist.
                invalidMessageDeliveriesWeight: -1,
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
  for (const addr of options.bootstrap ?? []) {
    try {
      await node.dial(multiaddr(addr), { signal: options.signal ?? AbortSignal.timeout(5000) })
    } catch {
      // a bootstrap peer that is down is not fatal: chain and DHT discovery continue
    }
  }
  return node
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
