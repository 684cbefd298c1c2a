import {
  type Address,
  encodeFunctionData,
  type Hex,
  parseEther,
  toFunctionSelector,
  toHex,
} from 'viem'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { signVoucher } from '../verify/voucher.ts'
import { paymentChannelsAbi, reentrantTokenAbi, reentrantTokenBytecode } from './abis.ts'
import { finishCloseChannel } from './actions/finishCloseChannel.ts'
import { getChannel } from './actions/getChannel.ts'
import { openChannel } from './actions/openChannel.ts'
import { reclaimChannel } from './actions/reclaimChannel.ts'
import { settleChannel } from './actions/settleChannel.ts'
import { startCloseChannel } from './actions/startCloseChannel.ts'
import { topUpChannel } from './actions/topUpChannel.ts'
import { type Devnet, startDevnet } from './devnet.ts'
import { waitMined } from './dispute.ts'
import { ChannelState, deployPaymentChannels, NO_DISPUTE_GAME } from './payments.ts'
import {
  CHALLENGE_PERIOD,
  type PaymentsChain,
  revertArgs,
  revertName,
  SETTLE_GRACE,
  setupPayments,
  type Wallet,
} from './payments-fixture.ts'

/**
 * PaymentChannels on a real anvil: the happy path, every double-spend and replay attempt, stale
 * and forged vouchers, closes and expiry racing the miner's settle (also within one block), and
 * every refusal naming its custom error and leaving the channel and balances as they were; a
 * token calling back mid-transfer is refused by the guard.
 * The voiding of vouchers by a lost dispute is in payments-dispute.test.ts.
 */
let devnet: Devnet
let c: PaymentsChain
let owner: Wallet
let payer: Wallet
let miner: Wallet
let stranger: Wallet
let payer2: Wallet
let snapshot: Hex

const DEPOSIT = parseEther('10')

beforeAll(async () => {
  devnet = await startDevnet({ accounts: 5 })
  ;[owner, payer, miner, stranger, payer2] = devnet.walletClients as [
    Wallet,
    Wallet,
    Wallet,
    Wallet,
    Wallet,
  ]
  c = await setupPayments(devnet, {
    funder: owner,
    actors: [payer, miner, stranger, payer2],
    disputeGame: NO_DISPUTE_GAME,
  })
  snapshot = await c.rpc<Hex>('evm_snapshot')
}, 120_000)

afterAll(async () => {
  await devnet?.stop()
})

beforeEach(async () => {
  // keep the height growing across reverts (viem's receipt pollers wait for higher blocks)
  const height = await c.block()
  await c.rpc('evm_revert', [snapshot])
  await c.mine(height - (await c.block()) + 1n)
  snapshot = await c.rpc<Hex>('evm_snapshot')
})

const addr = (w: Wallet) => w.account.address

async function open(deposit = DEPOSIT, expiryIn = 1000n, from = payer, to: Address = addr(miner)) {
  const expiry = (await c.block()) + expiryIn
  const { channelId } = await openChannel(from, {
    address: c.payments,
    miner: to,
    deposit,
    expiry,
  })
  return { channelId, expiry }
}

async function settle(channelId: Hex, cumulative: bigint, from: Wallet = miner, signer = payer) {
  const v = await c.voucher(signer, channelId, cumulative)
  return await settleChannel(from, { address: c.payments, ...v, channelId })
}

/** Expects `p` to revert with `name` and to leave the channel and every balance unchanged. */
async function refused(p: () => Promise<unknown>, name: string, channelId?: Hex) {
  const state = async () =>
    JSON.stringify(
      [
        channelId ? await c.channel(channelId) : null,
        await c.balance(c.payments),
        await c.balance(payer),
        await c.balance(miner),
        await c.balance(stranger),
      ],
      (_, v) => (typeof v === 'bigint' ? v.toString() : v),
    )
  const before = await state()
  expect(await revertName(p())).toBe(name)
  expect(await state()).toBe(before)
}

describe('happy path', () => {
  it('opens, settles two cumulative vouchers, closes early and refunds the rest', async () => {
    const payerStart = await c.balance(payer)
    const minerStart = await c.balance(miner)
    const { channelId, expiry } = await open()
    // the id is the documented keccak(payer, miner, nonce)
    const expected = await devnet.publicClient.readContract({
      address: c.payments,
      abi: paymentChannelsAbi,
      functionName: 'channelIdOf',
      args: [addr(payer), addr(miner), 0n],
    })
    expect(channelId).toBe(expected)
    expect(await c.balance(c.payments)).toBe(DEPOSIT)

    await settle(channelId, parseEther('3'))
    await settle(channelId, parseEther('7'))
    expect((await c.balance(miner)) - minerStart).toBe(parseEther('7'))
    let ch = await getChannel(devnet.publicClient, { address: c.payments, channelId })
    expect(ch).toMatchObject({
      payer: addr(payer),
      miner: addr(miner),
      state: ChannelState.OPEN,
      deposit: DEPOSIT,
      paid: parseEther('7'),
      expiry,
      closesAt: 0n,
    })
    expect(ch.settleDeadline).toBe(expiry + SETTLE_GRACE)

    const { receipt } = await startCloseChannel(payer, { address: c.payments, channelId })
    ch = await getChannel(devnet.publicClient, { address: c.payments, channelId })
    expect(ch.state).toBe(ChannelState.CLOSING)
    expect(ch.closesAt).toBe(receipt.blockNumber + CHALLENGE_PERIOD)
    expect(ch.settleDeadline).toBe(ch.closesAt)
    await c.mine(CHALLENGE_PERIOD)
    await finishCloseChannel(stranger, { address: c.payments, channelId })
    expect((await c.channel(channelId)).state).toBe(ChannelState.CLOSED)
    expect(payerStart - (await c.balance(payer))).toBe(parseEther('7'))
    expect((await c.balance(miner)) - minerStart).toBe(parseEther('7'))
    expect(await c.balance(c.payments)).toBe(0n)
  })

  it('gives each channel of a payer its own id; a top-up raises the deposit and pushes the expiry', async () => {
    const a = await open()
    const b = await open()
    expect(a.channelId).not.toBe(b.channelId)
    await topUpChannel(payer, {
      address: c.payments,
      channelId: a.channelId,
      amount: parseEther('5'),
      expiry: a.expiry + 50n,
    })
    const ch = await c.channel(a.channelId)
    expect(ch.deposit).toBe(parseEther('15'))
    expect(ch.expiry).toBe(a.expiry + 50n)
    await settle(a.channelId, parseEther('14'))
    expect((await c.channel(a.channelId)).paid).toBe(parseEther('14'))
  })

  it('refuses bad opens and top-ups by name', async () => {
    const now = await c.block()
    const o = (miner_: Address, deposit: bigint, expiry: bigint) => () =>
      openChannel(payer, { address: c.payments, miner: miner_, deposit, expiry })
    await refused(o(addr(miner), 0n, now + 100n), 'ZeroAmount')
    await refused(o(addr(miner), DEPOSIT, now), 'ExpiryNotInFuture')
    await refused(o(addr(payer), DEPOSIT, now + 100n), 'SelfChannel')
    await refused(
      o('0x0000000000000000000000000000000000000000', DEPOSIT, now + 100n),
      'ZeroAddress',
    )
    // more than the payer holds: the token's own error, decoded
    await refused(o(addr(miner), parseEther('1000000'), now + 100n), 'ERC20InsufficientBalance')
    const { channelId, expiry } = await open()
    const t = (w: Wallet, amount: bigint, exp: bigint) => () =>
      topUpChannel(w, { address: c.payments, channelId, amount, expiry: exp })
    await refused(t(stranger, 1n, expiry), 'NotPayer', channelId)
    await refused(t(miner, 1n, expiry), 'NotPayer', channelId)
    await refused(t(payer, 1n, expiry - 1n), 'ExpiryShortened', channelId)
    await refused(t(payer, 0n, expiry), 'ZeroAmount', channelId)
    await refused(
      () =>
        topUpChannel(payer, {
          address: c.payments,
          channelId: toHex(1n, { size: 32 }),
          amount: 1n,
          expiry,
        }),
      'UnknownChannel',
    )
  })
})

describe('double spends and replays', () => {
  it('never pays more than the deposit: an over-deposit voucher pays the rest, then nothing', async () => {
    const { channelId } = await open()
    const start = await c.balance(miner)
    await settle(channelId, parseEther('6'))
    // a second voucher whose total (12) is above the deposit (10) pays only the 4 left
    await settle(channelId, parseEther('12'))
    expect((await c.balance(miner)) - start).toBe(DEPOSIT)
    expect((await c.channel(channelId)).paid).toBe(DEPOSIT)
    await refused(() => settle(channelId, parseEther('15')), 'DepositExhausted', channelId)
    // and the payer gets nothing back: the miner was paid the whole deposit
    await startCloseChannel(payer, { address: c.payments, channelId })
    await c.mine(CHALLENGE_PERIOD)
    const payerBefore = await c.balance(payer)
    await finishCloseChannel(payer, { address: c.payments, channelId })
    expect(await c.balance(payer)).toBe(payerBefore)
    expect(await c.balance(c.payments)).toBe(0n)
  })

  it('settles a voucher once: the same voucher again, an equal or a lower one are stale', async () => {
    const { channelId } = await open()
    const v = await c.voucher(payer, channelId, parseEther('5'))
    await settleChannel(miner, { address: c.payments, ...v })
    await refused(
      () => settleChannel(miner, { address: c.payments, ...v }),
      'StaleVoucher',
      channelId,
    )
    await refused(() => settle(channelId, parseEther('4')), 'StaleVoucher', channelId)
    await refused(() => settle(channelId, parseEther('5')), 'StaleVoucher', channelId)
    const args = await revertArgs(settle(channelId, parseEther('2')))
    expect(args).toEqual([channelId, parseEther('2'), parseEther('5')])
    expect((await c.channel(channelId)).paid).toBe(parseEther('5'))
  })

  it('a voucher for one channel pays nothing on another, another contract or another chain', async () => {
    const a = await open()
    const b = await open() // same payer, same miner: only the id differs
    const v = await c.voucher(payer, a.channelId, parseEther('3'))
    await refused(
      () => settleChannel(miner, { address: c.payments, ...v, channelId: b.channelId }),
      'VoucherNotSignedByPayer',
      b.channelId,
    )
    // the receipt digest and the amount are signed too
    await refused(
      () => settleChannel(miner, { address: c.payments, ...v, cumulativeAmount: parseEther('4') }),
      'VoucherNotSignedByPayer',
      a.channelId,
    )
    await refused(
      () =>
        settleChannel(miner, { address: c.payments, ...v, receiptDigest: toHex(9n, { size: 32 }) }),
      'VoucherNotSignedByPayer',
      a.channelId,
    )
    // a second deployment: the same channel id exists there, the voucher still does not pay
    const other = await deployPaymentChannels(devnet.publicClient, owner, {
      token: devnet.addresses.token,
      disputeGame: NO_DISPUTE_GAME,
      challengePeriod: CHALLENGE_PERIOD,
      settleGrace: SETTLE_GRACE,
    })
    const forOther = await c.voucher(payer, a.channelId, parseEther('3'), undefined, {
      chainId: devnet.chain.id,
      verifyingContract: other,
    })
    const forChain = await c.voucher(payer, a.channelId, parseEther('3'), undefined, {
      chainId: devnet.chain.id + 1,
      verifyingContract: c.payments,
    })
    for (const w of [forOther, forChain])
      await refused(
        () => settleChannel(miner, { address: c.payments, ...w }),
        'VoucherNotSignedByPayer',
        a.channelId,
      )
    await settleChannel(miner, { address: c.payments, ...v })
    expect((await c.channel(a.channelId)).paid).toBe(parseEther('3'))
    expect((await c.channel(b.channelId)).paid).toBe(0n)
  })
})

describe('forged and unregistered signers', () => {
  it('refuses vouchers not signed by the payer, malformed or malleable signatures, and settles by anyone but the miner', async () => {
    const { channelId } = await open()
    // a stranger's and the miner's own signatures: the error names who signed
    const byStranger = await c.voucher(stranger, channelId, parseEther('1'))
    expect(await revertArgs(settleChannel(miner, { address: c.payments, ...byStranger }))).toEqual([
      addr(stranger),
      addr(payer),
    ])
    await refused(
      () => settle(channelId, parseEther('1'), miner, miner),
      'VoucherNotSignedByPayer',
      channelId,
    )
    // another payer's key (a real channel payer elsewhere)
    await refused(
      () => settle(channelId, parseEther('1'), miner, payer2),
      'VoucherNotSignedByPayer',
      channelId,
    )
    const good = await c.voucher(payer, channelId, parseEther('1'))
    const sig = good.signature
    const truncated = sig.slice(0, 130) as Hex
    const oversized = `${sig}00` as Hex
    // the malleable twin: s' = n - s, v flipped (recovers the same address off chain)
    const n = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n
    const s = BigInt(`0x${sig.slice(66, 130)}`)
    const v = Number.parseInt(sig.slice(130), 16)
    const twin =
      `${sig.slice(0, 66)}${toHex(n - s, { size: 32 }).slice(2)}${(v === 27 ? 28 : 27).toString(16)}` as Hex
    for (const signature of [truncated, oversized, twin, '0x' as Hex])
      await refused(
        () => settleChannel(miner, { address: c.payments, ...good, signature }),
        'VoucherNotSignedByPayer',
        channelId,
      )
    // the payer's own voucher, submitted by anyone but the miner
    for (const w of [stranger, payer])
      await refused(() => settleChannel(w, { address: c.payments, ...good }), 'NotMiner', channelId)
    await refused(
      () =>
        settleChannel(miner, { address: c.payments, ...good, channelId: toHex(7n, { size: 32 }) }),
      'UnknownChannel',
    )
    await settleChannel(miner, { address: c.payments, ...good })
    expect((await c.channel(channelId)).paid).toBe(parseEther('1'))
  })
})

describe('closing', () => {
  it('an early close by the payer: the miner still settles its voucher within the challenge period', async () => {
    const { channelId } = await open()
    const held = await c.voucher(payer, channelId, parseEther('4'))
    await refused(
      () => startCloseChannel(stranger, { address: c.payments, channelId }),
      'NotParty',
      channelId,
    )
    const { receipt } = await startCloseChannel(payer, { address: c.payments, channelId })
    const closesAt = receipt.blockNumber + CHALLENGE_PERIOD
    await refused(
      () => startCloseChannel(payer, { address: c.payments, channelId }),
      'ChannelNotOpen',
      channelId,
    )
    await refused(
      async () =>
        topUpChannel(payer, {
          address: c.payments,
          channelId,
          amount: 1n,
          expiry: (await c.channel(channelId)).expiry,
        }),
      'ChannelNotOpen',
      channelId,
    )
    // the payer cannot take the deposit back while the miner may still settle
    await refused(
      () => finishCloseChannel(payer, { address: c.payments, channelId }),
      'SettleWindowOpen',
      channelId,
    )
    await refused(
      () => reclaimChannel(payer, { address: c.payments, channelId }),
      'SettleWindowOpen',
      channelId,
    )
    // the miner settles in the last block of the period (the next block is closesAt)
    await c.mine(closesAt - (await c.block()) - 1n)
    const minerBefore = await c.balance(miner)
    const settled = await settleChannel(miner, { address: c.payments, ...held })
    expect(settled.receipt.blockNumber).toBe(closesAt)
    expect((await c.balance(miner)) - minerBefore).toBe(parseEther('4'))
    // one block late: refused, and it names the deadline
    expect(await revertArgs(settle(channelId, parseEther('5')))).toEqual([channelId, closesAt])
    const payerBefore = await c.balance(payer)
    await finishCloseChannel(payer, { address: c.payments, channelId })
    expect((await c.balance(payer)) - payerBefore).toBe(parseEther('6'))
    await refused(
      () => finishCloseChannel(payer, { address: c.payments, channelId }),
      'ChannelNotOpen',
      channelId,
    )
    await refused(() => settle(channelId, parseEther('5')), 'ChannelNotOpen', channelId)
    await refused(
      () => reclaimChannel(payer, { address: c.payments, channelId }),
      'ChannelNotOpen',
      channelId,
    )
  })

  it('the miner may start the close itself; finishClose before any close starts is refused', async () => {
    const { channelId } = await open()
    await refused(
      () => finishCloseChannel(payer, { address: c.payments, channelId }),
      'ChannelNotOpen',
      channelId,
    )
    await settle(channelId, parseEther('2'))
    await startCloseChannel(miner, { address: c.payments, channelId })
    await c.mine(CHALLENGE_PERIOD)
    await finishCloseChannel(miner, { address: c.payments, channelId })
    expect(await c.balance(c.payments)).toBe(0n)
  })
})

describe('expiry', () => {
  it('after expiry the miner keeps the grace to settle; then the payer reclaims the rest', async () => {
    const { channelId, expiry } = await open(DEPOSIT, 5n)
    await c.mine(expiry - (await c.block()) + 1n)
    // past expiry, within the grace: the miner is paid
    await settle(channelId, parseEther('2'))
    await refused(
      () => reclaimChannel(payer, { address: c.payments, channelId }),
      'SettleWindowOpen',
      channelId,
    )
    // the grace's last block: still settles
    await c.mine(expiry + SETTLE_GRACE - (await c.block()) - 1n)
    const last = await settle(channelId, parseEther('3'))
    expect(last.receipt.blockNumber).toBe(expiry + SETTLE_GRACE)
    await refused(() => settle(channelId, parseEther('4')), 'SettleWindowClosed', channelId)
    const payerBefore = await c.balance(payer)
    await reclaimChannel(stranger, { address: c.payments, channelId })
    expect((await c.balance(payer)) - payerBefore).toBe(parseEther('7'))
    expect((await c.channel(channelId)).state).toBe(ChannelState.CLOSED)
    await refused(
      () => reclaimChannel(payer, { address: c.payments, channelId }),
      'ChannelNotOpen',
      channelId,
    )
  })

  it('a close started near expiry ends no later than the grace; a top-up keeps an expired channel alive', async () => {
    const { channelId, expiry } = await open(DEPOSIT, 5n)
    await c.mine(expiry - (await c.block()) + SETTLE_GRACE - 5n)
    await startCloseChannel(payer, { address: c.payments, channelId })
    const ch = await getChannel(devnet.publicClient, { address: c.payments, channelId })
    expect(ch.closesAt).toBeGreaterThan(expiry + SETTLE_GRACE)
    expect(ch.settleDeadline).toBe(expiry + SETTLE_GRACE)
    await c.mine(expiry + SETTLE_GRACE - (await c.block()))
    // past the grace: reclaim works even though the close's period runs on
    await reclaimChannel(payer, { address: c.payments, channelId })
    expect(await c.balance(c.payments)).toBe(0n)

    const b = await open(DEPOSIT, 5n)
    await c.mine(b.expiry - (await c.block()) + SETTLE_GRACE)
    const later = (await c.block()) + 100n
    await topUpChannel(payer, {
      address: c.payments,
      channelId: b.channelId,
      amount: 0n,
      expiry: later,
    })
    await refused(
      () => reclaimChannel(payer, { address: c.payments, channelId: b.channelId }),
      'SettleWindowOpen',
      b.channelId,
    )
    await settle(b.channelId, parseEther('1'))
  })
})

describe('in one block', () => {
  /** Sends without estimating (estimation runs on the last block, not the pending one). */
  async function sendRaw(w: Wallet, functionName: string, args: readonly unknown[]) {
    return await w.writeContract({
      address: c.payments,
      abi: paymentChannelsAbi,
      functionName,
      args,
      gas: 400_000n,
    } as Parameters<Wallet['writeContract']>[0])
  }
  async function inOneBlock(send: () => Promise<Hex[]>) {
    await c.rpc('evm_setAutomine', [false])
    let hashes: Hex[]
    try {
      hashes = await send()
      await c.rpc('evm_mine')
    } finally {
      await c.rpc('evm_setAutomine', [true])
    }
    const receipts = await Promise.all(hashes.map((h) => waitMined(devnet.publicClient, h)))
    expect(new Set(receipts.map((r) => r.blockNumber)).size).toBe(1)
    return receipts.map((r) => r.status)
  }

  it('settles and closes interleaved: the miner settles in the close-end block, finishClose fails there and wins the next', async () => {
    const { channelId } = await open()
    const { receipt } = await startCloseChannel(payer, { address: c.payments, channelId })
    const closesAt = receipt.blockNumber + CHALLENGE_PERIOD
    await c.mine(closesAt - (await c.block()) - 1n)
    const v1 = await c.voucher(payer, channelId, parseEther('3'))
    const v2 = await c.voucher(payer, channelId, parseEther('5'))
    // block closesAt: the payer's finishClose first, then two settles, then a replay of v1
    const statuses = await inOneBlock(async () => [
      await sendRaw(payer, 'finishClose', [channelId]),
      await sendRaw(miner, 'settle', [
        channelId,
        v1.cumulativeAmount,
        v1.receiptDigest,
        v1.signature,
      ]),
      await sendRaw(miner, 'settle', [
        channelId,
        v2.cumulativeAmount,
        v2.receiptDigest,
        v2.signature,
      ]),
      await sendRaw(miner, 'settle', [
        channelId,
        v1.cumulativeAmount,
        v1.receiptDigest,
        v1.signature,
      ]),
    ])
    expect(statuses).toEqual(['reverted', 'success', 'success', 'reverted'])
    expect((await c.channel(channelId)).paid).toBe(parseEther('5'))
    // the next block: a later voucher and finishClose together, settle first: only the close holds
    const v3 = await c.voucher(payer, channelId, parseEther('8'))
    const payerBefore = await c.balance(payer)
    const next = await inOneBlock(async () => [
      await sendRaw(miner, 'settle', [
        channelId,
        v3.cumulativeAmount,
        v3.receiptDigest,
        v3.signature,
      ]),
      await sendRaw(stranger, 'finishClose', [channelId]),
    ])
    expect(next).toEqual(['reverted', 'success'])
    expect((await c.balance(payer)) - payerBefore).toBe(parseEther('5'))
    expect(await c.balance(c.payments)).toBe(0n)
  })

  it('a startClose and a settle in the same block; two channels of one payer settled together never pay more than their deposits', async () => {
    const a = await open(parseEther('4'))
    const b = await open(parseEther('4'))
    const va = await c.voucher(payer, a.channelId, parseEther('9'))
    const vb = await c.voucher(payer, b.channelId, parseEther('3'))
    const minerBefore = await c.balance(miner)
    const statuses = await inOneBlock(async () => [
      await sendRaw(payer, 'startClose', [a.channelId]),
      await sendRaw(miner, 'settle', [
        a.channelId,
        va.cumulativeAmount,
        va.receiptDigest,
        va.signature,
      ]),
      await sendRaw(miner, 'settle', [
        b.channelId,
        vb.cumulativeAmount,
        vb.receiptDigest,
        vb.signature,
      ]),
      await sendRaw(miner, 'settle', [
        b.channelId,
        va.cumulativeAmount,
        va.receiptDigest,
        va.signature,
      ]),
    ])
    expect(statuses).toEqual(['success', 'success', 'success', 'reverted'])
    expect((await c.balance(miner)) - minerBefore).toBe(parseEther('7'))
    expect((await c.channel(a.channelId)).state).toBe(ChannelState.CLOSING)
    expect(await c.balance(c.payments)).toBe(parseEther('1'))
  })
})

it('checks vouchers in the same EIP-712 domain the contract does', async () => {
  const { channelId } = await open()
  const v = await signVoucher(payer.account, c.domain, {
    channelId,
    cumulativeAmount: 1n,
    receiptDigest: toHex(5n, { size: 32 }),
  })
  const { voucherDigest } = await import('../verify/voucher.ts')
  const onChain = await devnet.publicClient.readContract({
    address: c.payments,
    abi: paymentChannelsAbi,
    functionName: 'voucherDigest',
    args: [channelId, 1n, v.receiptDigest],
  })
  expect(voucherDigest(c.domain, v)).toBe(onChain)
})

describe('reentrancy', () => {
  it('a token calling back mid-transfer is refused by the guard; every payment happens once', async () => {
    const { publicClient } = devnet
    const hash = await owner.deployContract({
      abi: reentrantTokenAbi,
      bytecode: reentrantTokenBytecode,
      args: [parseEther('1000000')],
    })
    const token = (await waitMined(publicClient, hash)).contractAddress!
    const hostile = await deployPaymentChannels(publicClient, owner, {
      token,
      disputeGame: NO_DISPUTE_GAME,
      challengePeriod: CHALLENGE_PERIOD,
      settleGrace: SETTLE_GRACE,
    })
    const tokenWrite = async (w: Wallet, functionName: string, args: readonly unknown[]) => {
      const h = await w.writeContract({
        address: token,
        abi: reentrantTokenAbi,
        functionName,
        args,
      } as Parameters<Wallet['writeContract']>[0])
      await waitMined(publicClient, h)
    }
    const read = async (functionName: string, args: readonly unknown[] = []) =>
      (await publicClient.readContract({
        address: token,
        abi: reentrantTokenAbi,
        functionName,
        args,
      } as never)) as never
    await tokenWrite(owner, 'transfer', [addr(payer), parseEther('100')])
    await tokenWrite(payer, 'approve', [hostile, 2n ** 255n])
    const balances = async () =>
      await Promise.all(
        [addr(payer), addr(miner), hostile].map(
          async (a) => (await read('balanceOf', [a])) as bigint,
        ),
      )
    const GUARD = toFunctionSelector('ReentrancyGuardReentrantCall()')
    const open = async (expiryIn: bigint) =>
      (
        await openChannel(payer, {
          address: hostile,
          miner: addr(miner),
          deposit: parseEther('10'),
          expiry: (await c.block()) + expiryIn,
        })
      ).channelId
    const a = await open(1000n)
    const b = await open(2n)
    await c.mine(2n + SETTLE_GRACE + 1n)
    // settle(a) pays the miner; mid-transfer the token calls reclaim(b) (anyone may, normally)
    await tokenWrite(owner, 'arm', [
      hostile,
      encodeFunctionData({ abi: paymentChannelsAbi, functionName: 'reclaim', args: [b] }),
    ])
    const v = await signVoucher(
      payer.account,
      { chainId: devnet.chain.id, verifyingContract: hostile },
      {
        channelId: a,
        cumulativeAmount: parseEther('3'),
        receiptDigest: toHex(1n, { size: 32 }),
      },
    )
    await settleChannel(miner, { address: hostile, ...v })
    expect(await read('attempted')).toBe(true)
    expect(await read('reentered')).toBe(false)
    expect(((await read('reentryRevert')) as Hex).slice(0, 10)).toBe(GUARD)
    expect(await balances()).toEqual([parseEther('80'), parseEther('3'), parseEther('17')])
    // finishClose(a) refunds the payer; mid-transfer the token calls finishClose(a) again
    await startCloseChannel(payer, { address: hostile, channelId: a })
    await c.mine(CHALLENGE_PERIOD)
    await tokenWrite(owner, 'arm', [
      hostile,
      encodeFunctionData({ abi: paymentChannelsAbi, functionName: 'finishClose', args: [a] }),
    ])
    await finishCloseChannel(payer, { address: hostile, channelId: a })
    expect(await read('reentered')).toBe(false)
    expect(((await read('reentryRevert')) as Hex).slice(0, 10)).toBe(GUARD)
    expect(await balances()).toEqual([parseEther('87'), parseEther('3'), parseEther('10')])
    await reclaimChannel(payer, { address: hostile, channelId: b })
    expect(await balances()).toEqual([parseEther('97'), parseEther('3'), 0n])
  })
})
