import {
  type Address,
  ContractFunctionRevertedError,
  formatEther,
  getAddress,
  type Hex,
  type Log,
  parseEventLogs,
  BaseError as ViemBaseError,
} from 'viem'
import { getCode } from 'viem/actions'
import { computeMarketAbi } from '../../chain/abis.ts'
import { approveToken } from '../../chain/actions/approveToken.ts'
import { closeLease } from '../../chain/actions/closeLease.ts'
import { depositEscrow } from '../../chain/actions/depositEscrow.ts'
import { getBid } from '../../chain/actions/getBid.ts'
import { getLease } from '../../chain/actions/getLease.ts'
import { getOpenBids } from '../../chain/actions/getOpenBids.ts'
import { getOrder } from '../../chain/actions/getOrder.ts'
import { getPendingSettlement } from '../../chain/actions/getPendingSettlement.ts'
import { getProvider } from '../../chain/actions/getProvider.ts'
import { listLeases } from '../../chain/actions/listLeases.ts'
import { listOrders, marketLogs } from '../../chain/actions/listOrders.ts'
import { listProviders } from '../../chain/actions/listProviders.ts'
import { registerProvider } from '../../chain/actions/registerProvider.ts'
import { withdrawLease } from '../../chain/actions/withdrawLease.ts'
import {
  CloseReason,
  type CloseReasonValue,
  fromBytes32,
  LeaseState,
  MARKET_LIMITS,
  OrderState,
} from '../../chain/market.ts'
import { ChainError, DeploymentError } from '../../errors/chain.ts'
import { UsageError } from '../../errors/cli.ts'
import { parseArgs } from '../args.ts'
import {
  type ChainSession,
  KEY_FLAGS,
  loadAccount,
  openChain,
  signerFor,
  vtyBalance,
} from '../chain-session.ts'
import { CHAIN_FLAGS, CHAIN_FLAGS_HELP } from '../chain-target.ts'
import type { Command } from '../main.ts'
import { runSubcommand } from '../subcommand.ts'
import { printTable } from '../table.ts'
import { parseAddress, parseAmount, stringFlag } from '../values.ts'

const HELP = `usage: verity market orders [--tenant <address>] [--open]
       verity market bids <orderId>
       verity market leases [--tenant <address>] [--provider <address>]
       verity market providers
       verity market close <leaseId> --key <keyfile> [--reason tenant|provider-gone|provider|insufficient-funds]
       verity market deposit <orderId> <amount VTY> --key <keyfile> [--lease]
       verity market withdraw <leaseId> [--amount <VTY>] --key <keyfile>
       verity market provider register --key <keyfile> --host-uri <url> [--attributes k=v,k=v]
       verity market provider show <address>
       (each also takes --rpc, --deployment, --passphrase-file, --json)

The compute market: tenants open orders (one deployment each) with an escrow in VTY, providers
bid a price per block, the tenant accepts one bid and the lease pays the provider from the escrow
every block.
orders: every order with its tenant, state (open, leased, closed), price ceiling per block, bid
deadline, escrow left (once the blocks so far are paid), spec hash and lease. --tenant: one
tenant's; --open: those still open for bids.
bids: every bid on an order (open, active = accepted, lost, closed) with its provider, price per
block and the deposit it locked.
leases: every lease with its order, provider, tenant, price per block, state, close reason,
start block, what it has paid the provider (settled, and pending settlement for active ones),
what the provider has withdrawn and may still withdraw.
providers: every registered provider with its host URI, attributes, open bids and leases.
close: closes a lease: --reason tenant (the default for its tenant) or provider-gone (the tenant,
the provider stopped serving), provider (the default for its provider), insufficient-funds
(anyone, once the escrow cannot pay the blocks elapsed). Prints what the provider was paid (its
earnings and bid deposit) and what the tenant got back.
deposit: tops up an order's escrow (its tenant only): approves the market to take the amount,
deposits it and prints the new escrow. With --lease the id is a lease's, whose order is topped up.
withdraw: the provider takes what a lease has earned (default: all it has earned up to now).
provider register: registers the key as a provider with its gateway URI and attributes (at
most ${MARKET_LIMITS.maxAttributes}, keys and values of at most 32 bytes). provider show: one provider.
Amounts are decimal VTY, like 10 or 0.5. The market is the deployment manifest's contracts.market.

${CHAIN_FLAGS_HELP}
Keyfiles are decrypted with --passphrase-file or VERITY_PASSPHRASE.`

const spec = {
  ...CHAIN_FLAGS,
  ...KEY_FLAGS,
  tenant: { type: 'string' },
  provider: { type: 'string' },
  open: { type: 'boolean' },
  reason: { type: 'string' },
  amount: { type: 'string' },
  lease: { type: 'boolean' },
  'host-uri': { type: 'string' },
  attributes: { type: 'string' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const

type Flags = ReturnType<typeof parseArgs>['flags']

/** Close reasons as the CLI names them, in CloseReason's order. */
const REASONS: Record<string, CloseReasonValue> = {
  tenant: CloseReason.TENANT,
  'provider-gone': CloseReason.PROVIDER_GONE,
  provider: CloseReason.PROVIDER,
  'insufficient-funds': CloseReason.INSUFFICIENT_FUNDS,
}

const reasonWord = (reason: number): string | null =>
  Object.entries(REASONS).find(([, v]) => v === reason)?.[0] ?? null

const ORDER_STATES = ['none', 'open', 'leased', 'closed'] as const
const BID_STATES = ['none', 'open', 'active', 'lost', 'closed'] as const
const LEASE_STATES = ['none', 'active', 'closed'] as const

const vty = (value: bigint) => formatEther(value)

/** A market id (order, bid or lease): a positive integer below 2^64. */
function parseId(raw: string | undefined, what: string): bigint {
  if (raw === undefined) throw new UsageError(`<${what}> is required`)
  if (!/^\d+$/.test(raw) || BigInt(raw) === 0n || BigInt(raw) >= 2n ** 64n)
    throw new UsageError(`<${what}> must be a positive integer id, got '${raw}'`)
  return BigInt(raw)
}

function noMore(rest: string[]): void {
  if (rest.length > 0) throw new UsageError(`unexpected argument '${rest[0]}'`)
}

function optionalAddress(flags: Flags, name: string): Address | undefined {
  const raw = flags[name]
  return typeof raw === 'string' ? parseAddress(raw, `--${name}`) : undefined
}

/** The market of the session's deployment, with code at its address. */
async function marketOf(session: ChainSession): Promise<Address> {
  const market = session.deployment.contracts.market
  if (!market)
    throw new DeploymentError(
      "this deployment has no compute market (the manifest names no contracts.market: deploy one with 'verity chain deploy')",
    )
  const code = await getCode(session.publicClient, { address: market })
  if (!code || code === '0x')
    throw new DeploymentError(`no contract at the market address ${market} on this chain`)
  return market
}

/** A market revert in words, with what the command was doing; other errors pass through. */
function explainMarket(error: unknown, what: string): unknown {
  if (!(error instanceof ViemBaseError)) return error
  const revert = error.walk((e) => e instanceof ContractFunctionRevertedError)
  if (!(revert instanceof ContractFunctionRevertedError) || !revert.data) return error
  const args = (revert.data.args ?? []) as readonly unknown[]
  const a = (i: number) => String(args[i])
  const text: Record<string, () => string> = {
    NotTenant: () => `${a(0)} is not the tenant of ${what} (its tenant is ${a(1)})`,
    NotProvider: () => `${a(0)} is not the provider of ${what} (its provider is ${a(1)})`,
    CloseReasonNotAllowed: () =>
      `${a(1)} may not close ${what} for reason ${reasonWord(Number(args[0]))}: tenant and provider-gone are for its tenant, provider for its provider, insufficient-funds for anyone once the escrow is depleted`,
    EscrowNotDepleted: () =>
      `${what} is not out of funds: its escrow still pays the blocks elapsed, so it cannot be closed for insufficient funds`,
    EscrowDepleted: () =>
      `the escrow of lease ${a(0)} has run out: the lease can only be closed now (verity market close ${a(0)} --reason insufficient-funds)`,
    EscrowClosed: () => `order ${a(0)} is closed: its escrow takes no more deposits`,
    WithdrawExceedsEarned: () =>
      `cannot withdraw ${vty(args[0] as bigint)} VTY from ${what}: it has earned ${vty(args[1] as bigint)} VTY not yet withdrawn`,
    UnknownOrder: () => `no order ${a(0)} in this market`,
    UnknownBid: () => `no bid ${a(0)} in this market`,
    UnknownLease: () => `no lease ${a(0)} in this market`,
    LeaseNotActive: () => `lease ${a(0)} is closed`,
    OrderNotOpen: () => `order ${a(0)} is ${ORDER_STATES[Number(args[1])] ?? 'not open'}`,
    ZeroAmount: () => 'the amount must be more than 0',
    ProviderAlreadyRegistered: () => `${a(0)} is already a registered provider`,
    ProviderNotRegistered: () => `${a(0)} is not a registered provider`,
    TooManyAttributes: () => `too many attributes: ${a(0)}, at most ${a(1)}`,
    EmptyAttribute: () => `attribute ${a(0)} has an empty key or value`,
    DuplicateAttribute: () => `attribute ${fromBytes32(args[0] as Hex)} is given twice`,
    HostUriLength: () => `the host URI must be 1 to ${a(1)} bytes, it is ${a(0)}`,
  }
  const explain = text[revert.data.errorName]
  return explain ? new ChainError(explain(), { cause: error }) : error
}

async function explained<T>(what: string, run: () => Promise<T>): Promise<T> {
  try {
    return await run()
  } catch (error) {
    throw explainMarket(error, what)
  }
}

function marketEvents(logs: Log[]) {
  return parseEventLogs({ abi: computeMarketAbi, logs })
}

const short = (hash: Hex) => `${hash.slice(0, 10)}…`

async function orders(flags: Flags, rest: string[]): Promise<number> {
  noMore(rest)
  const tenant = optionalAddress(flags, 'tenant')
  const session = await openChain(flags)
  const market = await marketOf(session)
  const client = session.publicClient
  const listed = await listOrders(client, {
    address: market,
    ...(tenant ? { tenant } : {}),
    openOnly: flags.open === true,
    fromBlock: session.deployment.block,
  })
  const rows = await Promise.all(
    listed.map(async (o) => {
      const stored = await getOrder(client, { address: market, orderId: o.orderId })
      // a leased order's escrow is what is left once the blocks so far are paid
      const [pending] =
        stored.state === OrderState.ACTIVE
          ? await getPendingSettlement(client, { address: market, leaseId: stored.leaseId })
          : [0n]
      return {
        orderId: Number(o.orderId),
        tenant: getAddress(o.tenant),
        state: ORDER_STATES[stored.state] ?? 'unknown',
        maxPricePerBlock: vty(o.maxPricePerBlock),
        bidDeadline: Number(o.bidDeadline),
        escrow: vty(stored.escrow - pending),
        specHash: o.specHash,
        leaseId: stored.leaseId > 0n ? Number(stored.leaseId) : null,
      }
    }),
  )
  if (flags.json) {
    console.log(JSON.stringify(rows))
    return 0
  }
  if (rows.length === 0) {
    console.log('no orders')
    return 0
  }
  printTable(
    [
      'ORDER',
      'TENANT',
      'STATE',
      'MAX/BLOCK (VTY)',
      'BID DEADLINE',
      'ESCROW (VTY)',
      'SPEC',
      'LEASE',
    ],
    rows.map((r) => [
      String(r.orderId),
      r.tenant,
      r.state,
      r.maxPricePerBlock,
      String(r.bidDeadline),
      r.escrow,
      short(r.specHash),
      r.leaseId === null ? '-' : String(r.leaseId),
    ]),
  )
  return 0
}

async function bids(flags: Flags, rest: string[]): Promise<number> {
  const [rawId, ...more] = rest
  const orderId = parseId(rawId, 'orderId')
  noMore(more)
  const session = await openChain(flags)
  const market = await marketOf(session)
  const client = session.publicClient
  const order = await getOrder(client, { address: market, orderId })
  if (order.state === OrderState.NONE) throw new ChainError(`no order ${orderId} in this market`)
  // every bid ever placed on the order (BidPlaced), and the open ones the contract lists
  const placed = (
    await marketLogs(client, market, ['BidPlaced'] as const, session.deployment.block)
  ).flatMap((l) =>
    l.eventName === 'BidPlaced' && l.args.orderId === orderId
      ? [{ bidId: l.args.bidId, deposit: l.args.deposit }]
      : [],
  )
  const ids = new Set<bigint>(placed.map((p) => p.bidId))
  for (const id of await getOpenBids(client, { address: market, orderId })) ids.add(id)
  const deposits = new Map(placed.map((p) => [p.bidId, p.deposit]))
  const rows = await Promise.all(
    [...ids]
      .sort((x, y) => (x < y ? -1 : 1))
      .map(async (bidId) => {
        const b = await getBid(client, { address: market, bidId })
        return {
          bidId: Number(bidId),
          orderId: Number(b.orderId),
          provider: getAddress(b.provider),
          pricePerBlock: vty(b.pricePerBlock),
          deposit: vty(deposits.get(bidId) ?? b.deposit),
          state: BID_STATES[b.state] ?? 'unknown',
          createdBlock: Number(b.createdBlock),
        }
      }),
  )
  if (flags.json) {
    console.log(JSON.stringify(rows))
    return 0
  }
  if (rows.length === 0) {
    console.log(`no bids on order ${orderId}`)
    return 0
  }
  printTable(
    ['BID', 'PROVIDER', 'PRICE/BLOCK (VTY)', 'DEPOSIT (VTY)', 'STATE', 'BLOCK'],
    rows.map((r) => [
      String(r.bidId),
      r.provider,
      r.pricePerBlock,
      r.deposit,
      r.state,
      String(r.createdBlock),
    ]),
  )
  return 0
}

async function leases(flags: Flags, rest: string[]): Promise<number> {
  noMore(rest)
  const tenant = optionalAddress(flags, 'tenant')
  const provider = optionalAddress(flags, 'provider')
  const session = await openChain(flags)
  const market = await marketOf(session)
  const client = session.publicClient
  const listed = await listLeases(client, {
    address: market,
    ...(tenant ? { tenant } : {}),
    ...(provider ? { provider } : {}),
    fromBlock: session.deployment.block,
  })
  const rows = await Promise.all(
    listed.map(async (l) => {
      const [stored, [pending, depleted]] = await Promise.all([
        getLease(client, { address: market, leaseId: l.leaseId }),
        getPendingSettlement(client, { address: market, leaseId: l.leaseId }),
      ])
      const active = stored.state === LeaseState.ACTIVE
      return {
        leaseId: Number(l.leaseId),
        orderId: Number(l.orderId),
        provider: getAddress(l.provider),
        tenant: getAddress(l.tenant),
        pricePerBlock: vty(l.pricePerBlock),
        state: LEASE_STATES[stored.state] ?? 'unknown',
        closeReason: active ? null : reasonWord(stored.reason),
        startBlock: Number(stored.startBlock),
        closedBlock: active ? null : Number(stored.closedBlock),
        /** Paid to the provider over its life: settled, plus what settling now adds. */
        earned: vty(stored.paid + pending),
        settled: vty(stored.paid),
        pending: vty(pending),
        withdrawn: vty(l.withdrawn),
        /** What the provider may withdraw now. */
        withdrawable: vty(active ? stored.earned + pending : 0n),
        depleted,
      }
    }),
  )
  if (flags.json) {
    console.log(JSON.stringify(rows))
    return 0
  }
  if (rows.length === 0) {
    console.log('no leases')
    return 0
  }
  printTable(
    [
      'LEASE',
      'ORDER',
      'PROVIDER',
      'TENANT',
      'PRICE/BLOCK (VTY)',
      'STATE',
      'START',
      'EARNED (VTY)',
      'WITHDRAWN (VTY)',
    ],
    rows.map((r) => [
      String(r.leaseId),
      String(r.orderId),
      r.provider,
      r.tenant,
      r.pricePerBlock,
      r.closeReason
        ? `closed (${r.closeReason})`
        : r.depleted
          ? 'active (escrow depleted)'
          : r.state,
      String(r.startBlock),
      r.earned,
      r.withdrawn,
    ]),
  )
  return 0
}

function attributeRecord(list: readonly { key: Hex; value: Hex }[]): Record<string, string> {
  return Object.fromEntries(list.map((a) => [fromBytes32(a.key), fromBytes32(a.value)]))
}

const attributeText = (record: Record<string, string>) =>
  Object.entries(record)
    .map(([k, v]) => `${k}=${v}`)
    .join(',') || '-'

async function providers(flags: Flags, rest: string[]): Promise<number> {
  noMore(rest)
  const session = await openChain(flags)
  const market = await marketOf(session)
  const client = session.publicClient
  const listed = await listProviders(client, {
    address: market,
    registeredOnly: true,
    fromBlock: session.deployment.block,
  })
  const rows = await Promise.all(
    listed.map(async (p) => {
      const stored = await getProvider(client, { address: market, provider: p.provider })
      return {
        provider: getAddress(p.provider),
        hostUri: stored.hostUri,
        attributes: attributeRecord(stored.attributes),
        generation: stored.generation,
        openBids: stored.openBids,
        openLeases: stored.openLeases,
      }
    }),
  )
  if (flags.json) {
    console.log(JSON.stringify(rows))
    return 0
  }
  if (rows.length === 0) {
    console.log('no providers')
    return 0
  }
  printTable(
    ['PROVIDER', 'HOST URI', 'ATTRIBUTES', 'OPEN BIDS', 'LEASES'],
    rows.map((r) => [
      r.provider,
      r.hostUri,
      attributeText(r.attributes),
      String(r.openBids),
      String(r.openLeases),
    ]),
  )
  return 0
}

/** The lease, which must exist and be active for `doing`. */
async function activeLease(session: ChainSession, market: Address, leaseId: bigint) {
  const lease = await getLease(session.publicClient, { address: market, leaseId })
  if (lease.state === LeaseState.NONE) throw new ChainError(`no lease ${leaseId} in this market`)
  if (lease.state !== LeaseState.ACTIVE)
    throw new ChainError(
      `lease ${leaseId} is already closed (${reasonWord(lease.reason) ?? 'unknown reason'}, block ${lease.closedBlock})`,
    )
  return lease
}

async function close(flags: Flags, rest: string[]): Promise<number> {
  const [rawId, ...more] = rest
  const leaseId = parseId(rawId, 'leaseId')
  noMore(more)
  let reason: CloseReasonValue | undefined
  if (typeof flags.reason === 'string') {
    if (!Object.hasOwn(REASONS, flags.reason))
      throw new UsageError(
        `--reason must be tenant, provider-gone, provider or insufficient-funds, got '${flags.reason}'`,
      )
    reason = REASONS[flags.reason]
  }
  const session = await openChain(flags)
  const market = await marketOf(session)
  const account = loadAccount(flags, session.chainId)
  const lease = await activeLease(session, market, leaseId)
  const me = account.address.toLowerCase()
  if (reason === undefined) {
    if (me === lease.tenant.toLowerCase()) reason = CloseReason.TENANT
    else if (me === lease.provider.toLowerCase()) reason = CloseReason.PROVIDER
    // neither: the contract refuses, and says why
    else reason = CloseReason.TENANT
  }
  const chosen = reason
  const { hash, receipt } = await explained(`lease ${leaseId}`, () =>
    closeLease(signerFor(session, account), { address: market, leaseId, reason: chosen }),
  )
  const closed = marketEvents(receipt.logs).find((e) => e.eventName === 'LeaseClosed')
  if (closed?.eventName !== 'LeaseClosed')
    throw new ChainError(`closeLease ${hash}: no LeaseClosed event in the receipt`)
  const out = {
    leaseId: Number(leaseId),
    orderId: Number(lease.orderId),
    reason: reasonWord(closed.args.reason),
    closedBy: getAddress(closed.args.closedBy),
    provider: getAddress(lease.provider),
    providerPaid: vty(closed.args.providerPaid),
    tenant: getAddress(lease.tenant),
    tenantRefund: vty(closed.args.tenantRefund),
    block: Number(receipt.blockNumber),
    tx: hash,
  }
  if (flags.json) console.log(JSON.stringify(out))
  else
    console.log(
      `closed lease ${leaseId} (${out.reason}) at block ${out.block}: provider ${out.provider} paid ${out.providerPaid} VTY (earnings and bid deposit), tenant ${out.tenant} refunded ${out.tenantRefund} VTY, tx ${hash}`,
    )
  return 0
}

async function deposit(flags: Flags, rest: string[]): Promise<number> {
  const [rawId, rawAmount, ...more] = rest
  const byLease = flags.lease === true
  const id = parseId(rawId, byLease ? 'leaseId' : 'orderId')
  if (rawAmount === undefined) throw new UsageError('<amount> is required (VTY, like 10 or 0.5)')
  const amount = parseAmount(rawAmount, '<amount>')
  if (amount === 0n) throw new UsageError('<amount> must be more than 0')
  noMore(more)
  const session = await openChain(flags)
  const market = await marketOf(session)
  const client = session.publicClient
  let orderId = id
  if (byLease) {
    const lease = await getLease(client, { address: market, leaseId: id })
    if (lease.state === LeaseState.NONE) throw new ChainError(`no lease ${id} in this market`)
    orderId = lease.orderId
  }
  const order = await getOrder(client, { address: market, orderId })
  if (order.state === OrderState.NONE) throw new ChainError(`no order ${orderId} in this market`)
  if (order.state === OrderState.CLOSED)
    throw new ChainError(`order ${orderId} is closed: its escrow takes no more deposits`)
  if (order.state === OrderState.ACTIVE) {
    const [, depleted] = await getPendingSettlement(client, {
      address: market,
      leaseId: order.leaseId,
    })
    if (depleted)
      throw new ChainError(
        `the escrow of lease ${order.leaseId} has run out: the lease can only be closed now (verity market close ${order.leaseId} --reason insufficient-funds)`,
      )
  }
  const account = loadAccount(flags, session.chainId)
  if (account.address.toLowerCase() !== order.tenant.toLowerCase())
    throw new ChainError(
      `${account.address} is not the tenant of order ${orderId} (its tenant is ${order.tenant}): only the tenant tops up its escrow`,
    )
  const balance = await vtyBalance(session, account.address)
  if (balance < amount)
    throw new ChainError(
      `insufficient VTY balance: ${account.address} holds ${vty(balance)} VTY, the deposit needs ${vty(amount)} VTY`,
    )
  const wallet = signerFor(session, account)
  await approveToken(wallet, { token: session.deployment.contracts.token, spender: market, amount })
  const { hash, receipt } = await explained(`order ${orderId}`, () =>
    depositEscrow(wallet, { address: market, orderId, amount }),
  )
  const event = marketEvents(receipt.logs).find((e) => e.eventName === 'EscrowDeposited')
  const escrow =
    event && event.eventName === 'EscrowDeposited'
      ? event.args.escrow
      : (await getOrder(client, { address: market, orderId })).escrow
  const out = {
    orderId: Number(orderId),
    amount: vty(amount),
    escrow: vty(escrow),
    block: Number(receipt.blockNumber),
    tx: hash,
  }
  if (flags.json) console.log(JSON.stringify(out))
  else
    console.log(
      `deposited ${out.amount} VTY into the escrow of order ${orderId}: it holds ${out.escrow} VTY now, tx ${hash}`,
    )
  return 0
}

async function withdraw(flags: Flags, rest: string[]): Promise<number> {
  const [rawId, ...more] = rest
  const leaseId = parseId(rawId, 'leaseId')
  noMore(more)
  let amount: bigint | undefined
  if (typeof flags.amount === 'string') {
    amount = parseAmount(flags.amount, '--amount')
    if (amount === 0n) throw new UsageError('--amount must be more than 0')
  }
  const session = await openChain(flags)
  const market = await marketOf(session)
  const account = loadAccount(flags, session.chainId)
  const lease = await activeLease(session, market, leaseId)
  if (account.address.toLowerCase() !== lease.provider.toLowerCase())
    throw new ChainError(
      `${account.address} is not the provider of lease ${leaseId} (its provider is ${lease.provider}): only the provider withdraws its earnings`,
    )
  if (amount === undefined) {
    const [pending] = await getPendingSettlement(session.publicClient, {
      address: market,
      leaseId,
    })
    amount = lease.earned + pending
    if (amount === 0n) throw new ChainError(`lease ${leaseId} has earned nothing to withdraw yet`)
  }
  const requested = amount
  const { hash, receipt } = await explained(`lease ${leaseId}`, () =>
    withdrawLease(signerFor(session, account), { address: market, leaseId, amount: requested }),
  )
  const events = marketEvents(receipt.logs)
  const closed = events.find((e) => e.eventName === 'LeaseClosed')
  const out = {
    leaseId: Number(leaseId),
    amount: vty(requested),
    provider: getAddress(lease.provider),
    block: Number(receipt.blockNumber),
    closed:
      closed && closed.eventName === 'LeaseClosed'
        ? {
            reason: reasonWord(closed.args.reason),
            providerPaid: vty(closed.args.providerPaid),
            tenantRefund: vty(closed.args.tenantRefund),
          }
        : null,
    tx: hash,
  }
  if (flags.json) console.log(JSON.stringify(out))
  else {
    console.log(`withdrew ${out.amount} VTY from lease ${leaseId} to ${out.provider}, tx ${hash}`)
    if (out.closed)
      console.log(
        `  the escrow ran out: the lease closed (insufficient-funds), the provider was paid ${out.closed.providerPaid} VTY in all (with its bid deposit), the tenant refunded ${out.closed.tenantRefund} VTY`,
      )
  }
  return 0
}

/** --attributes k=v,k=v as a record; each key and value 1..32 bytes, no key twice. */
function parseAttributes(raw: string | undefined): Record<string, string> {
  const out: Record<string, string> = {}
  if (raw === undefined || raw.trim() === '') return out
  const bytes = (s: string) => new TextEncoder().encode(s).length
  for (const part of raw.split(',')) {
    const eq = part.indexOf('=')
    const key = eq === -1 ? '' : part.slice(0, eq).trim()
    const value = eq === -1 ? '' : part.slice(eq + 1).trim()
    if (!key || !value)
      throw new UsageError(
        `--attributes must be key=value pairs separated by commas, got '${part}'`,
      )
    if (bytes(key) > 32 || bytes(value) > 32)
      throw new UsageError(`attribute '${part}': keys and values are at most 32 bytes`)
    if (Object.hasOwn(out, key)) throw new UsageError(`attribute '${key}' is given twice`)
    out[key] = value
  }
  if (Object.keys(out).length > MARKET_LIMITS.maxAttributes)
    throw new UsageError(`at most ${MARKET_LIMITS.maxAttributes} attributes`)
  return out
}

async function providerRegister(flags: Flags, rest: string[]): Promise<number> {
  noMore(rest)
  const hostUri = stringFlag(
    flags,
    'host-uri',
    '--host-uri <url> is required: the gateway where tenants send their manifests',
  )
  let valid = false
  try {
    valid = ['http:', 'https:'].includes(new URL(hostUri).protocol)
  } catch {
    valid = false
  }
  if (!valid) throw new UsageError(`--host-uri must be an http(s) URL, got '${hostUri}'`)
  if (new TextEncoder().encode(hostUri).length > MARKET_LIMITS.maxHostUri)
    throw new UsageError(`--host-uri is longer than ${MARKET_LIMITS.maxHostUri} bytes`)
  const attrs = parseAttributes(typeof flags.attributes === 'string' ? flags.attributes : undefined)
  const session = await openChain(flags)
  const market = await marketOf(session)
  const account = loadAccount(flags, session.chainId)
  const { hash } = await explained('the provider registry', () =>
    registerProvider(signerFor(session, account), {
      address: market,
      hostUri,
      attributes: attrs,
    }),
  )
  const out = { provider: account.address, hostUri, attributes: attrs, tx: hash }
  if (flags.json) console.log(JSON.stringify(out))
  else
    console.log(
      `registered provider ${account.address} at ${hostUri} (${attributeText(attrs)}), tx ${hash}`,
    )
  return 0
}

async function providerShow(flags: Flags, rest: string[]): Promise<number> {
  const [raw, ...more] = rest
  if (raw === undefined) throw new UsageError('<address> is required: the provider')
  const provider = parseAddress(raw, '<address>')
  noMore(more)
  const session = await openChain(flags)
  const market = await marketOf(session)
  const client = session.publicClient
  const stored = await getProvider(client, { address: market, provider })
  if (!stored.registered) throw new ChainError(`${provider} is not a registered provider`)
  const active = await listLeases(client, {
    address: market,
    provider,
    activeOnly: true,
    fromBlock: session.deployment.block,
  })
  const out = {
    provider,
    hostUri: stored.hostUri,
    attributes: attributeRecord(stored.attributes),
    generation: stored.generation,
    openBids: stored.openBids,
    openLeases: stored.openLeases,
    leases: active.map((l) => Number(l.leaseId)),
  }
  if (flags.json) {
    console.log(JSON.stringify(out))
    return 0
  }
  console.log(`provider ${provider}`)
  console.log(`  host URI: ${out.hostUri}`)
  console.log(`  attributes: ${attributeText(out.attributes)}`)
  console.log(`  registration: ${out.generation}`)
  console.log(`  open bids: ${out.openBids}`)
  console.log(
    `  active leases: ${out.openLeases}${out.leases.length > 0 ? ` (${out.leases.join(', ')})` : ''}`,
  )
  return 0
}

async function provider(flags: Flags, rest: string[]): Promise<number> {
  const [sub, ...more] = rest
  if (!sub) throw new UsageError("verity market provider needs 'register' or 'show'")
  const table = {
    register: (f: Flags) => providerRegister(f, more),
    show: (f: Flags) => providerShow(f, more),
  }
  return await runSubcommand('market provider', sub, table, flags)
}

export const command: Command = {
  summary: 'the compute market: orders, bids, leases, providers; close, deposit, withdraw',
  run: async (argv) => {
    const { flags, positionals } = parseArgs(argv, spec)
    const [sub, ...rest] = positionals
    if (flags.help || !sub) {
      console.log(HELP)
      return flags.help ? 0 : 2
    }
    const subs = { orders, bids, leases, providers, close, deposit, withdraw, provider }
    const table = Object.fromEntries(
      Object.entries(subs).map(([name, run]) => [name, (f: Flags) => run(f, rest)]),
    )
    return await runSubcommand('market', sub, table, flags)
  },
}
