import { type Hex, keccak256, toHex } from 'viem'
import { privateKeyToAccount } from 'viem/accounts'
import { describe, expect, it } from 'vitest'
import { VoucherError } from '../errors/node.ts'
import {
  assertVoucherFields,
  recoverVoucherSigner,
  type SignedVoucher,
  signVoucher,
  VoucherBook,
  type VoucherDomain,
} from './voucher.ts'

/** Vouchers off chain: signing, recovery, and a miner's VoucherBook refusing every bad voucher. */
const payer = privateKeyToAccount(keccak256(toHex('voucher:payer')))
const stranger = privateKeyToAccount(keccak256(toHex('voucher:stranger')))
const domain: VoucherDomain = {
  chainId: 31337,
  verifyingContract: '0x00000000000000000000000000000000000000c4',
}
const CH = keccak256(toHex('channel-1'))
const CH2 = keccak256(toHex('channel-2'))
const digest = (n: number): Hex => keccak256(toHex(`receipt-${n}`))

const sign = (
  amount: bigint,
  at: Partial<{ channelId: Hex; receipt: Hex; key: typeof payer; domain: VoucherDomain }> = {},
) =>
  signVoucher(at.key ?? payer, at.domain ?? domain, {
    channelId: at.channelId ?? CH,
    cumulativeAmount: amount,
    receiptDigest: at.receipt ?? digest(Number(amount)),
  })

function book(deposit = 100n) {
  const b = new VoucherBook(domain)
  b.track({ channelId: CH, payer: payer.address, deposit, paid: 0n })
  b.track({ channelId: CH2, payer: payer.address, deposit, paid: 0n })
  return b
}

async function refusal(p: Promise<unknown>): Promise<string> {
  try {
    await p
  } catch (error) {
    expect(error).toBeInstanceOf(VoucherError)
    return (error as VoucherError).shortMessage
  }
  return 'accepted'
}

describe('signVoucher / recoverVoucherSigner', () => {
  it('recovers the payer, and another address for any changed field or domain', async () => {
    const v = await sign(5n)
    expect(await recoverVoucherSigner(domain, v)).toBe(payer.address)
    for (const changed of [
      { ...v, cumulativeAmount: 6n },
      { ...v, channelId: CH2 },
      { ...v, receiptDigest: digest(9) },
    ])
      expect(await recoverVoucherSigner(domain, changed)).not.toBe(payer.address)
    expect(await recoverVoucherSigner({ ...domain, chainId: 1 }, v)).not.toBe(payer.address)
  })

  it('names the bad field of malformed vouchers', async () => {
    const v = await sign(5n)
    const cases: [unknown, RegExp][] = [
      [null, /not an object/],
      ['voucher', /not an object/],
      [{ ...v, channelId: '0x12' }, /channelId/],
      [{ ...v, channelId: `${CH}00` }, /channelId/],
      [{ ...v, cumulativeAmount: 5 }, /cumulativeAmount/],
      [{ ...v, cumulativeAmount: 0n }, /cumulativeAmount/],
      [{ ...v, cumulativeAmount: 2n ** 256n }, /cumulativeAmount/],
      [{ ...v, receiptDigest: 'zz' }, /receiptDigest/],
      [{ ...v, signature: v.signature.slice(0, 130) }, /65 bytes/],
      [{ ...v, signature: `${v.signature}00` }, /65 bytes/],
      [{ ...v, signature: `${v.signature.slice(0, 130)}01` }, /canonical/],
    ]
    for (const [value, message] of cases) expect(() => assertVoucherFields(value)).toThrow(message)
  })
})

describe('VoucherBook', () => {
  it('keeps the latest voucher and reports what each adds', async () => {
    const b = book()
    expect((await b.accept(await sign(10n))).increment).toBe(10n)
    expect((await b.accept(await sign(25n))).increment).toBe(15n)
    expect(b.latest(CH)?.cumulativeAmount).toBe(25n)
    expect(b.unsettled(CH)).toBe(25n)
    b.markSettled(CH, 25n)
    expect(b.unsettled(CH)).toBe(0n)
    expect(b.latest(CH2)).toBeUndefined()
  })

  it('refuses stale, equal, forged, over-deposit, unknown-channel and wrong-receipt vouchers', async () => {
    const b = book()
    await b.accept(await sign(10n))
    expect(await refusal(b.accept(await sign(10n)))).toMatch(/stale voucher: 10/)
    expect(await refusal(b.accept(await sign(9n)))).toMatch(/stale/)
    expect(await refusal(b.accept(await sign(20n, { key: stranger })))).toMatch(
      new RegExp(`signed by ${stranger.address}`),
    )
    // the payer's voucher for another channel, replayed under this channel's id
    const other = await sign(20n, { channelId: CH2 })
    expect(await refusal(b.accept({ ...other, channelId: CH }))).toMatch(
      /not by the channel's payer/,
    )
    // for another contract or chain
    for (const d of [
      { ...domain, chainId: 1 },
      { ...domain, verifyingContract: '0x00000000000000000000000000000000000000c5' as const },
    ])
      expect(await refusal(b.accept(await sign(20n, { domain: d })))).toMatch(
        /not by the channel's payer/,
      )
    expect(await refusal(b.accept(await sign(101n)))).toMatch(/above the channel's deposit 100/)
    expect(
      await refusal(b.accept(await sign(20n, { channelId: keccak256(toHex('nope')) }))),
    ).toMatch(/does not serve/)
    expect(
      await refusal(
        b.accept(await sign(20n, { receipt: digest(1) }), { receiptDigest: digest(2) }),
      ),
    ).toMatch(/bound to receipt/)
    // none of them moved the latest
    expect(b.latest(CH)?.cumulativeAmount).toBe(10n)
    // a top-up raises the ceiling
    b.track({ channelId: CH, payer: payer.address, deposit: 200n, paid: 0n })
    expect((await b.accept(await sign(150n))).increment).toBe(140n)
  })

  it('a paid amount from chain is the floor: vouchers at or below it are stale', async () => {
    const b = new VoucherBook(domain)
    b.track({ channelId: CH, payer: payer.address, deposit: 100n, paid: 40n })
    expect(await refusal(b.accept(await sign(40n)))).toMatch(/stale/)
    expect((await b.accept(await sign(41n))).increment).toBe(1n)
    expect(() =>
      b.track({ channelId: CH, payer: stranger.address, deposit: 100n, paid: 0n }),
    ).toThrow(/another payer/)
  })

  it('under concurrent accepts in any order, keeps the highest and the increments add up to it', async () => {
    const b = book(1000n)
    const vouchers: SignedVoucher[] = []
    for (let i = 1; i <= 30; i++) vouchers.push(await sign(BigInt(i * 7)))
    // a fixed shuffle: arrival order unrelated to amounts
    const order = vouchers.map((v, i) => ({ v, k: (i * 17) % 31 })).sort((x, y) => x.k - y.k)
    const results = await Promise.allSettled(order.map(({ v }) => b.accept(v)))
    let sum = 0n
    for (const r of results) {
      if (r.status === 'fulfilled') sum += r.value.increment
      else expect(r.reason).toBeInstanceOf(VoucherError)
    }
    expect(b.latest(CH)?.cumulativeAmount).toBe(210n)
    expect(sum).toBe(210n)
  })

  it('keeps as fallback the latest voucher bound to another receipt', async () => {
    const b = book()
    await b.accept(await sign(5n, { receipt: digest(1) }))
    await b.accept(await sign(8n, { receipt: digest(2) }))
    // a streaming payer may sign several vouchers for one receipt: the fallback stays on receipt 1
    await b.accept(await sign(9n, { receipt: digest(2) }))
    expect(b.fallback(CH)?.cumulativeAmount).toBe(5n)
    await b.accept(await sign(12n, { receipt: digest(3) }))
    expect(b.fallback(CH)?.cumulativeAmount).toBe(9n)
  })

  it('honours an abort', async () => {
    const b = book()
    const ac = new AbortController()
    ac.abort()
    await expect(b.accept(await sign(1n), { signal: ac.signal })).rejects.toThrow()
    expect(b.latest(CH)).toBeUndefined()
  })
})
