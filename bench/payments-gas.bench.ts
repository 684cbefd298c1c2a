/**
 * Gas of the payment channels' operations on an anvil devnet (contracts/src/payments), with the
 * real dispute game as the voiding oracle (test/dispute-fixture.ts: the game against the core's
 * stand-in). Every figure is one transaction's gasUsed.
 *
 *   npm run bench:payments-gas            a table
 *   npm run bench:payments-gas -- --json  one JSON line
 *
 * "first" figures write slots from zero (the payer's first nonce, a channel's first `paid`); later
 * ones update slots that already hold a value, the steady state.
 */
import { parseEther, toHex } from 'viem'
import { finishCloseChannel } from '../src/chain/actions/finishCloseChannel.ts'
import { openChannel } from '../src/chain/actions/openChannel.ts'
import { reclaimChannel } from '../src/chain/actions/reclaimChannel.ts'
import { settleChannel } from '../src/chain/actions/settleChannel.ts'
import { startCloseChannel } from '../src/chain/actions/startCloseChannel.ts'
import { topUpChannel } from '../src/chain/actions/topUpChannel.ts'
import { NO_DISPUTE_GAME } from '../src/chain/payments.ts'
import {
  CHALLENGE_PERIOD,
  SETTLE_GRACE,
  setupPayments,
  type Wallet,
} from '../src/chain/payments-fixture.ts'
import { startDisputeFixture } from '../test/dispute-fixture.ts'

const json = process.argv.includes('--json')
const fx = await startDisputeFixture({ miners: 1, challengers: 1 })
try {
  const [payer] = fx.challengers as [Wallet]
  const [miner] = fx.miners as [Wallet]
  const c = await setupPayments(fx.devnet, {
    funder: fx.owner,
    actors: [payer, miner],
    disputeGame: fx.games[0]!.game,
  })
  const bare = await setupPayments(fx.devnet, {
    funder: fx.owner,
    actors: [payer],
    disputeGame: NO_DISPUTE_GAME,
  })
  const gas = (r: { receipt: { gasUsed: bigint } }) => Number(r.receipt.gasUsed)
  const out: Record<string, number> = {}
  const open = async (at = c, to = miner) => {
    const r = await openChannel(payer, {
      address: at.payments,
      miner: to.account.address,
      deposit: parseEther('100'),
      expiry: (await at.block()) + 10_000n,
    })
    return { r, channelId: r.channelId }
  }
  const settle = async (channelId: `0x${string}`, amount: bigint, at = c, to = miner) =>
    gas(
      await settleChannel(to, {
        address: at.payments,
        ...(await at.voucher(payer, channelId, amount, toHex(amount, { size: 32 }))),
      }),
    )

  const a = await open()
  out.openFirst = gas(a.r)
  const b = await open()
  out.open = gas(b.r)
  out.topUp = gas(
    await topUpChannel(payer, {
      address: c.payments,
      channelId: b.channelId,
      amount: parseEther('1'),
      expiry: (await c.block()) + 20_000n,
    }),
  )
  out.settleFirst = await settle(a.channelId, 1n)
  out.settle = await settle(a.channelId, 2n)
  out.settleOverDeposit = await settle(a.channelId, parseEther('1000'))
  // the slashedBy read: the same steady settle on a deployment without a dispute game
  const bareCh = await open(bare)
  await settle(bareCh.channelId, 1n, bare)
  out.settleNoDisputeGame = await settle(bareCh.channelId, 2n, bare)
  out.startClose = gas(
    await startCloseChannel(payer, { address: c.payments, channelId: b.channelId }),
  )
  out.settleFirstWhileClosing = await settle(b.channelId, 5n)
  await c.mine(CHALLENGE_PERIOD)
  out.finishClose = gas(
    await finishCloseChannel(payer, { address: c.payments, channelId: b.channelId }),
  )
  const e = await openChannel(payer, {
    address: c.payments,
    miner: miner.account.address,
    deposit: parseEther('100'),
    expiry: (await c.block()) + 2n,
  })
  await settle(e.channelId, 3n)
  await c.mine(2n + SETTLE_GRACE + 1n)
  out.reclaim = gas(await reclaimChannel(payer, { address: c.payments, channelId: e.channelId }))

  if (json) console.log(JSON.stringify(out))
  else for (const [k, v] of Object.entries(out)) console.log(k.padEnd(28), v)
} finally {
  await fx.stop()
}
