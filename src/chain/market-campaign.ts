import fc from 'fast-check'
import {
  type Address,
  decodeErrorResult,
  decodeFunctionResult,
  encodeFunctionData,
  type Hex,
  keccak256,
  parseEther,
  parseEventLogs,
  toHex,
} from 'viem'
import { computeMarketAbi, verityTokenAbi } from './abis.ts'
import { startDevnet } from './devnet.ts'
import {
  attributes,
  BidState,
  CloseReason,
  deployMarket,
  LeaseState,
  OrderState,
} from './market.ts'

/**
 * The compute market's invariant campaign: fast-check draws sequences of market actions by
 * random callers (orders with and without placement rules, bids at, under and over the ceiling,
 * acceptances, bid and order closes, top-ups, withdrawals of fractions of what was earned and
 * more, lease closes with every reason, registrations, attribute changes, audits signed and
 * revoked, blocks mined so escrows run dry) against one devnet, reverted to a snapshot between
 * sequences. After every action, from the contract's state and real token balances, to the wei:
 *   - the market holds exactly Σ open escrows + Σ locked bid deposits + Σ unwithdrawn earnings;
 *   - each tenant's balance = its start - Σ over its orders (escrow left + paid to the provider),
 *     so what it paid in = what providers earned + what it got back (+ what is still in escrow),
 *     and never more than it deposited;
 *   - each provider's balance = its start - deposits still locked + Σ (settled - unwithdrawn);
 *   - no lease settles past its funds: an active lease has been paid price x blocks settled,
 *     unless its escrow ran dry (then less, and the escrow is 0); a closed lease was paid less
 *     than its blocks only if it closed for insufficient funds;
 *   - the providers' open bid and lease counts, each order's open-bid list (≤ 20), each bid's
 *     deposit agree with the bids' and leases' states;
 *   - calls by accounts without the right to make them revert.
 * Each sequence ends by closing everything (leases by their tenants, orders by anyone after
 * their window): then the market holds nothing and no deposit is stranded.
 */
export type MarketCampaignOptions = {
  runs: number
  seed: number
  /** Actions per sequence: 5 to this (default 30). */
  maxActions?: number
  progress?: (done: number, ms: number) => void
  every?: number
  signal?: AbortSignal
}

export type MarketCampaignResult = {
  runs: number
  actions: number
  reverted: number
  ms: number
  counts: Record<string, number>
  /** Actions of each kind that went through. */
  succeeded: Record<string, number>
  /** Leases closed, by reason (CloseReason name). */
  closes: Record<string, number>
  /** Reverted transactions, by the custom error that refused them. */
  refusals: Record<string, number>
}

/** The custom error in a revert's data, by name. */
function errorName(data: Hex | undefined, to: Address): string {
  if (!data || data === '0x') return 'no data'
  try {
    return decodeErrorResult({ abi: to === undefined ? verityTokenAbi : computeMarketAbi, data })
      .errorName
  } catch {
    return `unknown ${data.slice(0, 10)}`
  }
}

class MarketCampaignError extends Error {
  override name = 'MarketCampaignError'
}

const TENANTS = [1, 2]
const PROVIDERS = [3, 4, 5, 6]
const AUDITOR = 7
const STRANGER = 8
const ACCOUNTS = 9
const START = parseEther('100000')
const BID_DEPOSIT = parseEther('5')
const MIN_ESCROW = parseEther('0.05')
const UNIT = 10n ** 15n
const GAS = toHex(3_000_000n)
const REGIONS = ['eu-west', 'us-east']
const REASON_NAMES = Object.fromEntries(Object.entries(CloseReason).map(([k, v]) => [v, k]))

const tenant = fc.constantFrom(...TENANTS)
const provider = fc.constantFrom(...PROVIDERS)
const anyone = fc.nat(ACCOUNTS - 1)
/** One call in five by the stranger, which must then fail. */
const byStranger = fc.nat(4).map((n) => n === 0)
const pick = fc.nat(31)
const action = fc.oneof(
  {
    weight: 7,
    arbitrary: fc.record({
      t: fc.constant('order' as const),
      who: tenant,
      deposit: fc.bigInt(50n, 5_000n),
      ceiling: fc.bigInt(1n, 20n),
      window: fc.integer({ min: 5, max: 60 }),
      // 0: no placement rule, 1: a region, 2: a region signed by the auditor
      placement: fc.nat(2),
      region: fc.nat(1),
    }),
  },
  {
    // a whole deal at once: an order without placement rules, bids from some providers, one accepted
    weight: 4,
    arbitrary: fc.record({
      t: fc.constant('deal' as const),
      who: tenant,
      deposit: fc.bigInt(50n, 3_000n),
      ceiling: fc.bigInt(1n, 20n),
      bidders: fc.subarray(PROVIDERS, { minLength: 1 }),
      winner: fc.nat(3),
    }),
  },
  {
    weight: 12,
    arbitrary: fc.record({
      t: fc.constant('bid' as const),
      who: provider,
      i: pick,
      // tenths of the ceiling: 11 and 12 are above it
      tenths: fc.integer({ min: 1, max: 12 }),
    }),
  },
  {
    weight: 5,
    arbitrary: fc.record({
      t: fc.constant('accept' as const),
      i: pick,
      stranger: byStranger,
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({ t: fc.constant('closeBid' as const), i: pick, who: anyone }),
  },
  {
    weight: 2,
    arbitrary: fc.record({ t: fc.constant('closeOrder' as const), i: pick, who: anyone }),
  },
  {
    weight: 3,
    arbitrary: fc.record({
      t: fc.constant('deposit' as const),
      i: pick,
      amount: fc.bigInt(1n, 2_000n),
      stranger: byStranger,
    }),
  },
  {
    weight: 4,
    arbitrary: fc.record({
      t: fc.constant('withdraw' as const),
      i: pick,
      // tenths of what the lease will have earned: 11 and 12 are more than that
      tenths: fc.integer({ min: 1, max: 12 }),
      stranger: byStranger,
    }),
  },
  {
    weight: 3,
    arbitrary: fc.record({
      t: fc.constant('closeLease' as const),
      i: pick,
      // 0-1: the tenant, 2: the provider, 3: anyone; its own reason mostly, sometimes any
      role: fc.nat(3),
      reason: fc.oneof(fc.constant(-1), fc.constant(-1), fc.nat(4)),
    }),
  },
  {
    weight: 5,
    arbitrary: fc.record({ t: fc.constant('mine' as const), b: fc.integer({ min: 1, max: 60 }) }),
  },
  { weight: 1, arbitrary: fc.record({ t: fc.constant('register' as const), who: provider }) },
  {
    weight: 1,
    arbitrary: fc.record({
      t: fc.constant('deregister' as const),
      who: provider,
      really: fc.nat(2),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      t: fc.constant('attributes' as const),
      who: provider,
      region: fc.nat(1),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      t: fc.constant('audit' as const),
      who: provider,
      revoke: fc.boolean(),
      region: fc.nat(1),
    }),
  },
)
type Action = typeof action extends fc.Arbitrary<infer A> ? A : never

type Receipt = {
  status: Hex
  blockNumber: Hex
  logs: { address: Address; data: Hex; topics: Hex[] }[]
}

/** Runs the campaign on a devnet of its own (started and stopped here). */
export async function runMarketCampaign(
  options: MarketCampaignOptions,
): Promise<MarketCampaignResult> {
  const devnet = await startDevnet({ accounts: 10 })
  try {
    return await campaign(devnet.rpcUrl, devnet, options)
  } finally {
    await devnet.stop()
  }
}

async function campaign(
  rpcUrl: string,
  devnet: Awaited<ReturnType<typeof startDevnet>>,
  options: MarketCampaignOptions,
): Promise<MarketCampaignResult> {
  const started = Date.now()
  let nextId = 1
  const rpc = async <T>(method: string, params: unknown[] = []): Promise<T> => {
    const res = await fetch(rpcUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ jsonrpc: '2.0', id: nextId++, method, params }),
    })
    const body = (await res.json()) as { result?: T; error?: { message: string; data?: Hex } }
    if (body.error)
      throw new MarketCampaignError(`${method}: ${body.error.message}`, {
        cause: body.error.data,
      })
    return body.result as T
  }
  const acct = devnet.accounts.map((a) => a.address)
  const token = devnet.addresses.token
  const market = await deployMarket(devnet.publicClient, devnet.walletClients[0]!, {
    token,
    bidDeposit: BID_DEPOSIT,
    minEscrow: MIN_ESCROW,
  })
  const abiOf = (to: Address) => (to === token ? verityTokenAbi : computeMarketAbi)
  let reverted = 0
  const refusals: Record<string, number> = {}
  const send = async (
    from: number,
    functionName: string,
    args: readonly unknown[],
    to: Address = market,
  ) => {
    const data = encodeFunctionData({ abi: abiOf(to), functionName, args } as never)
    const hash = await rpc<Hex>('eth_sendTransaction', [{ from: acct[from], to, data, gas: GAS }])
    let receipt: Receipt | null = null
    while (!receipt) receipt = await rpc<Receipt | null>('eth_getTransactionReceipt', [hash])
    const ok = receipt.status === '0x1'
    if (!ok) {
      reverted++
      // replayed as a call on the state it met (its block held only it): which error refused it
      const name = await rpc('eth_call', [{ from: acct[from], to, data, gas: GAS }, 'latest']).then(
        () => 'none on replay',
        (error: Error) => errorName(error.cause as Hex | undefined, to),
      )
      refusals[name] = (refusals[name] ?? 0) + 1
    }
    return { ok, receipt, block: BigInt(receipt.blockNumber) }
  }
  /** Many view calls in one JSON-RPC batch. */
  const views = async (calls: { to: Address; fn: string; args: readonly unknown[] }[]) => {
    if (calls.length === 0) return []
    const body = calls.map((c, i) => ({
      jsonrpc: '2.0',
      id: i,
      method: 'eth_call',
      params: [
        {
          to: c.to,
          data: encodeFunctionData({ abi: abiOf(c.to), functionName: c.fn, args: c.args } as never),
        },
        'latest',
      ],
    }))
    const res = await fetch(rpcUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    })
    const out = (await res.json()) as { id: number; result?: Hex; error?: { message: string } }[]
    const byId = new Map(out.map((o) => [o.id, o]))
    return calls.map((c, i) => {
      const o = byId.get(i)
      if (!o?.result) throw new MarketCampaignError(`${c.fn}: ${o?.error?.message ?? 'no answer'}`)
      return decodeFunctionResult({
        abi: abiOf(c.to),
        functionName: c.fn,
        data: o.result,
      } as never) as never
    })
  }
  const mine = async (blocks: number | bigint) => {
    if (BigInt(blocks) > 0n) await rpc('anvil_mine', [toHex(BigInt(blocks))])
  }
  const blockNumber = async () => BigInt(await rpc<Hex>('eth_blockNumber'))
  const fail = (what: string): never => {
    throw new MarketCampaignError(what)
  }
  const mustFail = (ok: boolean, what: string) => {
    if (ok) fail(`unauthorised or invalid call succeeded: ${what}`)
  }
  const setup = async (p: Promise<{ ok: boolean }>, what: string) => {
    if (!(await p).ok) fail(`setup: ${what} reverted`)
  }

  // --- setup: VTY and allowances; four providers registered, two audited by the auditor
  for (let i = 1; i < ACCOUNTS; i++) {
    await setup(send(0, 'transfer', [acct[i], START], token), 'transfer')
    await setup(send(i, 'approve', [market, 2n ** 255n], token), 'approve')
  }
  const attrsOf = (region: number) => attributes({ region: REGIONS[region]!, gpu: 'h100' })
  for (const p of PROVIDERS)
    await setup(send(p, 'registerProvider', [`https://p${p}:8443`, attrsOf(0)]), 'register')
  for (const p of PROVIDERS.slice(0, 2))
    await setup(send(AUDITOR, 'signAttributes', [acct[p], attrsOf(0)]), 'sign')
  let snapshot = await rpc<Hex>('evm_snapshot')

  // --- per-sequence ghost state: what exists (ids from events) and what each order was funded
  type OrderGhost = { id: bigint; tenant: number; funded: bigint }
  type BidGhost = { id: bigint; orderId: bigint; provider: number }
  let orders: OrderGhost[] = []
  let bids: BidGhost[] = []
  let leases: bigint[] = []
  const at = <T>(list: T[], i: number): T | undefined =>
    list.length ? list[i % list.length] : undefined
  const logs = (r: Receipt) =>
    parseEventLogs({
      abi: computeMarketAbi,
      logs: r.logs.filter((l) => l.address.toLowerCase() === market.toLowerCase()) as never,
    })
  const note = (r: Receipt, funded?: { orderId: bigint; amount: bigint }) => {
    for (const log of logs(r)) {
      if (log.eventName === 'OrderCreated')
        orders.push({
          id: log.args.orderId,
          tenant: acct.indexOf(log.args.tenant),
          funded: log.args.deposit,
        })
      if (log.eventName === 'BidPlaced')
        bids.push({
          id: log.args.bidId,
          orderId: log.args.orderId,
          provider: acct.indexOf(log.args.provider),
        })
      if (log.eventName === 'LeaseCreated') leases.push(log.args.leaseId)
      if (log.eventName === 'LeaseClosed')
        closes[REASON_NAMES[log.args.reason]!] = (closes[REASON_NAMES[log.args.reason]!] ?? 0) + 1
    }
    if (funded) {
      const o = orders.find((x) => x.id === funded.orderId)
      if (o) o.funded += funded.amount
    }
  }
  const closes: Record<string, number> = {}

  type OrderView = {
    tenant: Address
    state: number
    bidDeadline: bigint
    leaseId: bigint
    maxPricePerBlock: bigint
    escrow: bigint
  }
  type BidView = {
    orderId: bigint
    provider: Address
    state: number
    pricePerBlock: bigint
    deposit: bigint
  }
  type LeaseView = {
    orderId: bigint
    provider: Address
    state: number
    reason: number
    startBlock: bigint
    settledBlock: bigint
    closedBlock: bigint
    pricePerBlock: bigint
    earned: bigint
    paid: bigint
  }
  type ProviderView = { registered: boolean; openBids: number; openLeases: number }
  const read = async () => {
    const calls = [
      ...orders.map((o) => ({ to: market, fn: 'getOrder', args: [o.id] })),
      ...orders.map((o) => ({ to: market, fn: 'openBidsOf', args: [o.id] })),
      ...bids.map((b) => ({ to: market, fn: 'getBid', args: [b.id] })),
      ...leases.map((l) => ({ to: market, fn: 'getLease', args: [l] })),
      ...PROVIDERS.map((p) => ({ to: market, fn: 'getProvider', args: [acct[p]] })),
      ...acct.slice(0, ACCOUNTS).map((a) => ({ to: token, fn: 'balanceOf', args: [a] })),
      { to: token, fn: 'balanceOf', args: [market] },
    ]
    const out = await views(calls)
    let k = 0
    const take = <T>(n: number) => {
      k += n
      return out.slice(k - n, k) as T[]
    }
    return {
      orders: take<OrderView>(orders.length),
      openLists: take<readonly bigint[]>(orders.length),
      bids: take<BidView>(bids.length),
      leases: take<LeaseView>(leases.length),
      providers: take<ProviderView>(PROVIDERS.length),
      balances: take<bigint>(ACCOUNTS),
      market: take<bigint>(1)[0]!,
    }
  }

  const check = async (after: string) => {
    const s = await read()
    const where = (what: string) => fail(`after ${after}: ${what}`)
    let escrows = 0n
    let locked = 0n
    let unwithdrawn = 0n
    const tenantOut = new Map<number, bigint>()
    const providerHolding = new Map<number, bigint>()
    const providerIn = new Map<number, bigint>()
    const add = (m: Map<number, bigint>, k: number, v: bigint) => m.set(k, (m.get(k) ?? 0n) + v)
    const leaseOf = new Map(leases.map((id, i) => [id, s.leases[i]!]))
    for (const [i, g] of orders.entries()) {
      const o = s.orders[i]!
      if (o.state === OrderState.CLOSED && o.escrow !== 0n)
        where(`closed order ${g.id} holds ${o.escrow}`)
      escrows += o.escrow
      const paid = o.leaseId === 0n ? 0n : leaseOf.get(o.leaseId)!.paid
      if (o.escrow + paid > g.funded)
        where(`order ${g.id}: escrow ${o.escrow} + paid ${paid} > funded ${g.funded}`)
      add(tenantOut, g.tenant, o.escrow + paid)
      const open = bids
        .filter((b, j) => b.orderId === g.id && s.bids[j]!.state === BidState.OPEN)
        .map((b) => b.id)
      const list = [...s.openLists[i]!].sort()
      if (list.length > 20) where(`order ${g.id} has ${list.length} open bids`)
      if (JSON.stringify(list.map(String)) !== JSON.stringify(open.sort().map(String)))
        where(`order ${g.id}: open list ${list} != open bids ${open}`)
      if (o.state !== OrderState.OPEN && list.length) where(`order ${g.id} not open with open bids`)
    }
    for (const [j, g] of bids.entries()) {
      const b = s.bids[j]!
      const holds = b.state === BidState.OPEN || b.state === BidState.ACTIVE
      if (b.deposit !== (holds ? BID_DEPOSIT : 0n))
        where(`bid ${g.id} (state ${b.state}) holds ${b.deposit}`)
      locked += b.deposit
      add(providerHolding, g.provider, b.deposit)
    }
    for (const [j, id] of leases.entries()) {
      const l = s.leases[j]!
      const p = acct.indexOf(l.provider)
      add(providerIn, p, l.paid - l.earned)
      const order = s.orders[orders.findIndex((o) => o.id === l.orderId)]!
      const full = l.pricePerBlock * (l.settledBlock - l.startBlock)
      if (l.state === LeaseState.ACTIVE) {
        unwithdrawn += l.earned
        if (l.paid > full) where(`lease ${id} paid ${l.paid} past ${full}`)
        if (l.paid < full && order.escrow !== 0n) where(`lease ${id} underpaid with escrow left`)
      } else {
        if (l.earned !== 0n) where(`closed lease ${id} keeps ${l.earned}`)
        if (l.settledBlock !== l.closedBlock) where(`closed lease ${id} not settled at its close`)
        if (l.paid > full) where(`lease ${id} paid ${l.paid} past ${full}`)
        if (l.paid < full && l.reason !== CloseReason.INSUFFICIENT_FUNDS)
          where(`lease ${id} underpaid but closed for reason ${l.reason}`)
      }
    }
    if (s.market !== escrows + locked + unwithdrawn)
      where(
        `market holds ${s.market}, escrows ${escrows} + deposits ${locked} + earnings ${unwithdrawn}`,
      )
    for (const t of TENANTS) {
      const want = START - (tenantOut.get(t) ?? 0n)
      if (s.balances[t] !== want) where(`tenant ${t} has ${s.balances[t]}, expected ${want}`)
    }
    for (const [k, p] of PROVIDERS.entries()) {
      const want = START - (providerHolding.get(p) ?? 0n) + (providerIn.get(p) ?? 0n)
      if (s.balances[p] !== want) where(`provider ${p} has ${s.balances[p]}, expected ${want}`)
      const v = s.providers[k]!
      const openBids = bids.filter(
        (b, j) => b.provider === p && s.bids[j]!.state === BidState.OPEN,
      ).length
      const openLeases = s.leases.filter(
        (l) => l.provider === acct[p] && l.state === LeaseState.ACTIVE,
      ).length
      if (v.openBids !== openBids || v.openLeases !== openLeases)
        where(
          `provider ${p} counts ${v.openBids}/${v.openLeases}, states say ${openBids}/${openLeases}`,
        )
    }
    for (const other of [AUDITOR, STRANGER])
      if (s.balances[other] !== START) where(`account ${other} balance moved`)
    return s
  }

  const apply = async (a: Action): Promise<{ ok: boolean }> => {
    switch (a.t) {
      case 'order': {
        const region = REGIONS[a.region]!
        const params = {
          specHash: keccak256(toHex(`spec ${a.deposit}`)),
          resources: {
            cpuMilli: 1000,
            gpuUnits: 1,
            memoryBytes: 1n << 30n,
            storageBytes: 1n << 30n,
          },
          maxPricePerBlock: a.ceiling * UNIT,
          bidWindow: BigInt(a.window),
          requirements: a.placement === 0 ? [] : attributes({ region }),
          signedByAnyOf: a.placement === 2 ? [acct[AUDITOR]] : [],
          signedByAllOf: [],
        }
        const r = await send(a.who, 'createOrder', [params, a.deposit * UNIT])
        if (r.ok) note(r.receipt)
        return r
      }
      case 'deal': {
        const order = await apply({
          t: 'order',
          who: a.who,
          deposit: a.deposit,
          ceiling: a.ceiling,
          window: 20,
          placement: 0,
          region: 0,
        })
        if (!order.ok) return order
        const orderId = orders[orders.length - 1]!.id
        const placed: bigint[] = []
        for (const [k, p] of a.bidders.entries()) {
          const r = await send(p, 'placeBid', [orderId, (a.ceiling * UNIT * BigInt(10 - k)) / 10n])
          if (r.ok) {
            note(r.receipt)
            placed.push(bids[bids.length - 1]!.id)
          }
        }
        if (!placed.length) return { ok: false }
        const r = await send(a.who, 'acceptBid', [placed[a.winner % placed.length]])
        if (r.ok) note(r.receipt)
        return r
      }
      case 'bid': {
        const o = at(orders, a.i)
        if (!o) return { ok: false }
        const [view] = await views([{ to: market, fn: 'getOrder', args: [o.id] }])
        const ceiling = (view as OrderView).maxPricePerBlock
        const price = (ceiling * BigInt(a.tenths)) / 10n
        const r = await send(a.who, 'placeBid', [o.id, price])
        if (price > ceiling) mustFail(r.ok, `bid ${price} above ceiling ${ceiling}`)
        if (r.ok) note(r.receipt)
        return r
      }
      case 'accept': {
        const b = at(bids, a.i)
        if (!b) return { ok: false }
        const o = orders.find((x) => x.id === b.orderId)!
        const r = await send(a.stranger ? STRANGER : o.tenant, 'acceptBid', [b.id])
        if (a.stranger) mustFail(r.ok, 'acceptBid by a stranger')
        if (r.ok) note(r.receipt)
        return r
      }
      case 'closeBid': {
        const b = at(bids, a.i)
        if (!b) return { ok: false }
        const [view] = await views([{ to: market, fn: 'getOrder', args: [b.orderId] }])
        const inWindow = (await blockNumber()) + 1n <= (view as OrderView).bidDeadline
        const r = await send(a.who, 'closeBid', [b.id])
        if (a.who !== b.provider && inWindow)
          mustFail(r.ok, 'closeBid by another inside the window')
        if (r.ok) note(r.receipt)
        return r
      }
      case 'closeOrder': {
        const o = at(orders, a.i)
        if (!o) return { ok: false }
        const [view] = await views([{ to: market, fn: 'getOrder', args: [o.id] }])
        const inWindow = (await blockNumber()) + 1n <= (view as OrderView).bidDeadline
        const r = await send(a.who, 'closeOrder', [o.id])
        if (a.who !== o.tenant && inWindow)
          mustFail(r.ok, 'closeOrder by another inside the window')
        if (r.ok) note(r.receipt)
        return r
      }
      case 'deposit': {
        const o = at(orders, a.i)
        if (!o) return { ok: false }
        const amount = a.amount * UNIT
        const r = await send(a.stranger ? STRANGER : o.tenant, 'depositEscrow', [o.id, amount])
        if (a.stranger) mustFail(r.ok, 'depositEscrow by a stranger')
        if (r.ok) note(r.receipt, { orderId: o.id, amount })
        return r
      }
      case 'withdraw': {
        const id = at(leases, a.i)
        if (id === undefined) return { ok: false }
        const [l] = (await views([{ to: market, fn: 'getLease', args: [id] }])) as LeaseView[]
        const [o] = (await views([
          { to: market, fn: 'getOrder', args: [l!.orderId] },
        ])) as OrderView[]
        // what the lease will have earned in the next block (the transaction's)
        const due = l!.pricePerBlock * ((await blockNumber()) + 1n - l!.settledBlock)
        const earned = l!.earned + (due < o!.escrow ? due : o!.escrow)
        const amount = (earned * BigInt(a.tenths)) / 10n
        const from = a.stranger ? STRANGER : acct.indexOf(l!.provider)
        const r = await send(from, 'withdrawLease', [id, amount])
        if (a.stranger) mustFail(r.ok, 'withdrawLease by a stranger')
        if (amount > earned) mustFail(r.ok, `withdrawLease of ${amount} > earned ${earned}`)
        if (r.ok) note(r.receipt)
        return r
      }
      case 'closeLease': {
        const id = at(leases, a.i)
        if (id === undefined) return { ok: false }
        const [l] = (await views([{ to: market, fn: 'getLease', args: [id] }])) as LeaseView[]
        // depleted in the transaction's block if the escrow cannot pay the blocks up to it
        const [o] = (await views([
          { to: market, fn: 'getOrder', args: [l!.orderId] },
        ])) as OrderView[]
        const due = l!.pricePerBlock * ((await blockNumber()) + 1n - l!.settledBlock)
        const depleted = l!.state === LeaseState.ACTIVE && due > o!.escrow
        const tenantOf = orders.find((x) => x.id === l!.orderId)!.tenant
        const who = a.role < 2 ? tenantOf : a.role === 2 ? acct.indexOf(l!.provider) : STRANGER
        const own = [CloseReason.TENANT, CloseReason.PROVIDER_GONE][a.i % 2]!
        const natural =
          a.role < 2 ? own : a.role === 2 ? CloseReason.PROVIDER : CloseReason.INSUFFICIENT_FUNDS
        const reason = a.reason >= 0 ? a.reason : natural
        const r = await send(who, 'closeLease', [id, reason])
        const allowed =
          reason === CloseReason.INSUFFICIENT_FUNDS ||
          ((reason === CloseReason.TENANT || reason === CloseReason.PROVIDER_GONE) &&
            who === tenantOf) ||
          (reason === CloseReason.PROVIDER && acct[who] === l!.provider)
        if (!allowed) mustFail(r.ok, `closeLease(${reason}) by ${who}`)
        // only a lease whose escrow fell short closes for insufficient funds
        if (r.ok && reason === CloseReason.INSUFFICIENT_FUNDS && !depleted)
          fail(`lease ${id} closed for lack of funds it had`)
        if (r.ok) note(r.receipt)
        return r
      }
      case 'mine':
        await mine(a.b)
        return { ok: true }
      case 'register':
        return await send(a.who, 'registerProvider', [`https://p${a.who}:8443`, attrsOf(0)])
      case 'deregister': {
        // rarely for real (then re-register soon after), mostly while busy (must be refused)
        const r = await send(a.who, 'deregisterProvider', [])
        if (r.ok && a.really !== 0)
          await send(a.who, 'registerProvider', [`https://p${a.who}:8443`, attrsOf(0)])
        return r
      }
      case 'attributes':
        return await send(a.who, 'setProviderAttributes', [attrsOf(a.region)])
      case 'audit':
        return a.revoke
          ? await send(AUDITOR, 'revokeAttributes', [acct[a.who], [attrsOf(0)[0]!.key]])
          : await send(AUDITOR, 'signAttributes', [acct[a.who], attrsOf(a.region)])
    }
  }

  /** Closes everything: leases by their tenants, then orders by anyone past every window. */
  const drain = async () => {
    for (const id of leases) {
      const [l] = (await views([{ to: market, fn: 'getLease', args: [id] }])) as LeaseView[]
      if (l!.state !== LeaseState.ACTIVE) continue
      const t = orders.find((o) => o.id === l!.orderId)!.tenant
      if (!(await send(t, 'closeLease', [id, CloseReason.TENANT])).ok)
        fail(`drain: closeLease ${id}`)
    }
    await mine(61)
    for (const o of orders) {
      const [v] = (await views([{ to: market, fn: 'getOrder', args: [o.id] }])) as OrderView[]
      if (v!.state !== OrderState.OPEN) continue
      const r = await send(STRANGER, 'closeOrder', [o.id])
      if (!r.ok) fail(`drain: closeOrder ${o.id}`)
      note(r.receipt)
    }
    const s = await check('drain')
    if (s.market !== 0n) fail(`after everything closed the market still holds ${s.market}`)
    const sum = s.balances.slice(1).reduce((x, y) => x + y, 0n)
    if (sum !== START * BigInt(ACCOUNTS - 1))
      fail(`actors hold ${sum} in all, not what they started with`)
  }

  let runs = 0
  let actions = 0
  const counts: Record<string, number> = {}
  const succeeded: Record<string, number> = {}
  await fc.assert(
    fc.asyncProperty(
      fc.array(action, { minLength: 5, maxLength: options.maxActions ?? 30 }),
      async (seq) => {
        options.signal?.throwIfAborted()
        if (!(await rpc<boolean>('evm_revert', [snapshot]))) fail('evm_revert failed')
        snapshot = await rpc<Hex>('evm_snapshot')
        orders = []
        bids = []
        leases = []
        for (const a of seq) {
          const r = await apply(a)
          actions++
          counts[a.t] = (counts[a.t] ?? 0) + 1
          if (r.ok) succeeded[a.t] = (succeeded[a.t] ?? 0) + 1
          await check(a.t)
        }
        await drain()
        runs++
        if (options.progress && runs % (options.every ?? 100) === 0)
          options.progress(runs, Date.now() - started)
      },
    ),
    { seed: options.seed, numRuns: options.runs, endOnFailure: true },
  )
  return { runs, actions, reverted, ms: Date.now() - started, counts, succeeded, closes, refusals }
}
