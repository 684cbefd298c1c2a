import type { Startable, Stream } from '@libp2p/interface'
import { type Address, type Hex, isAddressEqual, BaseError as ViemBaseError } from 'viem'
import { getChannel } from '../chain/actions/getChannel.ts'
import { settleChannel } from '../chain/actions/settleChannel.ts'
import { ChannelState } from '../chain/payments.ts'
import { BaseError } from '../errors/base.ts'
import { VoucherError } from '../errors/node.ts'
import { answerCost } from '../verify/price.ts'
import { assertVoucherFields, type SignedVoucher, VoucherBook } from '../verify/voucher.ts'
import type { ChainContext } from './chain.ts'
import { readFrames, VOUCHER_PROTOCOL, type VoucherJson, writeFrame } from './frames.ts'
import { log } from './log.ts'
import type { Peer } from './peer.ts'
import type { NodeStore } from './store.ts'

const SCHEMA = `
CREATE TABLE IF NOT EXISTS vouchers (
  channel_id TEXT PRIMARY KEY,
  payer TEXT NOT NULL,
  latest TEXT NOT NULL,
  fallback TEXT,
  settled TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS paid_answers (
  digest TEXT PRIMARY KEY,
  channel_id TEXT NOT NULL,
  cumulative TEXT NOT NULL
);
`

export type PayeeInit = {
  peer: Peer
  store: NodeStore
  /** The miner's chain context: its hotkey is the channels' miner and sends the settles. */
  chain: Pick<ChainContext, 'chainId' | 'publicClient' | 'walletClient'>
  /** The PaymentChannels contract (manifest `contracts.payments`). */
  payments: Address
  /** Settle a channel once it holds this much unsettled wei (default 1 VTY = 10^18). */
  settleAbove?: bigint
  /** Also settle anything unsettled this often (default 10 min); and on stop. */
  settleEveryMs?: number
  /** How often channels are read from chain, to settle in time when one starts closing (5 s). */
  pollMs?: number
  /**
   * Settle as soon as fewer than this many blocks are left before a channel's settle deadline
   * (its close's challenge end, or its expiry plus grace; default 20).
   */
  deadlineMarginBlocks?: bigint
}

type Unpaid = { caller: string; cost: bigint }

/**
 * A miner's side of the payment channels: it serves `/verity/voucher/1`, where a payer (a gateway)
 * hands one voucher per priced answer it got. A voucher is kept only if it pays exactly one answer
 * this miner signed for that payer and was not paid yet (the increment over the channel's latest
 * voucher equals the answer's promptTokens x promptWei + completionTokens x completionWei, from
 * the priced request the receipt commits to), on a channel to this miner, signed by its payer,
 * within its deposit (read again from chain after a top-up). The latest voucher per channel and
 * the answers paid are kept in the node's SQLite store; the channel is settled on chain above a
 * threshold, on an interval, when its settle deadline (a close's challenge end) comes near, and on
 * stop. A voucher whose receipt lost a dispute reverts VoucherVoided: the previous voucher (bound
 * to another receipt) is settled instead.
 *
 * Vouchers of one channel are checked one at a time, so concurrent ones cannot both claim the same
 * increment. `owed(caller)` counts the priced answers served to a caller and not paid yet: the
 * miner refuses that caller beyond its credit limit (MinerInit.credit).
 */
export class PaymentReceiver implements Startable {
  readonly book: VoucherBook
  private readonly init: PayeeInit
  private readonly log = log('node:payee')
  private readonly locks = new Map<string, Promise<unknown>>()
  /** Priced answers served and not paid: receipt digest → caller and cost. */
  private readonly unpaid = new Map<string, Unpaid>()
  private readonly owedBy = new Map<string, number>()
  private readonly settledAt = new Map<string, number>()
  /** Channels as last read from chain: channel id (lower-case) → payer, deposit, paid. */
  private readonly tracked = new Map<string, { payer: Address; deposit: bigint; paid: bigint }>()
  private timer: ReturnType<typeof setInterval> | undefined
  private polling: Promise<void> | undefined
  private started = false
  private startedAt = Date.now()
  /** Settle transactions sent (tests, metrics). */
  settles = 0

  constructor(init: PayeeInit) {
    this.init = init
    init.store.db.exec(SCHEMA)
    this.book = new VoucherBook({ chainId: init.chain.chainId, verifyingContract: init.payments })
  }

  private get me(): Address {
    return this.init.chain.walletClient.account.address
  }

  async start(): Promise<void> {
    if (this.started) return
    // the vouchers a previous run held are still owed: track their channels again
    const rows = this.init.store.db
      .prepare('SELECT channel_id, payer, latest, fallback, settled FROM vouchers')
      .all() as {
      channel_id: Hex
      payer: Address
      latest: string
      fallback: string | null
      settled: string
    }[]
    for (const r of rows) {
      const latest = voucherFromJson(JSON.parse(r.latest))
      // tracked from 0 so the held vouchers load, then marked with what was settled of them
      this.book.track({
        channelId: r.channel_id,
        payer: r.payer,
        deposit: latest.cumulativeAmount,
        paid: 0n,
      })
      if (r.fallback)
        await this.book.accept(voucherFromJson(JSON.parse(r.fallback))).catch(() => {})
      await this.book.accept(latest).catch(() => {})
      this.book.markSettled(r.channel_id, BigInt(r.settled))
    }
    this.startedAt = Date.now()
    await this.init.peer.handle(VOUCHER_PROTOCOL, (stream) => this.handle(stream))
    this.timer = setInterval(() => {
      this.polling ??= this.poll().finally(() => {
        this.polling = undefined
      })
    }, this.init.pollMs ?? 5000)
    this.started = true
  }

  /** Stops serving vouchers and settles whatever is unsettled (best effort, each within 30 s). */
  async stop(): Promise<void> {
    if (!this.started) return
    this.started = false
    clearInterval(this.timer)
    await this.init.peer.unhandle(VOUCHER_PROTOCOL)
    await this.polling
    for (const channelId of this.channels())
      if (this.book.unsettled(channelId) > 0n)
        await this.settle(channelId, AbortSignal.timeout(30_000)).catch((error) =>
          this.log.error('settle of %s on stop failed: %e', channelId, error),
        )
  }

  /** Records a priced answer this miner signed: owed by `caller` until a voucher pays it. */
  served(caller: Address, digest: Hex, cost: bigint): void {
    if (cost <= 0n) return
    const key = caller.toLowerCase()
    this.unpaid.set(digest.toLowerCase(), { caller: key, cost })
    this.owedBy.set(key, (this.owedBy.get(key) ?? 0) + 1)
  }

  /** Priced answers served to `caller` and not paid for yet (this run). */
  owed(caller: Address): number {
    return this.owedBy.get(caller.toLowerCase()) ?? 0
  }

  /** The channels this miner holds vouchers of. */
  channels(): Hex[] {
    return (
      this.init.store.db.prepare('SELECT channel_id FROM vouchers').all() as { channel_id: Hex }[]
    ).map((r) => r.channel_id)
  }

  private async handle(stream: Stream): Promise<void> {
    const timer = setTimeout(() => stream.abort(new Error('no voucher frame in time')), 10_000)
    try {
      const first = await readFrames(stream)
        .next()
        .finally(() => clearTimeout(timer))
      const frame = first.value as { type?: unknown; voucher?: unknown } | undefined
      let reply: Parameters<typeof writeFrame>[1]
      try {
        if (first.done || frame?.type !== 'voucher')
          throw new VoucherError('the first frame must be a voucher frame')
        const held = await this.receive(frame.voucher)
        reply = { type: 'paid', held: held.toString() }
      } catch (error) {
        const message = error instanceof BaseError ? error.shortMessage : String(error)
        this.log('voucher refused: %s', message)
        // what is held for the channel, so a payer out of step (restarted, a voucher lost) can
        // sign the answer again on top of it
        const id = (frame?.voucher as { channelId?: unknown } | undefined)?.channelId
        const held =
          typeof id === 'string' ? this.book.latest(id as Hex)?.cumulativeAmount : undefined
        reply = {
          type: 'error',
          code: 'voucher',
          message,
          ...(held === undefined ? {} : { held: held.toString() }),
        }
      }
      await writeFrame(stream, reply, { signal: AbortSignal.timeout(5000) })
      await stream.close({ signal: AbortSignal.timeout(5000) })
    } catch (error) {
      stream.abort(error instanceof Error ? error : new Error(String(error)))
    }
  }

  /**
   * Checks and keeps one voucher (what `/verity/voucher/1` does with it); returns the cumulative
   * amount now held for its channel. Throws a VoucherError naming what is wrong.
   */
  async receive(raw: unknown, options: { signal?: AbortSignal } = {}): Promise<bigint> {
    const voucher = voucherFromJson(raw)
    // one voucher at a time: the increment is checked against the channel's latest held, and an
    // answer is paid once across channels (two channels of one payer cannot both claim it)
    const key = 'receive'
    const before = this.locks.get(key) ?? Promise.resolve()
    const run = before.catch(() => {}).then(() => this.check(voucher, options.signal))
    this.locks.set(key, run)
    try {
      return await run
    } finally {
      if (this.locks.get(key) === run) this.locks.delete(key)
    }
  }

  private async check(voucher: SignedVoucher, signal?: AbortSignal): Promise<bigint> {
    const { store } = this.init
    const digest = voucher.receiptDigest.toLowerCase()
    const paid = store.db
      .prepare('SELECT channel_id FROM paid_answers WHERE digest = ?')
      .get(digest) as { channel_id: string } | undefined
    if (paid)
      throw new VoucherError(
        `replayed voucher: the answer ${voucher.receiptDigest} is already paid`,
      )
    const answer = store.receiptByDigest(voucher.receiptDigest)
    if (!answer)
      throw new VoucherError(
        `voucher for an answer this miner never served (receipt ${voucher.receiptDigest})`,
      )
    const price = answer.request.price
    if (!price) throw new VoucherError('voucher for a free answer (its request carries no price)')
    const cost = answerCost(
      { promptPrice: BigInt(price.promptWei), completionPrice: BigInt(price.completionWei) },
      answer.request.promptTokens.length,
      answer.tokens.length,
    )
    let channel = await this.channel(voucher, signal)
    if (!isAddressEqual(channel.payer, answer.caller))
      throw new VoucherError(
        `voucher from channel payer ${channel.payer} for an answer served to ${answer.caller}`,
      )
    const floor = this.book.latest(voucher.channelId)?.cumulativeAmount ?? channel.paid
    const increment = voucher.cumulativeAmount - floor
    if (increment !== cost)
      throw new VoucherError(
        `voucher adds ${increment} wei over the ${floor} held; the answer costs ${cost} (${answer.request.promptTokens.length} prompt and ${answer.tokens.length} completion tokens at ${price.promptWei} and ${price.completionWei} wei)`,
      )
    // above the deposit we know of: the payer may have topped up
    if (voucher.cumulativeAmount > channel.deposit)
      channel = await this.channel(voucher, signal, true)
    await this.book.accept(voucher, {
      receiptDigest: voucher.receiptDigest,
      ...(signal ? { signal } : {}),
    })
    const fallback = this.book.fallback(voucher.channelId)
    store.db.transaction(() => {
      store.db
        .prepare(
          'INSERT INTO vouchers (channel_id, payer, latest, fallback, settled) VALUES (?, ?, ?, ?, ?) ON CONFLICT (channel_id) DO UPDATE SET latest = excluded.latest, fallback = excluded.fallback',
        )
        .run(
          voucher.channelId.toLowerCase(),
          channel.payer,
          JSON.stringify(voucherToJson(voucher)),
          fallback ? JSON.stringify(voucherToJson(fallback)) : null,
          channel.paid.toString(),
        )
      store.db
        .prepare('INSERT INTO paid_answers (digest, channel_id, cumulative) VALUES (?, ?, ?)')
        .run(digest, voucher.channelId.toLowerCase(), voucher.cumulativeAmount.toString())
    })()
    const owed = this.unpaid.get(digest)
    if (owed) {
      this.unpaid.delete(digest)
      const left = (this.owedBy.get(owed.caller) ?? 1) - 1
      if (left > 0) this.owedBy.set(owed.caller, left)
      else this.owedBy.delete(owed.caller)
    }
    if (this.book.unsettled(voucher.channelId) >= (this.init.settleAbove ?? 10n ** 18n))
      void this.settle(voucher.channelId).catch((error) =>
        this.log.error('settle of %s failed: %e', voucher.channelId, error),
      )
    return voucher.cumulativeAmount
  }

  /** The channel as the chain has it (read once, again with `fresh`), tracked in the book. */
  private async channel(voucher: SignedVoucher, signal?: AbortSignal, fresh = false) {
    const tracked = this.tracked.get(voucher.channelId.toLowerCase())
    if (tracked && !fresh) return tracked
    let c: Awaited<ReturnType<typeof getChannel>>
    try {
      c = await getChannel(
        this.init.chain.publicClient,
        { address: this.init.payments, channelId: voucher.channelId },
        signal ? { signal } : {},
      )
    } catch (error) {
      throw new VoucherError(`voucher for channel ${voucher.channelId}, unknown on chain`, {
        cause: error,
      })
    }
    if (!isAddressEqual(c.miner, this.me))
      throw new VoucherError(`voucher for channel ${voucher.channelId}, which pays another miner`)
    if (c.state !== ChannelState.OPEN && c.state !== ChannelState.CLOSING)
      throw new VoucherError(`voucher for channel ${voucher.channelId}, which is closed`)
    const view = { payer: c.payer, deposit: c.deposit, paid: c.paid }
    this.book.track({ channelId: voucher.channelId, ...view })
    this.tracked.set(voucher.channelId.toLowerCase(), view)
    return view
  }

  /**
   * Settles a channel's latest voucher on chain; if its receipt lost a dispute (VoucherVoided),
   * settles the previous one bound to another receipt. Returns the channel's paid total.
   */
  async settle(channelId: Hex, signal?: AbortSignal): Promise<bigint> {
    const key = channelId.toLowerCase()
    const before = this.locks.get(key) ?? Promise.resolve()
    const run = before.catch(() => {}).then(() => this.settleNow(channelId, signal))
    this.locks.set(key, run)
    try {
      return await run
    } finally {
      if (this.locks.get(key) === run) this.locks.delete(key)
    }
  }

  private async settleNow(channelId: Hex, signal?: AbortSignal): Promise<bigint> {
    const latest = this.book.latest(channelId)
    if (!latest || this.book.unsettled(channelId) <= 0n) return latest?.cumulativeAmount ?? 0n
    const address = this.init.payments
    const wallet = this.init.chain.walletClient
    const options = signal ? { signal } : {}
    let settled = latest
    try {
      this.settles++
      await settleChannel(wallet, { address, ...latest }, options)
    } catch (error) {
      const fallback = this.book.fallback(channelId)
      if (!(isRevert(error, 'VoucherVoided') && fallback)) throw error
      this.log(
        'voucher for %s is void (its receipt lost a dispute): settling the one before',
        latest.receiptDigest,
      )
      this.settles++
      await settleChannel(wallet, { address, ...fallback }, options)
      settled = fallback
    }
    const c = await getChannel(this.init.chain.publicClient, { address, channelId }, options)
    this.book.markSettled(channelId, c.paid)
    this.settledAt.set(channelId.toLowerCase(), Date.now())
    this.init.store.db
      .prepare('UPDATE vouchers SET settled = ? WHERE channel_id = ?')
      .run(c.paid.toString(), channelId.toLowerCase())
    this.log(
      'settled %s: %s paid in all (voucher for %s)',
      channelId,
      c.paid,
      settled.receiptDigest,
    )
    return c.paid
  }

  /** Settles what is due: a channel closing or near its deadline, or unsettled for too long. */
  private async poll(): Promise<void> {
    const margin = this.init.deadlineMarginBlocks ?? 20n
    const every = this.init.settleEveryMs ?? 600_000
    for (const channelId of this.channels()) {
      if (this.book.unsettled(channelId) <= 0n) continue
      try {
        const c = await getChannel(this.init.chain.publicClient, {
          address: this.init.payments,
          channelId,
        })
        const block = await this.init.chain.publicClient.getBlockNumber()
        const due =
          c.state === ChannelState.CLOSING ||
          c.settleDeadline - block <= margin ||
          Date.now() - (this.settledAt.get(channelId.toLowerCase()) ?? this.startedAt) >= every
        if (due && c.state !== ChannelState.CLOSED) await this.settle(channelId)
      } catch (error) {
        this.log.error('settling %s failed: %e', channelId, error)
      }
    }
  }
}

function isRevert(error: unknown, name: string): boolean {
  if (!(error instanceof ViemBaseError)) return false
  return Boolean(
    error.walk((e) => (e as { data?: { errorName?: string } }).data?.errorName === name),
  )
}

/** Parses a voucher frame's voucher (cumulativeAmount as decimal wei); shape errors by field. */
export function voucherFromJson(value: unknown): SignedVoucher {
  if (typeof value !== 'object' || value === null)
    throw new VoucherError('voucher is not an object')
  const v = value as Record<string, unknown>
  if (typeof v.cumulativeAmount !== 'string' || !/^[1-9][0-9]{0,77}$/.test(v.cumulativeAmount))
    throw new VoucherError('voucher cumulativeAmount must be a decimal string of wei above 0')
  const voucher = {
    channelId: v.channelId,
    cumulativeAmount: BigInt(v.cumulativeAmount),
    receiptDigest: v.receiptDigest,
    signature: v.signature,
  }
  assertVoucherFields(voucher)
  return voucher
}

export function voucherToJson(v: SignedVoucher): VoucherJson {
  return {
    channelId: v.channelId,
    cumulativeAmount: v.cumulativeAmount.toString(),
    receiptDigest: v.receiptDigest,
    signature: v.signature,
  }
}
