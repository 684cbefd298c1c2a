import { createHash, randomBytes } from 'node:crypto'
import {
  type Account,
  type Address,
  type Chain,
  type Client,
  getAddress,
  type Hex,
  type PublicClient,
  type Transport,
} from 'viem'
import { acceptBid } from '../chain/actions/acceptBid.ts'
import { approveToken } from '../chain/actions/approveToken.ts'
import { closeLease } from '../chain/actions/closeLease.ts'
import { closeOrder } from '../chain/actions/closeOrder.ts'
import { createOrder } from '../chain/actions/createOrder.ts'
import { getBid } from '../chain/actions/getBid.ts'
import { getOpenBids } from '../chain/actions/getOpenBids.ts'
import { getOrder } from '../chain/actions/getOrder.ts'
import { getProvider } from '../chain/actions/getProvider.ts'
import { publishSpec } from '../chain/actions/publishSpec.ts'
import { CloseReason } from '../chain/market.ts'
import { MarketError } from '../errors/market.ts'
import { type LeaseSignerStatement, vouchedSigner } from './provider.ts'
import { canonicalSpecBytes, type DeploymentSpec, plannedOrders, specHash } from './spec.ts'

/** How the tenant picks among bids: the cheapest (ties: the earliest), or one provider's. */
export type BidSelection = { kind: 'cheapest' } | { kind: 'provider'; provider: Address }

export type DeploySpecOptions = {
  publicClient: PublicClient<Transport, Chain>
  wallet: Client<Transport, Chain, Account>
  market: Address
  token: Address
  spec: DeploymentSpec
  /** Escrow each order opens with. */
  deposit: bigint
  /** Blocks providers have to bid (and the tenant to accept). */
  bidWindow: bigint
  select?: BidSelection
  /** After the first bid, how long to wait for more before choosing (default 3000 ms). */
  settleMs?: number
  /** The longest wait for bids, whatever the chain's blocks do (default 60000 ms). */
  bidTimeoutMs?: number
  /** The longest wait for the lease's endpoint to answer (default 120000 ms). */
  readyTimeoutMs?: number
  pollMs?: number
  /** Progress lines for a human. */
  onProgress?: (line: string) => void
  signal?: AbortSignal
}

/** One leased instance of the spec, ready to answer. */
export type DeployedLease = {
  leaseId: bigint
  orderId: bigint
  provider: Address
  pricePerBlock: bigint
  /** The lease's OpenAI-compatible base URL. */
  baseUrl: string
  /** The key receipts of this lease are signed with, vouched for by the provider's signature. */
  receiptSigner: Address
  service: string
}

export type DeployResult = {
  /** The API key every lease of this deployment takes (only its sha256 is on chain). */
  apiKey: string
  specHash: Hex
  leases: DeployedLease[]
}

/** The endpoint status a provider's ingress serves at /leases/<id>. */
type LeaseStatus = {
  state: 'starting' | 'running' | 'stopped'
  baseUrl: string
  reason?: string
  receipts?: LeaseSignerStatement
}

/** A fresh API key and the sha256 the spec names it by. */
export function newApiKey(): { apiKey: string; apiKeyHash: Hex } {
  const apiKey = `vty-${randomBytes(24).toString('base64url')}`
  return { apiKey, apiKeyHash: `0x${createHash('sha256').update(apiKey).digest('hex')}` }
}

/**
 * `verity deploy`: turns a deployment spec into running, paid-for endpoints. For each instance
 * the spec plans it opens an order with its escrow and publishes the spec, waits for bids, takes
 * the cheapest that meets the spec (or the named provider's), and waits until the provider's
 * ingress serves the lease. Nothing is left half done: an order without bids is closed (its
 * escrow returned) and a lease whose endpoint never answers is closed as provider-gone.
 *
 * @example
 * const { apiKey, leases } = await deploySpec({ publicClient, wallet, market, token, spec, deposit, bidWindow: 20n })
 */
export async function deploySpec(options: DeploySpecOptions): Promise<DeployResult> {
  const { publicClient, wallet, market, token, spec, signal } = options
  const say = options.onProgress ?? (() => {})
  const { apiKey, apiKeyHash } = newApiKey()
  const bytes = canonicalSpecBytes(spec, { apiKeyHash })
  const hash = specHash(bytes)
  const planned = plannedOrders(spec)
  const leases: DeployedLease[] = []
  await approveToken(
    wallet,
    { token, spender: market, amount: options.deposit * BigInt(planned.length) },
    signal ? { signal } : {},
  )
  try {
    for (const p of planned) {
      const name = `${p.service}/${p.placement}#${p.instance}`
      const { orderId } = await createOrder(
        wallet,
        {
          address: market,
          order: {
            specHash: hash,
            resources: p.resources,
            maxPricePerBlock: p.maxPricePerBlock,
            bidWindow: options.bidWindow,
            requirements: p.requirements,
            signedByAnyOf: p.signedByAnyOf,
            signedByAllOf: p.signedByAllOf,
          },
          deposit: options.deposit,
        },
        signal ? { signal } : {},
      )
      await publishSpec(wallet, { address: market, orderId, spec: bytes }, signal ? { signal } : {})
      say(`${name}: order ${orderId} open for ${options.bidWindow} blocks; waiting for bids`)
      const bid = await chooseBid(options, orderId)
      if (!bid) {
        await closeOrder(wallet, { address: market, orderId }, signal ? { signal } : {})
        throw new MarketError(
          `no bids for ${name} (order ${orderId}) in its bid window: no provider can place it at this price; the escrow was returned`,
        )
      }
      const { leaseId } = await acceptBid(
        wallet,
        { address: market, bidId: bid.bidId },
        signal ? { signal } : {},
      )
      say(`${name}: lease ${leaseId} with ${bid.provider} at ${bid.price} per block`)
      const provider = await getProvider(publicClient, { address: market, provider: bid.provider })
      let status: LeaseStatus
      try {
        status = await waitReady(provider.hostUri, leaseId, options)
      } catch (error) {
        await closeLease(
          wallet,
          { address: market, leaseId, reason: CloseReason.PROVIDER_GONE },
          signal ? { signal } : {},
        ).catch(() => {})
        throw error
      }
      const chainId = publicClient.chain.id
      const vouched = await vouchedSigner(
        status.receipts,
        { chainId, market, leaseId },
        bid.provider,
      )
      if ('problem' in vouched) throw new MarketError(`lease ${leaseId}: ${vouched.problem}`)
      const receiptSigner = vouched.signer
      leases.push({
        leaseId,
        orderId,
        provider: bid.provider,
        pricePerBlock: bid.price,
        baseUrl: status.baseUrl,
        receiptSigner,
        service: p.service,
      })
    }
  } catch (error) {
    // instances already leased keep running (and paying): say which, so none is forgotten
    if (leases.length === 0) throw error
    const why =
      (error as { shortMessage?: string }).shortMessage ?? String((error as Error).message)
    throw new MarketError(why.split('\n')[0]!, {
      cause: error,
      details: `already running: ${leases.map((l) => `lease ${l.leaseId} (${l.baseUrl})`).join(', ')}; API key ${apiKey}; end them with verity market close <lease>`,
    })
  }
  return { apiKey, specHash: hash, leases }
}

/** Waits for bids and picks one; undefined once the window (or the time-out) passed without. */
async function chooseBid(
  options: DeploySpecOptions,
  orderId: bigint,
): Promise<{ bidId: bigint; provider: Address; price: bigint } | undefined> {
  const { publicClient, market, signal } = options
  const select = options.select ?? { kind: 'cheapest' }
  const started = Date.now()
  let firstBidAt: number | undefined
  const order = await getOrder(publicClient, { address: market, orderId })
  for (;;) {
    signal?.throwIfAborted()
    const head = await publicClient.getBlockNumber({ cacheTime: 0 })
    const ids = await getOpenBids(publicClient, { address: market, orderId })
    const bids = await Promise.all(
      ids.map(async (bidId) => {
        const b = await getBid(publicClient, { address: market, bidId })
        return {
          bidId,
          provider: getAddress(b.provider),
          price: b.pricePerBlock,
          at: b.createdBlock,
        }
      }),
    )
    const eligible =
      select.kind === 'provider'
        ? bids.filter((b) => b.provider.toLowerCase() === select.provider.toLowerCase())
        : bids
    if (eligible.length > 0) firstBidAt ??= Date.now()
    const windowEnding = head + 1n >= order.bidDeadline
    const settled =
      firstBidAt !== undefined && Date.now() - firstBidAt >= (options.settleMs ?? 3000)
    if (eligible.length > 0 && (settled || windowEnding || eligible.length >= 20)) {
      eligible.sort((a, b) =>
        a.price !== b.price ? (a.price < b.price ? -1 : 1) : a.bidId < b.bidId ? -1 : 1,
      )
      return eligible[0]
    }
    if (head >= order.bidDeadline || Date.now() - started > (options.bidTimeoutMs ?? 60_000))
      return undefined
    await sleep(options.pollMs ?? 500, signal)
  }
}

/** Polls the provider's ingress until the lease answers. */
async function waitReady(
  hostUri: string,
  leaseId: bigint,
  options: DeploySpecOptions,
): Promise<LeaseStatus> {
  const url = `${hostUri.replace(/\/+$/, '')}/leases/${leaseId}`
  const deadline = Date.now() + (options.readyTimeoutMs ?? 120_000)
  let last = 'no answer'
  while (Date.now() < deadline) {
    options.signal?.throwIfAborted()
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(5000) })
      if (res.ok) {
        const status = (await res.json()) as LeaseStatus
        if (status.state === 'running') return status
        if (status.state === 'stopped')
          throw new MarketError(
            `lease ${leaseId} stopped at the provider: ${status.reason ?? 'no reason given'}`,
          )
        last = status.state
      } else last = `HTTP ${res.status}`
    } catch (error) {
      if (error instanceof MarketError) throw error
      last = (error as Error).message
    }
    await sleep(options.pollMs ?? 500, options.signal)
  }
  throw new MarketError(
    `lease ${leaseId}: the provider's endpoint ${url} did not come up (${last}); the lease was closed as provider-gone`,
  )
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const t = setTimeout(resolve, ms)
    signal?.addEventListener(
      'abort',
      () => {
        clearTimeout(t)
        reject(signal.reason)
      },
      { once: true },
    )
  })
}
