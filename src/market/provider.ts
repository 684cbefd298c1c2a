import { readFileSync } from 'node:fs'
import {
  type Account,
  type Address,
  type Chain,
  type Client,
  getAddress,
  type Hex,
  isAddress,
  keccak256,
  type PublicClient,
  recoverMessageAddress,
  type Transport,
} from 'viem'
import { type LocalAccount, privateKeyToAccount } from 'viem/accounts'
import { approveToken } from '../chain/actions/approveToken.ts'
import { closeBid } from '../chain/actions/closeBid.ts'
import { closeLease } from '../chain/actions/closeLease.ts'
import { getAuditedValue } from '../chain/actions/getAuditedValue.ts'
import { getBid } from '../chain/actions/getBid.ts'
import { getLease } from '../chain/actions/getLease.ts'
import { getOrder } from '../chain/actions/getOrder.ts'
import { getPendingSettlement } from '../chain/actions/getPendingSettlement.ts'
import { getProvider } from '../chain/actions/getProvider.ts'
import { getSpec } from '../chain/actions/getSpec.ts'
import { listOrders } from '../chain/actions/listOrders.ts'
import { placeBid } from '../chain/actions/placeBid.ts'
import { registerProvider } from '../chain/actions/registerProvider.ts'
import { setProviderAttributes } from '../chain/actions/setProviderAttributes.ts'
import { setProviderHostUri } from '../chain/actions/setProviderHostUri.ts'
import { BidState, CloseReason, fromBytes32, LeaseState, type Resources } from '../chain/market.ts'
import { log } from '../node/log.ts'
import { addResources, fits, type MatchProvider, shouldBid, subtractResources } from './match.ts'
import type { QuotingStrategy } from './pricing.ts'
import { type DeploymentRecord, ProviderStore } from './provider-store.ts'
import { type PlannedOrder, parseDeploymentSpec, plannedOrders } from './spec.ts'
import { processAlive, startWorkload, type Workload } from './workload.ts'

const logger = log('provider')

/** Workload failures in a row after which a provider closes the lease instead of retrying. */
const MAX_FAILURES = 3

/** A model this provider can serve: the file and the root it hashes to. */
export type CatalogModel = { path: string; root: Hex }

export type ProviderNodeOptions = {
  publicClient: PublicClient<Transport, Chain>
  /** The provider's wallet: registers, bids, closes, withdraws. */
  wallet: Client<Transport, Chain, Account>
  /**
   * Its key (the wallet's account): never handed to a workload. Each lease's receipts are signed
   * by a key derived from it (leaseSigningKey) and vouched for by it (leaseDelegation).
   */
  account: LocalAccount
  rpcUrl: string
  market: Address
  token: Address
  /** The Verity core receipts name in their EIP-712 domain. */
  verifyingContract: Address
  /** Where tenants reach this provider (published on chain); lease endpoints live under it. */
  hostUri: string
  attributes: Record<string, string>
  /** What this machine offers in all: bids and leases are reserved from it. */
  capacity: Resources
  models: readonly CatalogModel[]
  pricing: QuotingStrategy
  dataDir: string
  /** How often the chain is read: new orders, won bids, leases to tear down (default 1000 ms). */
  pollMs?: number
  /** Logs before this block are not read (default 0: the deployment block is better). */
  fromBlock?: bigint
  /** Workloads' memory check period (default 1000 ms). */
  watchMs?: number
}

/** A running lease's workload as the ingress sees it. */
export type LeaseEndpoint = { leaseId: bigint; port: number; modelRoot: Hex }

/**
 * A provider node, as Akash's provider: it registers with its attributes, reads every open order
 * and the spec published for it, bids on those it can place at the price its strategy sets, and
 * on a won bid runs the leased model as a dedicated child process. Teardown is the invariant it
 * keeps above all: every poll it checks each running lease on chain; a closed lease, or one whose
 * escrow can no longer pay (which it then closes), has its workload killed, and a restarted
 * provider kills strays and restarts only what is still paid. Workloads also exit by themselves
 * when the provider process goes away (they watch the pipe it holds).
 */
export class ProviderNode {
  readonly address: Address
  private readonly store: ProviderStore
  private readonly workloads = new Map<bigint, Workload>()
  /** Workload starts that failed or died, per lease: after MAX_FAILURES the lease is given up. */
  private readonly failures = new Map<bigint, number>()
  private readonly statements = new Map<bigint, Promise<LeaseSignerStatement>>()
  private readonly catalog: Map<string, CatalogModel>
  private timer: NodeJS.Timeout | undefined
  private ticking: Promise<void> | undefined
  private readonly abort = new AbortController()
  private stopped = false
  /** Counters a test or the metrics read. */
  readonly stats = { bids: 0, skipped: 0, started: 0, stopped: 0, closedUnpaid: 0, errors: 0 }

  constructor(private readonly options: ProviderNodeOptions) {
    this.address = options.wallet.account.address
    this.store = new ProviderStore(options.dataDir)
    this.catalog = new Map(options.models.map((m) => [m.root.toLowerCase(), m]))
  }

  /** Registers (or updates) the provider on chain, recovers its deployments, starts polling. */
  async start(): Promise<void> {
    const signal = this.abort.signal
    await this.register(signal)
    await approveToken(
      this.options.wallet,
      { token: this.options.token, spender: this.options.market, amount: 2n ** 255n },
      { signal },
    )
    await this.recover()
    await this.tick()
    this.schedule()
  }

  /** Stops polling and every workload; returns once they are gone. */
  async stop(): Promise<void> {
    if (this.stopped) return
    this.stopped = true
    this.abort.abort(new Error('provider stopped'))
    if (this.timer) clearTimeout(this.timer)
    await this.ticking?.catch(() => {})
    await Promise.all(
      [...this.workloads.entries()].map(async ([bidId, w]) => {
        await w.stop('provider stopped')
        // still leased: a restart picks it up again
        this.store.update(bidId, { state: 'running', pid: null, port: null })
      }),
    )
    this.workloads.clear()
    this.store.close()
  }

  /** The endpoint of a running lease, for the ingress. */
  endpoint(leaseId: bigint): LeaseEndpoint | undefined {
    const w = this.workloads.get(leaseId)
    if (!w || this.stopped) return undefined
    const d = this.store.get(leaseId)
    return d ? { leaseId, port: w.port, modelRoot: d.modelRoot } : undefined
  }

  /** Where a lease stands here: bid, running, stopped (with why) or lost; undefined if unknown. */
  deployment(leaseId: bigint): DeploymentRecord | undefined {
    return this.stopped ? undefined : this.store.get(leaseId)
  }

  /** What a lease's receipts are signed by, with the provider's word for it. */
  leaseSigner(leaseId: bigint): Promise<LeaseSignerStatement> {
    // two signatures a lease, made once: anyone may ask for them, as often as they like
    let statement = this.statements.get(leaseId)
    if (!statement) {
      const scope = this.leaseScope(leaseId)
      statement = leaseSigningKey(this.options.account, scope).then(async (key) => {
        const signer = privateKeyToAccount(key).address
        const message = leaseDelegationMessage(scope, signer)
        return { signer, message, delegation: await this.options.account.signMessage({ message }) }
      })
      this.statements.set(leaseId, statement)
    }
    return statement
  }

  private leaseScope(leaseId: bigint): LeaseScope {
    return { chainId: this.options.publicClient.chain.id, market: this.options.market, leaseId }
  }

  /** Pids of the workloads running now. */
  workloadPids(): number[] {
    return [...this.workloads.values()].map((w) => w.pid)
  }

  private schedule(): void {
    if (this.stopped) return
    this.timer = setTimeout(() => {
      this.ticking = this.tick().finally(() => this.schedule())
    }, this.options.pollMs ?? 1000)
  }

  private async register(signal: AbortSignal): Promise<void> {
    const { wallet, publicClient, market, hostUri, attributes } = this.options
    const p = await getProvider(publicClient, { address: market, provider: this.address })
    if (!p.registered) {
      await registerProvider(wallet, { address: market, hostUri, attributes }, { signal })
      logger('registered as a provider at %s', hostUri)
      return
    }
    if (p.hostUri !== hostUri)
      await setProviderHostUri(wallet, { address: market, hostUri }, { signal })
    const onChain = Object.fromEntries(
      p.attributes.map((a) => [fromBytes32(a.key), fromBytes32(a.value)]),
    )
    if (JSON.stringify(onChain) !== JSON.stringify(attributes))
      await setProviderAttributes(wallet, { address: market, attributes }, { signal })
  }

  /**
   * After a restart: a workload the store names is killed if its process outlived the provider
   * (it should not: it exits with the provider's pipe), and restarted by the next poll if its
   * lease is still active and paid.
   */
  private async recover(): Promise<void> {
    for (const d of this.store.list('running')) {
      if (d.pid !== undefined && processAlive(d.pid) && isWorkload(d.pid)) {
        logger.warn(
          'lease %s: a workload (pid %d) outlived the provider; killing it',
          d.bidId,
          d.pid,
        )
        try {
          process.kill(d.pid, 'SIGKILL')
        } catch {
          // gone meanwhile
        }
      }
      this.store.update(d.bidId, { state: 'running', pid: null, port: null })
    }
  }

  /** One pass over the chain: leases first (teardown before anything new), then bids, orders. */
  private async tick(): Promise<void> {
    if (this.stopped) return
    try {
      await this.checkLeases()
      await this.checkBids()
      await this.checkOrders()
    } catch (error) {
      if (this.stopped) return
      this.stats.errors++
      logger.warn('poll failed: %s', (error as Error).message)
    }
  }

  private async checkLeases(): Promise<void> {
    const { publicClient, wallet, market } = this.options
    const signal = this.abort.signal
    for (const d of this.store.list('running')) {
      const lease = await getLease(publicClient, { address: market, leaseId: d.bidId })
      if (lease.state !== LeaseState.ACTIVE) {
        await this.teardown(d.bidId, `lease closed (${closeReasonName(lease.reason)})`)
        continue
      }
      const [, depleted] = await getPendingSettlement(publicClient, {
        address: market,
        leaseId: d.bidId,
      })
      if (depleted) {
        // the escrow cannot pay the blocks served so far: not one more block is served
        await this.teardown(d.bidId, 'escrow ran dry')
        try {
          await closeLease(
            wallet,
            { address: market, leaseId: d.bidId, reason: CloseReason.INSUFFICIENT_FUNDS },
            { signal },
          )
          this.stats.closedUnpaid++
        } catch (error) {
          // the tenant or another keeper closed it first: nothing is owed to us twice
          logger.debug('lease %s: close: %s', d.bidId, (error as Error).message)
        }
        continue
      }
      if (!this.workloads.has(d.bidId)) await this.launch(d)
    }
  }

  private async checkBids(): Promise<void> {
    const { publicClient, wallet, market } = this.options
    const head = await publicClient.getBlockNumber({ cacheTime: 0 })
    for (const d of this.store.list('bid')) {
      const bid = await getBid(publicClient, { address: market, bidId: d.bidId })
      if (bid.state === BidState.ACTIVE) {
        this.store.update(d.bidId, { state: 'running' })
        logger('lease %s won at %s per block', d.bidId, d.pricePerBlock)
        const record = this.store.get(d.bidId)
        if (record) await this.launch(record)
      } else if (bid.state !== BidState.OPEN) {
        this.store.update(d.bidId, {
          state: 'lost',
          reason: bid.state === BidState.LOST ? 'another bid won' : 'bid closed',
        })
      } else {
        const order = await getOrder(publicClient, { address: market, orderId: d.orderId })
        if (head > order.bidDeadline) {
          // not accepted in time: take the deposit back, free the capacity
          await closeBid(wallet, { address: market, bidId: d.bidId }, { signal: this.abort.signal })
          this.store.update(d.bidId, { state: 'lost', reason: 'not accepted in the bid window' })
        }
      }
    }
  }

  private async checkOrders(): Promise<void> {
    const { publicClient, market } = this.options
    const head = await publicClient.getBlockNumber({ cacheTime: 0 })
    const open = await listOrders(publicClient, {
      address: market,
      openOnly: true,
      fromBlock: this.options.fromBlock ?? 0n,
    })
    for (const o of open) {
      if (this.stopped) return
      if (head > o.bidDeadline || this.store.decided(o.orderId)) continue
      await this.consider(o.orderId, o.tenant)
    }
  }

  /** Decides on one open order: bid, skip (recorded with why), or wait for its spec. */
  private async consider(orderId: bigint, tenant: Address): Promise<void> {
    const { publicClient, wallet, market, pricing } = this.options
    const bytes = await getSpec(publicClient, {
      address: market,
      orderId,
      fromBlock: this.options.fromBlock ?? 0n,
    })
    if (!bytes) return // not published yet: look again next poll
    const skip = (reason: string) => {
      this.store.decide(orderId, 'skip', reason)
      this.stats.skipped++
      logger.debug('order %s: no bid: %s', orderId, reason)
    }
    let planned: PlannedOrder
    let apiKeyHash: Hex
    const order = await getOrder(publicClient, { address: market, orderId })
    try {
      const spec = parseDeploymentSpec(new TextDecoder().decode(bytes), {
        source: `order ${orderId}'s spec`,
      })
      if (!spec.auth?.apiKeyHash) return skip('the spec names no API key')
      apiKeyHash = spec.auth.apiKeyHash
      const match = plannedOrders(spec).find((p) => describesOrder(p, order))
      if (!match) return skip('the spec describes no order with these resources and price')
      planned = match
    } catch (error) {
      return skip((error as Error).message)
    }
    const model = this.catalog.get(planned.model.root.toLowerCase())
    const decision = shouldBid(
      {
        requirements: planned.requirements,
        signedByAnyOf: planned.signedByAnyOf,
        signedByAllOf: planned.signedByAllOf,
        resources: planned.resources,
        maxPricePerBlock: order.maxPricePerBlock,
        model: planned.model,
      },
      await this.profile(planned),
    )
    // judged against the whole machine: what can never fit, or never match, is turned down
    if (!decision.ok) return skip(decision.reason)
    if (!model) return skip(`model ${planned.model.root} is not served here`)
    // what does not fit now may fit once a bid is lost or a lease ends: looked at again next poll
    if (!fits(planned.resources, this.free())) return
    const quote = await pricing.quote(
      {
        orderId,
        tenant,
        resources: planned.resources,
        maxPricePerBlock: order.maxPricePerBlock,
        model: planned.model,
      },
      this.abort.signal,
    )
    if (quote.price === null) return skip(`pricing: ${quote.reason}`)
    if (quote.price > order.maxPricePerBlock)
      return skip(`price ${quote.price} is above the ceiling ${order.maxPricePerBlock}`)
    const { bidId } = await placeBid(
      wallet,
      { address: market, orderId, pricePerBlock: quote.price },
      { signal: this.abort.signal },
    )
    this.store.addBid({
      bidId,
      orderId,
      pricePerBlock: quote.price,
      resources: planned.resources,
      modelRoot: planned.model.root,
      apiKeyHash,
      maxTokens: planned.params?.maxTokens,
    })
    this.store.decide(orderId, 'bid', `bid ${bidId} at ${quote.price} per block`)
    this.stats.bids++
    logger('order %s: bid %s at %s per block', orderId, bidId, quote.price)
  }

  /** Own attributes, the audits the order asks about, free capacity, models served. */
  private async profile(planned: PlannedOrder): Promise<MatchProvider> {
    const { publicClient, market } = this.options
    const audited = new Map<string, Set<string>>()
    for (const auditor of [...planned.signedByAnyOf, ...planned.signedByAllOf]) {
      const keys = new Set<string>()
      for (const [key, value] of Object.entries(planned.requirements)) {
        const signed = await getAuditedValue(publicClient, {
          address: market,
          provider: this.address,
          auditor,
          key,
        })
        if (/^0x0+$/.test(signed)) continue
        if (fromBytes32(signed) === value) keys.add(key)
      }
      audited.set(auditor.toLowerCase(), keys)
    }
    return {
      attributes: this.options.attributes,
      audited,
      free: this.options.capacity,
      models: new Set(this.catalog.keys()),
    }
  }

  /** Capacity minus what open bids and running leases hold. */
  private free(): Resources {
    let used: Resources = { cpuMilli: 0, gpuUnits: 0, memoryBytes: 0n, storageBytes: 0n }
    for (const d of this.store.list('bid', 'running')) used = addResources(used, d.resources)
    return fits(used, this.options.capacity)
      ? subtractResources(this.options.capacity, used)
      : { cpuMilli: 0, gpuUnits: 0, memoryBytes: 0n, storageBytes: 0n }
  }

  private async launch(d: DeploymentRecord): Promise<void> {
    const model = this.catalog.get(d.modelRoot.toLowerCase())
    if (!model) {
      await this.giveUp(d.bidId, `model ${d.modelRoot} is no longer in the catalog`)
      return
    }
    try {
      const w = await startWorkload({
        leaseId: d.bidId,
        modelPath: model.path,
        modelRoot: d.modelRoot,
        apiKeyHash: d.apiKeyHash,
        signingKey: await leaseSigningKey(this.options.account, this.leaseScope(d.bidId)),
        rpcUrl: this.options.rpcUrl,
        chainId: this.options.publicClient.chain.id,
        verifyingContract: this.options.verifyingContract,
        cpuMilli: d.resources.cpuMilli,
        memoryBytes: d.resources.memoryBytes,
        ...(d.maxTokens === undefined ? {} : { maxTokens: d.maxTokens }),
        ...(this.options.watchMs === undefined ? {} : { watchMs: this.options.watchMs }),
        signal: this.abort.signal,
      })
      if (this.stopped) {
        await w.stop('provider stopped')
        return
      }
      this.workloads.set(d.bidId, w)
      this.store.update(d.bidId, { state: 'running', pid: w.pid, port: w.port })
      this.stats.started++
      logger('lease %s: workload pid %d on port %d', d.bidId, w.pid, w.port)
      void w.exited.then((exit) => {
        if (this.workloads.get(d.bidId) !== w) return
        // died on its own (memory limit, crash): the next poll starts it again while paid
        this.workloads.delete(d.bidId)
        this.failed(d.bidId, `workload exited (${exit.reason})`)
      })
    } catch (error) {
      if (this.stopped) return
      this.stats.errors++
      this.failed(d.bidId, `workload failed to start: ${(error as Error).message}`)
    }
  }

  /**
   * Counts a workload failure; the third gives the lease up (closed as the provider's,
   * the tenant's escrow returned) rather than restarting a workload that cannot run forever.
   */
  private failed(leaseId: bigint, why: string): void {
    const n = (this.failures.get(leaseId) ?? 0) + 1
    this.failures.set(leaseId, n)
    logger.warn('lease %s: %s (%d of %d)', leaseId, why, n, MAX_FAILURES)
    if (n >= MAX_FAILURES && !this.stopped)
      void this.giveUp(leaseId, `${why}, ${n} times: given up`).catch(() => {})
  }

  /** Stops a lease's workload for good and records why. */
  private async teardown(leaseId: bigint, reason: string): Promise<void> {
    const w = this.workloads.get(leaseId)
    this.workloads.delete(leaseId)
    if (w) await w.stop(reason)
    this.store.update(leaseId, { state: 'stopped', reason })
    this.stats.stopped++
    logger('lease %s: torn down: %s', leaseId, reason)
  }

  /** A lease this provider cannot serve: close it (the tenant's escrow returns) and stop. */
  private async giveUp(leaseId: bigint, reason: string): Promise<void> {
    await this.teardown(leaseId, reason)
    await closeLease(
      this.options.wallet,
      { address: this.options.market, leaseId, reason: CloseReason.PROVIDER },
      { signal: this.abort.signal },
    ).catch((error: Error) => logger.warn('lease %s: close: %s', leaseId, error.message))
  }
}

/** One lease on one market on one chain. */
export type LeaseScope = { chainId: number; market: Address; leaseId: bigint }

/**
 * The key a lease's workload signs receipts with: keccak256 of the provider's signature over the
 * lease's scope. ECDSA signing here is deterministic (RFC 6979), so a restarted provider derives
 * the same key; the workload never holds the provider's own key, which moves its funds.
 */
export async function leaseSigningKey(account: LocalAccount, scope: LeaseScope): Promise<Hex> {
  return keccak256(
    await account.signMessage({
      message: `verity lease signing key: chain ${scope.chainId}, market ${scope.market.toLowerCase()}, lease ${scope.leaseId}`,
    }),
  )
}

/** The statement a provider signs to vouch for a lease's receipt signer (EIP-191). */
export function leaseDelegationMessage(scope: LeaseScope, signer: Address): string {
  return `verity lease ${scope.leaseId} on market ${scope.market.toLowerCase()} (chain ${scope.chainId}): receipts are signed by ${signer.toLowerCase()}`
}

/** A provider's word for who signs a lease's receipts (served at /leases/<id>). */
export type LeaseSignerStatement = { signer: Address; delegation: Hex; message: string }

/**
 * The signer a statement vouches for, if it is the lease's own statement (this chain, market and
 * lease, word for word) signed by the lease's provider; otherwise why not.
 */
export async function vouchedSigner(
  statement: Partial<LeaseSignerStatement> | undefined,
  scope: LeaseScope,
  provider: Address,
): Promise<{ signer: Address } | { problem: string }> {
  const { signer, delegation, message } = statement ?? {}
  if (!signer || !isAddress(signer) || !delegation || !message)
    return { problem: `the provider names no receipt signer for lease ${scope.leaseId}` }
  if (message !== leaseDelegationMessage(scope, signer))
    return {
      problem: `the provider's receipt-signer statement is not lease ${scope.leaseId}'s on this market and chain`,
    }
  const by = await recoverMessageAddress({ message, signature: delegation }).catch(() => undefined)
  if (by?.toLowerCase() !== provider.toLowerCase())
    return {
      problem: `the receipt-signer statement is signed by ${by ?? 'nobody'}, not by the lease's provider ${provider}`,
    }
  return { signer: getAddress(signer) }
}

/** The on-chain order is the one this planned order describes (resources, price, placement). */
function describesOrder(
  p: PlannedOrder,
  o: {
    maxPricePerBlock: bigint
    resources: Resources
    requirements: readonly { key: Hex; value: Hex }[]
    signedByAnyOf: readonly Address[]
    signedByAllOf: readonly Address[]
  },
): boolean {
  const same = (a: readonly Address[], b: readonly Address[]) =>
    a.length === b.length && a.every((x, i) => x.toLowerCase() === b[i]!.toLowerCase())
  if (!same(p.signedByAnyOf, o.signedByAnyOf) || !same(p.signedByAllOf, o.signedByAllOf))
    return false
  const r = o.resources
  if (
    p.maxPricePerBlock !== o.maxPricePerBlock ||
    p.resources.cpuMilli !== Number(r.cpuMilli) ||
    p.resources.gpuUnits !== Number(r.gpuUnits) ||
    p.resources.memoryBytes !== BigInt(r.memoryBytes) ||
    p.resources.storageBytes !== BigInt(r.storageBytes)
  )
    return false
  const want = Object.entries(p.requirements)
  if (want.length !== o.requirements.length) return false
  return o.requirements.every((a) => p.requirements[fromBytes32(a.key)] === fromBytes32(a.value))
}

function closeReasonName(reason: number): string {
  const names = ['none', 'tenant', 'provider gone', 'provider', 'insufficient funds']
  return names[reason] ?? `reason ${reason}`
}

/** Whether a pid is a `verity lease-serve` process (a recycled pid is left alone). */
function isWorkload(pid: number): boolean {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('lease-serve')
  } catch {
    return false
  }
}
