import { join } from 'node:path'
import type { Address } from 'viem'
import type { LoadModelOptions } from '../runtime/model/load.ts'
import { type ChainContext, publishNode } from './chain.ts'
import { CompetitionValidator, type CompetitionValidatorInit } from './competition-validator.ts'
import type { ModelFileServer } from './model-files/server.ts'
import { serveModelFiles } from './model-files/server.ts'
import { chainModelSource } from './model-source.ts'
import { createPeer, loadPeerKey, type Peer, type PeerNetworkOptions } from './peer.ts'

/**
 * The two nodes of a model competition subnet as operators run them (`verity node --role
 * model-miner | competition-validator`): each has its own libp2p identity in its data dir and
 * publishes its addresses on chain for its hotkey, which is how validators find the miners whose
 * files they score (no list is passed around).
 */

export type CompetitionNodeOptions = {
  chain: ChainContext
  dataDir: string
  /** Listen, announce and bootstrap addresses (default: loopback on a free port). */
  network?: PeerNetworkOptions
  signal?: AbortSignal
}

async function startPeer(options: CompetitionNodeOptions): Promise<Peer> {
  const peer = await createPeer({
    privateKey: await loadPeerKey(join(options.dataDir, 'peer.key')),
    ...options.network,
    ...(options.signal ? { signal: options.signal } : {}),
  })
  try {
    await publishNode(options.chain, peer, options.signal ? { signal: options.signal } : {})
  } catch (error) {
    await peer.stop()
    throw error
  }
  return peer
}

export type ModelMinerNode = { peer: Peer; server: ModelFileServer; stop(): Promise<void> }

/**
 * A model miner: serves its committed GGUF files on `/verity/model-file/1` (every chunk with its
 * proof against the file root the commitment names) from a node published for its hotkey.
 * Committing is `verity model publish`; this node only serves.
 */
export async function startModelMinerNode(
  options: CompetitionNodeOptions & { files: readonly string[] },
): Promise<ModelMinerNode> {
  const peer = await startPeer(options)
  let server: ModelFileServer
  try {
    server = await serveModelFiles(peer, options.files, {
      ...(options.signal ? { signal: options.signal } : {}),
    })
  } catch (error) {
    await peer.stop()
    throw error
  }
  return {
    peer,
    server,
    stop: async () => {
      await server.stop()
      await peer.stop()
    },
  }
}

export type CompetitionValidatorNode = {
  peer: Peer
  validator: CompetitionValidator
  stop(): Promise<void>
}

/**
 * A competition validator: every epoch it downloads each counted commitment from the node the
 * committing hotkey published (chainModelSource), scores it and sets weights
 * (CompetitionValidator), until stop().
 */
export async function startCompetitionValidatorNode(
  options: CompetitionNodeOptions & {
    /** The ModelCompetition contract. */
    competition: Address
    evaluation: CompetitionValidatorInit['evaluation']
    load?: LoadModelOptions
    pollMs?: number
  },
): Promise<CompetitionValidatorNode> {
  const { chain } = options
  const peer = await startPeer(options)
  const validator = new CompetitionValidator({
    publicClient: chain.publicClient,
    walletClient: chain.walletClient,
    address: chain.address,
    competition: options.competition,
    netuid: chain.netuid,
    source: chainModelSource(peer, chain),
    evaluation: options.evaluation,
    ...(options.load ? { load: options.load } : {}),
    ...(options.pollMs === undefined ? {} : { pollMs: options.pollMs }),
  })
  validator.start()
  return {
    peer,
    validator,
    stop: async () => {
      await validator.stop()
      await peer.stop()
    },
  }
}
