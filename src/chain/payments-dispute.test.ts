import { type Hex, parseEther, toHex } from 'viem'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  type Answer,
  answer,
  type DisputeFixture,
  type GameSetup,
  makeRequest,
  startDisputeFixture,
} from '../../test/dispute-fixture.ts'
import { samplingParams } from '../runtime/sampler/sample.ts'
import { openParams } from '../verify/dispute/open.ts'
import { receiptDigest } from '../verify/receipt.ts'
import { VoucherBook } from '../verify/voucher.ts'
import { disputeGameAbi } from './abis.ts'
import { openChannel } from './actions/openChannel.ts'
import { openDispute } from './actions/openDispute.ts'
import { settleChannel } from './actions/settleChannel.ts'
import { startCloseChannel } from './actions/startCloseChannel.ts'
import {
  CHALLENGE_PERIOD,
  type PaymentsChain,
  revertArgs,
  revertName,
  setupPayments,
  type Wallet,
} from './payments-fixture.ts'

/**
 * "A receipt lost in a dispute voids its voucher", against the real dispute game (with the core's
 * stand-in, test/dispute-fixture.ts): a miner answers twice, the second receipt contradicts itself
 * and loses its dispute at open; the voucher bound to it no longer settles, the previous one
 * (bound to the honest receipt) still does, and a voucher bound to the lost receipt pays nothing
 * even when it is not the latest.
 */
let fx: DisputeFixture
let game: GameSetup
let c: PaymentsChain
let payer: Wallet
let challenger: Wallet
let miner: Wallet

beforeAll(async () => {
  fx = await startDisputeFixture({ miners: 1, challengers: 2 })
  game = fx.games[0]!
  ;[payer, challenger] = fx.challengers as [Wallet, Wallet]
  miner = fx.miners[0]!
  c = await setupPayments(fx.devnet, {
    funder: fx.owner,
    actors: [payer, miner],
    disputeGame: game.game,
  })
}, 180_000)

afterAll(async () => {
  await fx?.stop()
})

const params = samplingParams({ temperature: 0.8, topP: 0.95 })
const prompt = Array.from({ length: 12 }, (_, i) => 1 + ((i * 37) % 1700))
let seed = 900

/** An honest answer, or one whose receipt contradicts itself (a traceLeaves it cannot have). */
async function serve(
  lying: boolean,
): Promise<{ a: Answer; digest: Hex; req: ReturnType<typeof makeRequest> }> {
  const req = makeRequest(fx.model, prompt, params, seed++, 3)
  let a = await answer(fx, game, miner, req)
  if (lying)
    a = await answer(fx, game, miner, req, { receipt: { traceLeaves: a.receipt.traceLeaves + 1 } })
  return { a, req, digest: receiptDigest(a.receipt) }
}

async function lose(a: Answer, req: ReturnType<typeof makeRequest>) {
  const { decided, id } = await openDispute(challenger, {
    address: game.game,
    open: openParams({
      receipt: a.receipt,
      request: req,
      tokens: a.tokens,
      model: fx.model,
      claimedRoot: toHex(new Uint8Array(32).fill(1)),
    }),
  })
  expect(decided).toBe(true)
  return id
}

describe('a receipt lost in a dispute voids its voucher', () => {
  it('the latest voucher is void; the miner settles the previous one bound to another receipt', async () => {
    const expiry = (await c.block()) + 1000n
    const { channelId } = await openChannel(payer, {
      address: c.payments,
      miner: miner.account.address,
      deposit: parseEther('10'),
      expiry,
    })
    const book = new VoucherBook(c.domain)
    book.track({ channelId, payer: payer.account.address, deposit: parseEther('10'), paid: 0n })
    const honest = await serve(false)
    const lie = await serve(true)
    // the game names receipts by the same digest the client computes
    expect(
      await fx.devnet.publicClient.readContract({
        address: game.game,
        abi: disputeGameAbi,
        functionName: 'receiptDigest',
        args: [
          openParams({
            receipt: lie.a.receipt,
            request: lie.req,
            tokens: lie.a.tokens,
            model: fx.model,
            claimedRoot: toHex(new Uint8Array(32).fill(1)),
          }).receipt,
        ],
      }),
    ).toBe(lie.digest)
    await book.accept(await c.voucher(payer, channelId, parseEther('2'), honest.digest), {
      receiptDigest: honest.digest,
    })
    await book.accept(await c.voucher(payer, channelId, parseEther('3'), lie.digest), {
      receiptDigest: lie.digest,
    })
    const disputeId = await lose(lie.a, lie.req)
    expect(
      await fx.devnet.publicClient.readContract({
        address: game.game,
        abi: disputeGameAbi,
        functionName: 'slashedBy',
        args: [lie.digest],
      }),
    ).toBe(disputeId)

    const latest = book.latest(channelId)!
    expect(latest.receiptDigest).toBe(lie.digest)
    expect(await revertArgs(settleChannel(miner, { address: c.payments, ...latest }))).toEqual([
      channelId,
      lie.digest,
      disputeId,
    ])
    expect((await c.channel(channelId)).paid).toBe(0n)
    // the fallback the book kept: bound to the honest receipt, it pays the 2 promised before
    const fallback = book.fallback(channelId)!
    expect(fallback.receiptDigest).toBe(honest.digest)
    const before = await c.balance(miner)
    await settleChannel(miner, { address: c.payments, ...fallback })
    expect((await c.balance(miner)) - before).toBe(parseEther('2'))
  })

  it('voids by the receipt, not by position: an older voucher bound to a lost receipt pays nothing, a later honest one pays all', async () => {
    const { channelId } = await openChannel(payer, {
      address: c.payments,
      miner: miner.account.address,
      deposit: parseEther('10'),
      expiry: (await c.block()) + 1000n,
    })
    const lie = await serve(true)
    const honest = await serve(false)
    await lose(lie.a, lie.req)
    const voided = await c.voucher(payer, channelId, parseEther('1'), lie.digest)
    const later = await c.voucher(payer, channelId, parseEther('4'), honest.digest)
    expect(await revertName(settleChannel(miner, { address: c.payments, ...voided }))).toBe(
      'VoucherVoided',
    )
    // the cumulative voucher bound to the honest receipt covers the earlier answer too
    await settleChannel(miner, { address: c.payments, ...later })
    expect((await c.channel(channelId)).paid).toBe(parseEther('4'))
    // a voided voucher stays void during a close's challenge period as well
    await startCloseChannel(payer, { address: c.payments, channelId })
    const higherLie = await c.voucher(payer, channelId, parseEther('6'), lie.digest)
    expect(await revertName(settleChannel(miner, { address: c.payments, ...higherLie }))).toBe(
      'VoucherVoided',
    )
    await c.mine(CHALLENGE_PERIOD)
    expect((await c.channel(channelId)).paid).toBe(parseEther('4'))
  })
})
