import { peerIdFromString } from '@libp2p/peer-id'
import type { Address, Hex } from 'viem'
import { verityTokenAbi } from '../chain/abis.ts'
import { approveToken } from '../chain/actions/approveToken.ts'
import { getChannel } from '../chain/actions/getChannel.ts'
import { openChannel } from '../chain/actions/openChannel.ts'
import { topUpChannel } from '../chain/actions/topUpChannel.ts'
import { RemoteError, StreamError, VoucherError } from '../errors/node.ts'
import type { InferenceRequest, SignedReceipt } from '../types/inference.ts'
import { answerCost } from '../verify/price.ts'
import { receiptDigest } from '../verify/receipt.ts'
import { type SignedVoucher, signVoucher } from '../verify/voucher.ts'
import type { ChainContext } from './chain.ts'
import { readFrames, VOUCHER_PROTOCOL, writeFrame } from './frames.ts'
import { log } from './log.ts'
import { voucherToJson } from './payee.ts'
import type { Peer } from './peer.ts'

export type PayerInit = {
  peer: Peer
  /** The gateway's chain context: its hotkey opens the channels and signs the vouchers. */
  chain: Pick<ChainContext, 'chainId' | 'publicClient' | 'walletClient'>
  /** The PaymentChannels contract (manifest `contracts.payments`) and the VTY token it pays in. */
  payments: Address
  token: Address
  /** VTY wei locked in each channel when it is opened, and added at each top-up. */
  deposit: bigint
  /** Top up when less than this is left in a channel (default a quarter of `deposit`). */
  topUpBelow?: bigint
  /** Blocks a channel stays open (its expiry; default 100000, pushed on at each top-up). */
  expiryBlocks?: bigint
}

type Channel = {
  channelId: Hex
  deposit: bigint
  expiry: bigint
  /** What this gateway has promised on it in all (the next voucher adds to it). */
  promised: bigint
  /** A voucher not known to have arrived: sent again before the next one. */
  pending?: { voucher: SignedVoucher; cost: bigint }
}

/**
 * A gateway's side of the payment channels: after each priced answer it signs a cumulative
 * voucher whose increment is exactly that answer's cost (promptTokens x promptWei +
 * completionTokens x completionWei of the priced request the receipt commits to), bound to the
 * receipt's digest, and hands it to the miner on `/verity/voucher/1`. A channel to a miner is
 * opened lazily, once (approving `deposit` first), and topped up when what is left runs low.
 * Vouchers to one miner go one at a time, in order; one whose delivery failed is sent again before
 * the next (the miner refuses a second copy it already holds as a replay, which counts as
 * delivered); one the miner refused outright is taken back (the miner says what it holds).
 */
export class PaymentSender {
  private readonly init: PayerInit
  private readonly log = log('node:payer')
  private readonly channels = new Map<string, Promise<Channel>>()
  private readonly queues = new Map<string, Promise<unknown>>()
  /** Vouchers the miners took and refused (tests, metrics). */
  paid = 0
  refused = 0

  constructor(init: PayerInit) {
    this.init = init
  }

  /** The channel to a miner, once opened. */
  async channelOf(miner: Address): Promise<Hex | undefined> {
    return (await this.channels.get(miner.toLowerCase())?.catch(() => undefined))?.channelId
  }

  /**
   * Pays one answer: queued behind the miner's earlier vouchers. Resolves with the cumulative
   * amount the miner now holds; a refusal or a network failure rejects (the answer stays owed).
   */
  async pay(
    miner: { hotkey: Address; peerId: string },
    answer: { request: InferenceRequest; tokens: readonly number[]; receipt: SignedReceipt },
    options: { signal?: AbortSignal } = {},
  ): Promise<bigint> {
    const price = answer.request.price
    if (!price) return 0n
    const cost = answerCost(
      { promptPrice: BigInt(price.promptWei), completionPrice: BigInt(price.completionWei) },
      answer.request.promptTokens.length,
      answer.tokens.length,
    )
    if (cost === 0n) return 0n
    const key = miner.hotkey.toLowerCase()
    const before = this.queues.get(key) ?? Promise.resolve()
    const run = before
      .catch(() => {})
      .then(() => this.payNow(miner, cost, receiptDigest(answer.receipt), options.signal))
    this.queues.set(key, run)
    try {
      return await run
    } finally {
      if (this.queues.get(key) === run) this.queues.delete(key)
    }
  }

  private async payNow(
    miner: { hotkey: Address; peerId: string },
    cost: bigint,
    digest: Hex,
    signal?: AbortSignal,
  ): Promise<bigint> {
    const channel = await this.channel(miner.hotkey, cost, signal)
    if (channel.pending) {
      const again = channel.pending
      delete channel.pending
      await this.deliver(miner, channel, again.voucher, again.cost, signal).catch(() => {})
    }
    try {
      return await this.signAndDeliver(miner, channel, cost, digest, signal)
    } catch (error) {
      // out of step with the miner (a voucher lost, or one taken behind our back): sign this
      // answer once more on top of what the miner says it holds
      if (!(error instanceof OutOfStep)) throw error
      channel.promised = error.held
      return await this.signAndDeliver(miner, channel, cost, digest, signal)
    }
  }

  private async signAndDeliver(
    miner: { hotkey: Address; peerId: string },
    channel: Channel,
    cost: bigint,
    digest: Hex,
    signal?: AbortSignal,
  ): Promise<bigint> {
    const voucher = await signVoucher(
      this.init.chain.walletClient.account as never,
      { chainId: this.init.chain.chainId, verifyingContract: this.init.payments },
      {
        channelId: channel.channelId,
        cumulativeAmount: channel.promised + cost,
        receiptDigest: digest,
      },
    )
    channel.promised = voucher.cumulativeAmount
    return await this.deliver(miner, channel, voucher, cost, signal)
  }

  private async deliver(
    miner: { hotkey: Address; peerId: string },
    channel: Channel,
    voucher: SignedVoucher,
    cost: bigint,
    signal?: AbortSignal,
  ): Promise<bigint> {
    let reply: { type?: string; held?: string; message?: string }
    try {
      reply = await sendVoucher(this.init.peer, miner.peerId, voucher, signal)
    } catch (error) {
      channel.pending = { voucher, cost }
      throw error
    }
    if (reply.type === 'paid') {
      this.paid++
      return BigInt(reply.held ?? '0')
    }
    this.refused++
    const message = String(reply.message)
    // a copy of one it already took: delivered after all
    if (/already paid/.test(message)) return voucher.cumulativeAmount
    // refused outright: take the promise back to what the chain and miner will honour
    if (channel.promised === voucher.cumulativeAmount) channel.promised -= cost
    const held = reply.held === undefined ? undefined : BigInt(reply.held)
    if (/adds .* the answer costs/.test(message) && held !== undefined && held !== channel.promised)
      throw new OutOfStep(held)
    throw new RemoteError('voucher', message)
  }

  /** The channel to `miner`: opened on first use, topped up when less than `cost` (or the floor) is left. */
  private async channel(miner: Address, cost: bigint, signal?: AbortSignal): Promise<Channel> {
    const key = miner.toLowerCase()
    let pending = this.channels.get(key)
    if (!pending) {
      pending = this.open(miner, cost, signal)
      this.channels.set(key, pending)
      pending.catch(() => this.channels.delete(key))
    }
    const channel = await pending
    const left = channel.deposit - channel.promised
    const floor = this.init.topUpBelow ?? this.init.deposit / 4n
    if (left < cost || left < floor) await this.topUp(channel, cost, signal)
    return channel
  }

  private async ensureAllowance(amount: bigint, signal?: AbortSignal): Promise<void> {
    const { publicClient, walletClient } = this.init.chain
    const allowance = await publicClient.readContract({
      address: this.init.token,
      abi: verityTokenAbi,
      functionName: 'allowance',
      args: [walletClient.account.address, this.init.payments],
    })
    if ((allowance as bigint) < amount)
      await approveToken(
        walletClient,
        { token: this.init.token, spender: this.init.payments, amount: 2n ** 255n },
        signal ? { signal } : {},
      )
  }

  private async open(miner: Address, cost: bigint, signal?: AbortSignal): Promise<Channel> {
    const deposit = this.init.deposit > cost ? this.init.deposit : cost
    await this.ensureAllowance(deposit, signal)
    const block = await this.init.chain.publicClient.getBlockNumber()
    const expiry = block + (this.init.expiryBlocks ?? 100_000n)
    const { channelId } = await openChannel(
      this.init.chain.walletClient,
      { address: this.init.payments, miner, deposit, expiry },
      signal ? { signal } : {},
    )
    this.log('opened channel %s to %s with %s wei', channelId, miner, deposit)
    return { channelId, deposit, expiry, promised: 0n }
  }

  private async topUp(channel: Channel, cost: bigint, signal?: AbortSignal): Promise<void> {
    const amount = this.init.deposit > cost ? this.init.deposit : cost
    await this.ensureAllowance(amount, signal)
    const block = await this.init.chain.publicClient.getBlockNumber()
    const expiry = block + (this.init.expiryBlocks ?? 100_000n)
    const c = await getChannel(this.init.chain.publicClient, {
      address: this.init.payments,
      channelId: channel.channelId,
    })
    await topUpChannel(
      this.init.chain.walletClient,
      {
        address: this.init.payments,
        channelId: channel.channelId,
        amount,
        expiry: expiry > c.expiry ? expiry : c.expiry,
      },
      signal ? { signal } : {},
    )
    channel.deposit += amount
    this.log('topped up channel %s by %s wei', channel.channelId, amount)
  }
}

/** The miner holds another cumulative amount than we promised: `held`. */
class OutOfStep extends Error {
  constructor(readonly held: bigint) {
    super(`the miner holds ${held}`)
  }
}

/** Sends one voucher on `/verity/voucher/1` and reads the miner's reply frame. */
export async function sendVoucher(
  peer: Peer,
  peerId: string,
  voucher: SignedVoucher,
  signal?: AbortSignal,
): Promise<{ type?: string; held?: string; code?: string; message?: string }> {
  const within = AbortSignal.any([AbortSignal.timeout(10_000), ...(signal ? [signal] : [])])
  const stream = await peer.dialProtocol(peerIdFromString(peerId), VOUCHER_PROTOCOL, {
    signal: within,
  })
  try {
    await writeFrame(
      stream,
      { type: 'voucher', voucher: voucherToJson(voucher) },
      { signal: within },
    )
    const onAbort = () => stream.abort(new Error('no voucher reply in time'))
    within.addEventListener('abort', onAbort, { once: true })
    try {
      const first = await readFrames(stream).next()
      if (first.done) throw new StreamError('the miner closed the voucher stream without a reply')
      const reply = first.value as { type?: string; held?: string; message?: string }
      if (reply.type !== 'paid' && reply.type !== 'error')
        throw new VoucherError('the miner answered a voucher with an unknown frame')
      return reply
    } finally {
      within.removeEventListener('abort', onAbort)
    }
  } finally {
    await stream.close().catch(() => stream.abort(new Error('closed')))
  }
}
