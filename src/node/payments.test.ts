import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { type Hex, toHex } from 'viem'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { openChannel } from '../chain/actions/openChannel.ts'
import { startCloseChannel } from '../chain/actions/startCloseChannel.ts'
import { type Devnet, startDevnet } from '../chain/devnet.ts'
import { NO_DISPUTE_GAME } from '../chain/payments.ts'
import { type PaymentsChain, setupPayments, type Wallet } from '../chain/payments-fixture.ts'
import { RemoteError } from '../errors/node.ts'
import { samplingParams } from '../runtime/sampler/sample.ts'
import { testModel } from '../runtime/test-model.ts'
import { tokenizerFromGguf } from '../runtime/tokenizer/index.ts'
import { toHex as rootHex } from '../runtime/trace/merkle.ts'
import type { InferenceRequest } from '../types/inference.ts'
import { receiptDigest } from '../verify/receipt.ts'
import { collect, Libp2pMinerClient } from './client.ts'
import { readFrames, VOUCHER_PROTOCOL, writeFrame } from './frames.ts'
import { MinerService } from './miner.ts'
import { PaymentReceiver, voucherToJson } from './payee.ts'
import { PaymentSender, sendVoucher } from './payer.ts'
import { createPeer, type Peer } from './peer.ts'
import { NodeStore } from './store.ts'

/**
 * Vouchers per answer over real libp2p and a real chain (anvil, PaymentChannels): a gateway pays
 * each priced answer with a voucher whose increment is exactly its tokens x price; the miner keeps
 * only vouchers that pay an answer it served and was not paid for, and settles them on chain.
 */
const model = testModel()
const tokenizer = tokenizerFromGguf(model.metadata)
const CONTRACT = '0x5FbDB2315678afecb367f032d93F642f64180aa3'
const PRICE = { prompt: 3n, completion: 5n }
const dir = mkdtempSync(join(tmpdir(), 'verity-payments-'))
const stops: (() => Promise<void> | void)[] = []
let devnet: Devnet
let c: PaymentsChain
let gatewayWallet: Wallet
let minerWallet: Wallet
let otherMiner: Wallet
let stranger: Wallet
let gatewayPeer: Peer
let minerPeer: Peer
let store: NodeStore
let service: MinerService
let receiver: PaymentReceiver
let client: Libp2pMinerClient
let sender: PaymentSender
let seed = 1

function request(): InferenceRequest {
  return {
    modelRoot: rootHex(model.modelRoot),
    promptTokens: tokenizer.encode('The quick brown fox'),
    maxTokens: 3 + (seed % 4),
    params: samplingParams({ temperature: 0.9, topP: 0.95 }),
    seed: seed++,
    stopTokens: [],
    stop: [],
    price: { promptWei: String(PRICE.prompt), completionWei: String(PRICE.completion) },
  }
}

/** What an answer costs, from its request and receipt'd tokens (not from the gateway's counters). */
const costOf = (r: InferenceRequest, tokens: readonly number[]) =>
  BigInt(r.promptTokens.length) * BigInt(r.price!.promptWei) +
  BigInt(tokens.length) * BigInt(r.price!.completionWei)

async function serve() {
  const r = request()
  const done = await collect(client, r)
  return {
    request: r,
    tokens: done.tokens,
    receipt: done.receipt,
    digest: receiptDigest(done.receipt),
    cost: costOf(r, done.tokens),
  }
}

const minerRef = () => ({
  hotkey: minerWallet.account.address,
  peerId: minerPeer.peerId.toString(),
})

beforeAll(async () => {
  devnet = await startDevnet({ accounts: 6 })
  const w = devnet.walletClients
  ;[gatewayWallet, minerWallet, otherMiner, stranger] = [w[1]!, w[2]!, w[3]!, w[4]!]
  c = await setupPayments(devnet, {
    funder: w[0]!,
    actors: [gatewayWallet, stranger],
    disputeGame: NO_DISPUTE_GAME,
  })
  gatewayPeer = await createPeer()
  minerPeer = await createPeer()
  stops.push(() => gatewayPeer.stop())
  store = new NodeStore(join(dir, 'miner'))
  const chain = (wallet: Wallet) => ({
    chainId: devnet.chain.id,
    publicClient: devnet.publicClient,
    walletClient: wallet,
  })
  receiver = new PaymentReceiver({
    peer: minerPeer,
    store,
    chain: chain(minerWallet),
    payments: c.payments,
    settleAbove: 10n ** 30n,
    pollMs: 200,
    deadlineMarginBlocks: 3n,
  })
  service = new MinerService(minerPeer, {
    hotkey: minerWallet.account,
    model,
    tokenizer,
    chainId: devnet.chain.id,
    netuid: 1,
    verifyingContract: CONTRACT,
    blockNumber: () => 100,
    store,
    price: PRICE,
    payee: receiver,
    creditLimit: 3,
  })
  await service.start()
  await receiver.start()
  stops.push(async () => {
    await receiver.stop()
    await service.stop()
    await minerPeer.stop()
    store.close()
  })
  await gatewayPeer.peerStore.merge(minerPeer.peerId, { multiaddrs: minerPeer.getMultiaddrs() })
  client = new Libp2pMinerClient({
    peer: gatewayPeer,
    hotkey: minerWallet.account.address,
    peerId: minerPeer.peerId.toString(),
    caller: gatewayWallet.account,
  })
  sender = new PaymentSender({
    peer: gatewayPeer,
    chain: chain(gatewayWallet),
    payments: c.payments,
    token: devnet.addresses.token,
    deposit: 2000n,
    topUpBelow: 500n,
  })
}, 120_000)

afterAll(async () => {
  for (const stop of stops.reverse()) await Promise.resolve(stop()).catch(() => {})
  await devnet?.stop()
  rmSync(dir, { recursive: true, force: true })
})

const refusal = (p: Promise<unknown>) =>
  p.then(
    () => 'accepted',
    (e: unknown) => (e as Error).message,
  )

describe('vouchers per answer', () => {
  let channelId: Hex

  it('pays concurrent answers exactly; the miner settles Σ tokens x price on chain', async () => {
    const start = await c.balance(minerWallet)
    const answers = await Promise.all(Array.from({ length: 4 }, serve))
    const held = await Promise.all(answers.map((a) => sender.pay(minerRef(), a)))
    const total = answers.reduce((s, a) => s + a.cost, 0n)
    expect(held.sort((a, b) => (a < b ? -1 : 1)).at(-1)).toBe(total)
    channelId = (await sender.channelOf(minerWallet.account.address))!
    expect(receiver.book.latest(channelId)?.cumulativeAmount).toBe(total)
    expect(receiver.owed(gatewayWallet.account.address)).toBe(0)
    // the latest voucher and the answers paid outlive a restart (SQLite)
    const row = store.db.prepare('SELECT count(*) AS n FROM paid_answers').get() as { n: number }
    expect(row.n).toBe(4)
    expect(await receiver.settle(channelId)).toBe(total)
    expect((await c.balance(minerWallet)) - start).toBe(total)
    expect((await c.channel(channelId)).paid).toBe(total)
  })

  it('refuses replayed, unserved, mispriced, forged and other-channel vouchers by name', async () => {
    const a = await serve()
    const held = receiver.book.latest(channelId)!.cumulativeAmount
    const voucher = (
      amount: bigint,
      digest: Hex = a.digest,
      payer: Wallet = gatewayWallet,
      id = channelId,
    ) => c.voucher(payer, id, amount, digest)
    const give = async (v: Awaited<ReturnType<typeof voucher>>) =>
      refusal(receiver.receive(voucherToJson(v)))
    expect(await give(await voucher(held + a.cost - 1n))).toMatch(/adds .* the answer costs/)
    expect(await give(await voucher(held + a.cost + 1n))).toMatch(/adds .* the answer costs/)
    expect(await give(await voucher(held + a.cost, toHex(7n, { size: 32 })))).toMatch(
      /never served/,
    )
    expect(await give(await voucher(held + a.cost, a.digest, stranger))).toMatch(
      /not by the channel's payer/,
    )
    expect(
      await give(await voucher(held + a.cost, a.digest, gatewayWallet, toHex(9n, { size: 32 }))),
    ).toMatch(/unknown on chain/)
    // a channel that pays another miner
    const { channelId: elsewhere } = await openChannel(gatewayWallet, {
      address: c.payments,
      miner: otherMiner.account.address,
      deposit: 100n,
      expiry: (await c.block()) + 1000n,
    })
    expect(await give(await voucher(held + a.cost, a.digest, gatewayWallet, elsewhere))).toMatch(
      /pays another miner/,
    )
    // a channel of another payer, for this answer (served to the gateway, not to it)
    const { channelId: theirs } = await openChannel(stranger, {
      address: c.payments,
      miner: minerWallet.account.address,
      deposit: 10_000n,
      expiry: (await c.block()) + 1000n,
    })
    expect(await give(await voucher(a.cost, a.digest, stranger, theirs))).toMatch(/served to/)
    // the same answer on two channels of its payer at once: paid on one at most
    const { channelId: second } = await openChannel(gatewayWallet, {
      address: c.payments,
      miner: minerWallet.account.address,
      deposit: 10_000n,
      expiry: (await c.block()) + 1000n,
    })
    const twice = await Promise.all([
      give(await voucher(held + a.cost)),
      give(await voucher(a.cost, a.digest, gatewayWallet, second)),
    ])
    expect(twice.filter((r) => r === 'accepted')).toHaveLength(1)
    expect(twice.find((r) => r !== 'accepted')).toMatch(/already paid/)
    const paidOn = receiver.book.latest(channelId)?.receiptDigest === a.digest ? channelId : second
    // malformed over the wire: a clear error frame, the miner keeps serving
    const wire = await sendVoucher(gatewayPeer, minerPeer.peerId.toString(), {
      ...(await voucher(held + a.cost)),
      signature: '0x1234',
    })
    expect(wire).toMatchObject({ type: 'error', message: expect.stringMatching(/signature/) })
    // the one that was taken, handed in again (a replay): refused, over the wire too
    const right = receiver.book.latest(paidOn)!
    expect(await give(right)).toMatch(/replayed voucher: .* already paid/)
    expect(await sendVoucher(gatewayPeer, minerPeer.peerId.toString(), right)).toMatchObject({
      type: 'error',
      message: expect.stringMatching(/already paid/),
    })
    expect(receiver.book.latest(paidOn)!.cumulativeAmount).toBe(
      paidOn === channelId ? held + a.cost : a.cost,
    )
  })

  it('out-of-order vouchers of interleaved answers: each pays only its own increment', async () => {
    const [x, y] = await Promise.all([serve(), serve()])
    const held = receiver.book.latest(channelId)!.cumulativeAmount
    // y's voucher signed on top of x's arrives first: its increment is x + y, refused
    const vy = await c.voucher(gatewayWallet, channelId, held + x!.cost + y!.cost, y!.digest)
    expect(await refusal(receiver.receive(voucherToJson(vy)))).toMatch(/adds .* the answer costs/)
    const vx = await c.voucher(gatewayWallet, channelId, held + x!.cost, x!.digest)
    // both at once: one lock per channel, so exactly one order is applied consistently
    const [rx, ry] = await Promise.all([
      refusal(receiver.receive(voucherToJson(vx))),
      refusal(receiver.receive(voucherToJson(vy))),
    ])
    expect([rx, ry]).toEqual(['accepted', 'accepted'])
    expect(receiver.book.latest(channelId)!.cumulativeAmount).toBe(held + x!.cost + y!.cost)
  })

  it('a gateway out of step with the miner (vouchers it did not sign here) signs the answer again on top of what the miner holds', async () => {
    // the vouchers the tests above handed in directly were not counted by the sender
    const held = receiver.book.latest(channelId)!.cumulativeAmount
    const a = await serve()
    expect(await sender.pay(minerRef(), a)).toBe(held + a.cost)
    expect(receiver.book.latest(channelId)!.cumulativeAmount).toBe(held + a.cost)
  })

  it('a caller over its credit limit of unpaid answers is refused until it pays', async () => {
    const owed = [await serve(), await serve(), await serve()]
    expect(receiver.owed(gatewayWallet.account.address)).toBe(3)
    const error = await collect(client, request()).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(RemoteError)
    expect(error).toMatchObject({ code: 'unpaid' })
    for (const a of owed) await sender.pay(minerRef(), a)
    expect(receiver.owed(gatewayWallet.account.address)).toBe(0)
    await serve()
  })

  it('tops up a channel running low, lazily and once', async () => {
    const before = (await c.channel(channelId)).deposit
    // 2000 deposited, 500 the floor: a few answers more push it below
    let n = 0
    while ((await c.channel(channelId)).deposit === before && n++ < 40)
      await sender.pay(minerRef(), await serve())
    expect((await c.channel(channelId)).deposit).toBe(before + 2000n)
    expect(await sender.channelOf(minerWallet.account.address)).toBe(channelId)
  })

  it('a voucher whose delivery failed is sent again before the next one; the miner is paid for both', async () => {
    const held = receiver.book.latest(channelId)!.cumulativeAmount
    const owed = receiver.owed(gatewayWallet.account.address)
    const a = await serve()
    // the miner stops taking vouchers (it settles what it holds on stop)
    await receiver.stop()
    await expect(sender.pay(minerRef(), a)).rejects.toThrow()
    await receiver.start()
    const b = await serve()
    expect(await sender.pay(minerRef(), b)).toBe(held + a.cost + b.cost)
    expect(receiver.book.latest(channelId)!.receiptDigest).toBe(b.digest)
    expect(receiver.owed(gatewayWallet.account.address)).toBe(owed)
  })

  it('a stream that opens with anything but a voucher frame gets a clear error frame', async () => {
    const stream = await gatewayPeer.dialProtocol(minerPeer.peerId, VOUCHER_PROTOCOL)
    await writeFrame(stream, { type: 'token', index: 0, token: 1 })
    const reply = (await readFrames(stream).next()).value
    expect(reply).toMatchObject({ type: 'error', message: expect.stringMatching(/voucher frame/) })
    await stream.close().catch(() => {})
    const free = await sendVoucher(gatewayPeer, minerPeer.peerId.toString(), {
      ...(await c.voucher(gatewayWallet, channelId, 10n ** 40n)),
    })
    expect(free).toMatchObject({ type: 'error' })
  })

  it('the gateway starts closing the channel: the miner settles what it holds before the close ends', async () => {
    await sender.pay(minerRef(), await serve())
    const held = receiver.book.latest(channelId)!.cumulativeAmount
    expect(receiver.book.unsettled(channelId)).toBeGreaterThan(0n)
    await startCloseChannel(gatewayWallet, { address: c.payments, channelId })
    await vi.waitFor(async () => expect((await c.channel(channelId)).paid).toBe(held), {
      timeout: 15_000,
      interval: 200,
    })
    expect((await c.channel(channelId)).state).toBe(2) // still closing: settled within the window
  })

  it('a restarted miner keeps its vouchers and the answers paid (SQLite): a replay is still refused', async () => {
    const held = receiver.book.latest(channelId)!
    const peer = await createPeer()
    const again = new PaymentReceiver({
      peer,
      store,
      chain: {
        chainId: devnet.chain.id,
        publicClient: devnet.publicClient,
        walletClient: minerWallet,
      },
      payments: c.payments,
      pollMs: 60_000,
    })
    await again.start()
    try {
      expect(again.book.latest(channelId)).toEqual(held)
      expect(again.channels().map((id) => id.toLowerCase())).toContain(channelId.toLowerCase())
      expect(await refusal(again.receive(voucherToJson(held)))).toMatch(/already paid/)
    } finally {
      await again.stop()
      await peer.stop()
    }
  })
})
