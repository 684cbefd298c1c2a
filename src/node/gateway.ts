import { join } from 'node:path'
import type { LocalAccount } from 'viem/accounts'
import { describeLoadedModel } from '../gateway/model.ts'
import { MinerPool } from '../gateway/pool.ts'
import { type GatewayServer, startGatewayServer } from '../gateway/server.ts'
import type { Model } from '../runtime/model/load.ts'
import type { InferenceEvent, InferenceRequest, MinerClient } from '../types/inference.ts'
import { type ChainContext, publishNode, readNeurons } from './chain.ts'
import { Libp2pMinerClient } from './client.ts'
import { log } from './log.ts'
import { createPeer, loadPeerKey, type Peer } from './peer.ts'
import { publishReceipt } from './validator.ts'

/** A MinerClient that gossips each finished answer's receipt bundle for validators to sample. */
export function gossipingClient(inner: MinerClient, peer: Peer, netuid: number): MinerClient {
  return {
    hotkey: inner.hotkey,
    ...(inner.peerId === undefined ? {} : { peerId: inner.peerId }),
    async *infer(
      request: InferenceRequest,
      options?: { signal?: AbortSignal },
    ): AsyncIterable<InferenceEvent> {
      for await (const event of inner.infer(request, options)) {
        if (event.type === 'done')
          void publishReceipt(peer, netuid, {
            request,
            receipt: event.receipt,
            tokens: event.tokens,
          }).catch(() => {})
        yield event
      }
    },
  }
}

export type GatewayNode = {
  peer: Peer
  server: GatewayServer
  pool: MinerPool
  stop(): Promise<void>
}

/**
 * The gateway role: a libp2p peer that finds the subnet's miners on chain (refreshed every
 * `refreshMs`), routes the OpenAI-compatible HTTP API (src/gateway) to them, and gossips receipts.
 */
export async function startGatewayNode(options: {
  hotkey: LocalAccount
  chain: ChainContext
  model: Model
  dataDir: string
  port?: number
  refreshMs?: number
  signal?: AbortSignal
}): Promise<GatewayNode> {
  const logger = log('node:gateway')
  const peer = await createPeer({
    privateKey: await loadPeerKey(join(options.dataDir, 'peer.key')),
  })
  const pool = new MinerPool(describeLoadedModel(options.model))
  const known = new Set<string>()
  const refresh = async () => {
    const neurons = await readNeurons(options.chain)
    for (const n of neurons) {
      if (n.peerId === undefined || known.has(n.hotkey.toLowerCase())) continue
      if (n.hotkey.toLowerCase() === options.hotkey.address.toLowerCase()) continue
      known.add(n.hotkey.toLowerCase())
      const client = new Libp2pMinerClient({
        peer,
        hotkey: n.hotkey,
        peerId: n.peerId,
        multiaddrs: n.multiaddrs,
        caller: options.hotkey,
      })
      pool.add(gossipingClient(client, peer, options.chain.netuid))
      logger('miner uid %d %s added', n.uid, n.hotkey)
    }
  }
  const server = startGatewayServer({ pools: [pool], port: options.port ?? 8080 })
  let timer: ReturnType<typeof setInterval> | undefined
  const stop = async () => {
    clearInterval(timer)
    await server.stop().catch(() => {})
    await peer.stop()
  }
  try {
    await publishNode(options.chain, peer, options.signal ? { signal: options.signal } : {}).catch(
      (error) => {
        // a gateway need not be registered: publishing is best effort
        logger('not published on chain: %s', (error as Error).message.split('\n')[0])
      },
    )
    await refresh()
    timer = setInterval(
      () => void refresh().catch((e) => logger.error('refresh failed: %e', e)),
      options.refreshMs ?? 10_000,
    )
    timer.unref()
    await server.start(options.signal ? { signal: options.signal } : {})
  } catch (error) {
    await stop()
    throw error
  }
  return { peer, server, pool, stop }
}
