import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { toHex } from 'viem'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  answer,
  type DisputeFixture,
  type GameSetup,
  makeRequest,
  startDisputeFixture,
} from '../../test/dispute-fixture.ts'
import { openChannel } from '../chain/actions/openChannel.ts'
import { openDispute } from '../chain/actions/openDispute.ts'
import { type PaymentsChain, setupPayments, type Wallet } from '../chain/payments-fixture.ts'
import { samplingParams } from '../runtime/sampler/sample.ts'
import type { InferenceRequest } from '../types/inference.ts'
import { openParams } from '../verify/dispute/open.ts'
import { receiptDigest } from '../verify/receipt.ts'
import { PaymentReceiver, voucherToJson } from './payee.ts'
import { createPeer, type Peer } from './peer.ts'
import { NodeStore } from './store.ts'

/**
 * "A receipt lost in a dispute voids its voucher", from the miner's PaymentReceiver against the
 * real dispute game (test/dispute-fixture.ts): the latest voucher it holds pays an answer whose
 * receipt lost its dispute; settling reverts VoucherVoided and the receiver settles the voucher
 * before it (bound to the honest answer) instead.
 */
let fx: DisputeFixture
let game: GameSetup
let c: PaymentsChain
let payer: Wallet
let challenger: Wallet
let miner: Wallet
let peer: Peer
let store: NodeStore
let receiver: PaymentReceiver
const dir = mkdtempSync(join(tmpdir(), 'verity-payee-dispute-'))

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
  peer = await createPeer()
  store = new NodeStore(dir)
  receiver = new PaymentReceiver({
    peer,
    store,
    chain: {
      chainId: fx.devnet.chain.id,
      publicClient: fx.devnet.publicClient,
      walletClient: miner,
    },
    payments: c.payments,
    settleAbove: 10n ** 30n,
    pollMs: 60_000,
  })
  await receiver.start()
}, 180_000)

afterAll(async () => {
  await receiver?.stop().catch(() => {})
  await peer?.stop()
  store?.close()
  await fx?.stop()
  rmSync(dir, { recursive: true, force: true })
})

const params = samplingParams({ temperature: 0.8, topP: 0.95 })
const prompt = Array.from({ length: 12 }, (_, i) => 1 + ((i * 37) % 1700))
let seed = 700

/** A priced answer the miner served to the payer (honest, or a receipt that contradicts itself). */
async function serve(lying: boolean) {
  const req: InferenceRequest = {
    ...makeRequest(fx.model, prompt, params, seed++, 3),
    price: { promptWei: '1000', completionWei: '3000' },
  }
  let a = await answer(fx, game, miner, req)
  if (lying)
    a = await answer(fx, game, miner, req, { receipt: { traceLeaves: a.receipt.traceLeaves + 1 } })
  store.putReceipt({
    request: req,
    receipt: a.receipt,
    tokens: a.tokens,
    caller: payer.account.address,
  })
  const cost = BigInt(prompt.length) * 1000n + BigInt(a.tokens.length) * 3000n
  return { a, req, cost, digest: receiptDigest(a.receipt) }
}

describe('PaymentReceiver and the dispute game', () => {
  it('settles the voucher before the one whose receipt lost a dispute', async () => {
    const { channelId } = await openChannel(payer, {
      address: c.payments,
      miner: miner.account.address,
      deposit: 10n ** 18n,
      expiry: (await c.block()) + 1000n,
    })
    const honest = await serve(false)
    const lie = await serve(true)
    await receiver.receive(
      voucherToJson(await c.voucher(payer, channelId, honest.cost, honest.digest)),
    )
    await receiver.receive(
      voucherToJson(await c.voucher(payer, channelId, honest.cost + lie.cost, lie.digest)),
    )
    const { decided } = await openDispute(challenger, {
      address: game.game,
      open: openParams({
        receipt: lie.a.receipt,
        request: lie.req,
        tokens: lie.a.tokens,
        model: fx.model,
        claimedRoot: toHex(new Uint8Array(32).fill(1)),
      }),
    })
    expect(decided).toBe(true)
    const before = await c.balance(miner)
    expect(await receiver.settle(channelId)).toBe(honest.cost)
    expect((await c.balance(miner)) - before).toBe(honest.cost)
    expect((await c.channel(channelId)).paid).toBe(honest.cost)
    expect(receiver.settles).toBe(2) // the void one, then the one before
  })
})
