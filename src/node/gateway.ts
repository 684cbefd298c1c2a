import { join } from 'node:path'
import type { Message } from '@libp2p/gossipsub'
import { TopicValidatorResult } from '@libp2p/gossipsub'
import type { PeerId } from '@libp2p/interface'
import type { LocalAccount } from 'viem/accounts'
import { BaseError } from '../errors/base.ts'
import { InvalidRequestError } from '../errors/gateway.ts'
import { RemoteError } from '../errors/node.ts'
import { Accounts } from '../gateway/accounts/meter.ts'
import type { PriceBook } from '../gateway/accounts/price.ts'
import { AccountStore, accountStorePath } from '../gateway/accounts/store.ts'
import { GatewayMetrics } from '../gateway/metrics.ts'
import { describeLoadedModel } from '../gateway/model.ts'
import { MinerPool } from '../gateway/pool.ts'
import type { DashboardOptions } from '../gateway/routes/dashboard.ts'
import { type GatewayServer, type GatewayTls, startGatewayServer } from '../gateway/server.ts'
import type { VisionPool } from '../gateway/vision/pool.ts'
import type { Model } from '../runtime/model/load.ts'
import type { InferenceEvent, InferenceRequest, MinerClient } from '../types/inference.ts'
import type { ReceiptBundle } from '../verify/bundle.ts'
import { verifyEvidence } from '../verify/evidence.ts'
import { promptRenderer } from '../verify/prompt/render.ts'
import { type ChainContext, publishNode } from './chain.ts'
import { Libp2pMinerClient } from './client.ts'
import { MinerDiscovery } from './discover.ts'
import { INFER_PROTOCOL } from './frames.ts'
import {
  decodeJson,
  evidenceTopic,
  judgeBundle,
  publishBundle,
  RateLimiter,
  receiptTopic,
} from './gossip.ts'
import { chainProbe, connectedPeers } from './health.ts'
import { log } from './log.ts'
import { registerChainCalls, registerGauge } from './metrics.ts'
import { type PayerInit, PaymentSender } from './payer.ts'
import { createPeer, loadPeerKey, type Peer, type PeerNetworkOptions } from './peer.ts'
import { fetchPriceSheet } from './price.ts'
import { type NeuronView, SubnetView } from './subnet-view.ts'

export type GatewayNode = {
  peer: Peer
  server: GatewayServer
  pool: MinerPool
  view: SubnetView
  /** Miners benched by verified evidence: hotkey (lower-case) → last epoch of the bench. */
  benched: ReadonlyMap<string, number>
  /** Pays priced miners by voucher (when `payments` is given). */
  payer?: PaymentSender
  stop(): Promise<void>
}

/** Routing weight of a miner the validators have not judged yet (its first epochs). */
const EXPLORE_SCORE = 0.05

/**
 * The gateway role: a libp2p peer that routes the OpenAI-compatible HTTP API (src/gateway) to the
 * subnet's miners by the validators' verdict, and hands every answer to the validators.
 * - Miners are the uids published on chain whose node speaks `/verity/infer/1` (asked through
 *   libp2p identify before any request is routed to it): validators and other gateways never
 *   enter the pool.
 * - A miner's routing weight is its incentive from the last epoch, read from chain; a miner in its
 *   first epochs gets a small exploration weight so that validators' verdicts can form; a miner
 *   with verified evidence against it (evidence gossiped by a staked validator and re-executed
 *   here) gets none for `evidenceEpochs` epochs.
 * - Every answer's bundle, and every bundle a client submits to `/v1/verity/receipts`, is gossiped
 *   on the subnet's receipt topic.
 */
export async function startGatewayNode(options: {
  hotkey: LocalAccount
  chain: ChainContext
  model: Model
  dataDir: string
  port?: number
  /** The HTTP API's bind address (default 127.0.0.1) and TLS (default plain HTTP). */
  host?: string
  tls?: GatewayTls
  /** Listen, announce and bootstrap addresses, relay service (default: loopback). */
  network?: PeerNetworkOptions
  /** Epochs a miner stays out of routing after verified evidence (default 4). */
  evidenceEpochs?: number
  /**
   * Gateway accounts: API keys, limits and credit from `<dataDir>/gateway.sqlite` (managed with
   * `verity gateway keys`), charged at these prices. Absent: the API is open.
   */
  auth?: { prices: PriceBook }
  /**
   * Pay priced miners by voucher (manifest `contracts.payments`, the VTY token): a channel per
   * miner with `deposit`, a voucher after each answer (src/node/payer.ts). Absent: miners that
   * charge serve this gateway only up to their credit limit.
   */
  payments?: Omit<PayerInit, 'peer' | 'chain'>
  /** Browser origins allowed to call the API (CORS); none by default. */
  corsOrigins?: readonly string[]
  /** Serve the web dashboard at /dashboard (the chain it reads, the model files by modelRoot). */
  dashboard?: DashboardOptions
  /** Serve a proven image classifier through the chat API (its miners may be added later). */
  vision?: VisionPool
  /**
   * Host names the API answers to besides loopback and IP addresses (DNS-rebinding guard): the
   * public name(s) it is reached by. Default: none, so only loopback and addresses.
   */
  allowedHosts?: readonly string[]
  signal?: AbortSignal
}): Promise<GatewayNode> {
  const logger = log('node:gateway')
  const { chain } = options
  const netuid = chain.netuid
  const peer = await createPeer({
    privateKey: await loadPeerKey(join(options.dataDir, 'peer.key')),
    scoredTopics: [receiptTopic(netuid), evidenceTopic(netuid)],
    ...options.network,
  })
  const view = new SubnetView({ publicClient: chain.publicClient, address: chain.address, netuid })
  const pool = new MinerPool(describeLoadedModel(options.model))
  const payer = options.payments
    ? new PaymentSender({ ...options.payments, peer, chain })
    : undefined
  /** Pays each priced answer with a voucher, in the background (the user has the answer). */
  const paying = (inner: MinerClient, peerId: string): MinerClient => {
    if (!payer) return inner
    return {
      hotkey: inner.hotkey,
      ...(inner.peerId === undefined ? {} : { peerId: inner.peerId }),
      async *infer(request, opts) {
        for await (const event of inner.infer(request, opts)) {
          if (event.type === 'done' && request.price)
            void payer
              .pay(
                { hotkey: inner.hotkey, peerId },
                { request, tokens: event.tokens, receipt: event.receipt },
              )
              .catch((error) =>
                logger('voucher to %s failed: %s', inner.hotkey, (error as Error).message),
              )
          yield event
        }
      },
    }
  }
  const self = options.hotkey.address.toLowerCase()
  const benched = new Map<string, number>()
  const firstSeen = new Map<string, number>()
  /** hotkey (lower-case) → its published peer id and whether that node speaks the infer protocol. */
  const kinds = new Map<string, { peerId: string; miner: boolean }>()

  const isBenched = (key: string) => {
    const until = benched.get(key)
    return until !== undefined && view.epoch <= until
  }
  const score = (n: NeuronView): number => {
    const key = n.hotkey.toLowerCase()
    if (isBenched(key)) return 0
    const seen = firstSeen.get(key) ?? view.epoch
    // No verdict at all yet (a new subnet, validators down): everyone not benched is explored,
    // rather than no one served.
    const verdict = view.neurons.some(
      (m) =>
        m.incentive > 0 &&
        kinds.get(m.hotkey.toLowerCase())?.miner &&
        !isBenched(m.hotkey.toLowerCase()),
    )
    const explore = view.epoch - seen < 3 || !verdict ? EXPLORE_SCORE : 0
    return Math.max(n.incentive / 65535, explore)
  }

  /** Asks a published node which protocols it speaks; a miner joins the pool. */
  const discovery = new MinerDiscovery(peer)
  const discover = async (n: NeuronView) => {
    const key = n.hotkey.toLowerCase()
    const miner = await discovery.isMiner(n)
    if (miner === undefined) {
      logger('uid %d %s not reachable yet', n.uid, n.hotkey)
      return
    }
    // Not a miner (a validator, another gateway): the connection stays for the gossip mesh.
    kinds.set(key, { peerId: n.peerId!, miner })
    if (!miner) {
      logger('uid %d %s is not a miner (no %s)', n.uid, n.hotkey, INFER_PROTOCOL)
      return
    }
    const client = paying(
      repricing(
        new Libp2pMinerClient({
          peer,
          hotkey: n.hotkey,
          peerId: n.peerId!,
          multiaddrs: n.multiaddrs,
          caller: options.hotkey,
        }),
        () => void refreshPrice(n, { force: true }),
      ),
      n.peerId!,
    )
    pool.add(client, { score: score(n) })
    logger('miner uid %d %s added', n.uid, n.hotkey)
    await refreshPrice(n)
  }

  /**
   * Fetches and checks a miner's signed price sheet; routing by price and `max_price` use it,
   * and a miner without one (unreachable, forged, expired) is left out of price-capped requests.
   */
  const priceAskedAt = new Map<string, number>()
  const repricedAt = new Map<string, number>()
  const refreshPrice = async (n: NeuronView, how: { force?: boolean } = {}) => {
    const key = n.hotkey.toLowerCase()
    // at most one ask per miner every 30 s, whatever the metagraph refresh rate; a miner that
    // refused our price (it changed its sheet) is asked again at once, but at most once a second
    const asked = how.force ? repricedAt : priceAskedAt
    if (Date.now() - (asked.get(key) ?? 0) < (how.force ? 1000 : 30_000)) return
    asked.set(key, Date.now())
    priceAskedAt.set(key, Date.now())
    try {
      const sheet = await fetchPriceSheet(peer, n.peerId!, {
        chainId: chain.chainId,
        netuid,
        modelRoot: pool.model.modelRoot,
        verifyingContract: chain.address,
        minerHotkey: n.hotkey,
      })
      pool.setPrice(n.hotkey, {
        prompt: sheet.promptPrice,
        completion: sheet.completionPrice,
        validUntil: sheet.validUntil,
      })
    } catch (error) {
      pool.setPrice(n.hotkey, undefined)
      logger('miner uid %d %s: no price (%s)', n.uid, n.hotkey, (error as Error).message)
    }
  }

  const onMetagraph = () => {
    const live = new Set<string>()
    for (const n of view.neurons) {
      const key = n.hotkey.toLowerCase()
      live.add(key)
      if (key === self || n.peerId === undefined) continue
      if (!firstSeen.has(key)) firstSeen.set(key, view.epoch)
      const known = kinds.get(key)
      if (known === undefined || known.peerId !== n.peerId) {
        if (known?.miner) pool.remove(n.hotkey)
        void discover(n)
      } else if (known.miner) {
        pool.setScore(n.hotkey, score(n))
        // a sheet is signed for an hour: fetch the next one before it runs out
        const price = pool.priceOf(n.hotkey)
        if (!price || price.validUntil - Date.now() / 1000 < 900) void refreshPrice(n)
      }
      // not a miner when asked: asked again (a node may start serving after it first connected)
      else void discover(n)
    }
    // A hotkey no longer registered (its uid was replaced) leaves the pool.
    for (const [key, known] of [...kinds])
      if (!live.has(key)) {
        if (known.miner)
          for (const m of pool.status()) if (m.hotkey.toLowerCase() === key) pool.remove(m.hotkey)
        kinds.delete(key)
      }
  }

  // Evidence from staked validators, re-executed before anyone is benched on it.
  const { tokenizer } = promptRenderer(options.model.metadata)
  const evidenceLimiter = new RateLimiter(1, 10)
  const validateEvidence = async (_from: PeerId, message: Message) => {
    if (message.type !== 'signed') return TopicValidatorResult.Reject
    const publisher = message.from.toString()
    const validator = view.neurons.find((n) => n.peerId === publisher && n.stake > 0n)
    if (!validator) return TopicValidatorResult.Ignore
    if (!evidenceLimiter.take(publisher)) return TopicValidatorResult.Ignore
    try {
      const evidence = await verifyEvidence(options.model, tokenizer, decodeJson(message.data))
      const miner = evidence.bundle.receipt.minerHotkey.toLowerCase()
      if (!view.neuron(miner)) return TopicValidatorResult.Ignore
      benched.set(miner, view.epoch + (options.evidenceEpochs ?? 4))
      const known = view.neuron(miner)
      if (known && pool.has(known.hotkey)) pool.setScore(known.hotkey, 0)
      logger('miner %s benched on evidence from %s', miner, validator.hotkey)
      return TopicValidatorResult.Accept
    } catch (error) {
      logger(
        'evidence from %s rejected: %s',
        validator.hotkey,
        error instanceof BaseError ? error.shortMessage : String(error),
      )
      return TopicValidatorResult.Reject
    }
  }

  const submitBundle = async (bundle: ReceiptBundle) => {
    const verdict = await judgeBundle(bundle, {
      chainId: chain.chainId,
      netuid,
      verifyingContract: chain.address,
      view,
    })
    if (!verdict.ok) throw new InvalidRequestError(verdict.reason, { code: 'invalid_receipt' })
    await publishBundle(peer, netuid, bundle)
  }

  const chainHealth = chainProbe(chain.publicClient)
  const nodeStatus = async () => {
    const chainNow = await chainHealth()
    const uid = view.neuron(options.hotkey.address)?.uid ?? null
    return {
      ready: chainNow.reachable && uid !== null,
      role: 'gateway',
      hotkey: options.hotkey.address,
      uid,
      chain: chainNow,
      peers: connectedPeers(peer),
    }
  }
  // The gateway's /metrics carries the node's chain calls, peers and head block too.
  const metrics = new GatewayMetrics()
  if (chain.calls) registerChainCalls(metrics.registry, chain.calls)
  registerGauge(metrics.registry, 'verity_node_peers', 'Distinct peers connected now.', () =>
    connectedPeers(peer),
  )
  registerGauge(
    metrics.registry,
    'verity_chain_head_block',
    'The latest block this node has read.',
    () => view.block,
  )
  let store: AccountStore | undefined
  let accounts: Accounts | undefined
  if (options.auth) {
    store = new AccountStore(accountStorePath(options.dataDir))
    // holds left by a previous run belong to requests that died with it
    const released = store.releaseHolds()
    if (released > 0) logger('released %d reservation(s) of a previous run', released)
    accounts = new Accounts({ store, prices: options.auth.prices })
  }
  const server = startGatewayServer({
    ...(accounts ? { accounts } : {}),
    ...(options.corsOrigins?.length ? { corsOrigins: options.corsOrigins } : {}),
    ...(options.dashboard ? { dashboard: options.dashboard } : {}),
    ...(options.vision ? { vision: options.vision } : {}),
    allowedHosts: options.allowedHosts ?? [],
    pools: [pool],
    port: options.port ?? 8080,
    ...(options.host ? { host: options.host } : {}),
    ...(options.tls ? { tls: options.tls } : {}),
    submitBundle,
    nodeStatus,
    metrics,
  })
  const stop = async () => {
    unsubscribe()
    await view.stop()
    await server.stop().catch(() => {})
    store?.close()
    await peer.stop()
  }
  const unsubscribe = view.onMetagraph(onMetagraph)
  const pubsub = peer.services.pubsub
  pubsub.topicValidators.set(evidenceTopic(netuid), validateEvidence)
  pubsub.subscribe(evidenceTopic(netuid))
  try {
    await publishNode(chain, peer, options.signal ? { signal: options.signal } : {}).catch(
      (error) => {
        // A gateway need not publish its node; miners admit it by its registered hotkey.
        logger('not published on chain: %s', (error as Error).message.split('\n')[0])
      },
    )
    await view.start()
    await server.start(options.signal ? { signal: options.signal } : {})
  } catch (error) {
    await stop()
    throw error
  }
  return { peer, server, pool, view, benched, stop, ...(payer ? { payer } : {}) }
}

/**
 * A miner client that calls `onPriceRefused` when the miner refuses a request's price (its sheet
 * changed since we fetched it): the request fails over, and the new sheet is fetched for the next.
 */
function repricing(inner: MinerClient, onPriceRefused: () => void): MinerClient {
  return {
    hotkey: inner.hotkey,
    ...(inner.peerId === undefined ? {} : { peerId: inner.peerId }),
    async *infer(request, options) {
      try {
        yield* inner.infer(request, options)
      } catch (error) {
        if (error instanceof RemoteError && error.code === 'price') onPriceRefused()
        throw error
      }
    },
  }
}

/** A MinerClient that gossips each finished answer's bundle for validators to sample (tests). */
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
          void publishBundle(peer, netuid, {
            request,
            tokens: event.tokens,
            receipt: event.receipt,
            call: event.call,
          }).catch(() => {})
        yield event
      }
    },
  }
}
