import { privateKeyToAccount } from 'viem/accounts'
import { describe, expect, it } from 'vitest'
import {
  answerCost,
  MAX_PRICE_VALIDITY_S,
  type PriceSheet,
  pricePerMillionToWei,
  priceSheetFromJson,
  priceSheetToJson,
  signPriceSheet,
  verifyPriceSheet,
} from './price.ts'

const miner = privateKeyToAccount(`0x${'11'.repeat(32)}`)
const other = privateKeyToAccount(`0x${'22'.repeat(32)}`)
const NOW = 1_800_000_000
const sheet: PriceSheet = {
  chainId: 31337,
  netuid: 1,
  modelRoot: `0x${'ab'.repeat(32)}`,
  minerHotkey: miner.address,
  verifyingContract: `0x${'cd'.repeat(20)}`,
  promptPrice: 250_000_000_000n,
  completionPrice: 1_000_000_000_000n,
  issuedAt: NOW - 10,
  validUntil: NOW + 3600,
}
const expected = {
  chainId: 31337,
  netuid: 1,
  modelRoot: sheet.modelRoot,
  verifyingContract: sheet.verifyingContract,
  minerHotkey: miner.address,
  now: NOW,
}

describe('price sheets', () => {
  it('round-trip: signed by the miner, through JSON, verified', async () => {
    const signed = await signPriceSheet(miner, sheet)
    const wire = JSON.parse(JSON.stringify(priceSheetToJson(signed)))
    expect(wire.promptPrice).toBe('250000000000')
    const back = priceSheetFromJson(wire)
    await expect(verifyPriceSheet(back, expected)).resolves.toEqual(signed)
    expect(answerCost(back, 10, 4)).toBe(10n * 250_000_000_000n + 4n * 1_000_000_000_000n)
  })

  it('refuses a sheet signed by another key, or altered after signing', async () => {
    const signed = await signPriceSheet(miner, sheet)
    await expect(signPriceSheet(other, sheet)).rejects.toThrow(/not the price sheet minerHotkey/)
    const forged = { ...(await signPriceSheet(other, { ...sheet, minerHotkey: other.address })) }
    await expect(
      verifyPriceSheet({ ...forged, minerHotkey: miner.address }, expected),
    ).rejects.toThrow(/does not match its minerHotkey/)
    // a gateway (or anyone on the path) lowering the price the miner signed
    await expect(verifyPriceSheet({ ...signed, completionPrice: 1n }, expected)).rejects.toThrow(
      /does not match its minerHotkey/,
    )
  })

  it('refuses a valid sheet presented for another miner, chain, subnet, model or contract', async () => {
    const signed = await signPriceSheet(miner, sheet)
    await expect(
      verifyPriceSheet(signed, { ...expected, minerHotkey: other.address }),
    ).rejects.toThrow(/for miner/)
    await expect(verifyPriceSheet(signed, { ...expected, chainId: 1 })).rejects.toThrow(/chain/)
    await expect(verifyPriceSheet(signed, { ...expected, netuid: 2 })).rejects.toThrow(/subnet 1/)
    await expect(
      verifyPriceSheet(signed, { ...expected, modelRoot: `0x${'00'.repeat(32)}` }),
    ).rejects.toThrow(/for model/)
    await expect(
      verifyPriceSheet(signed, { ...expected, verifyingContract: `0x${'ee'.repeat(20)}` }),
    ).rejects.toThrow(/another Verity contract/)
  })

  it('refuses expired, future and over-long sheets', async () => {
    const signed = await signPriceSheet(miner, sheet)
    await expect(verifyPriceSheet(signed, { ...expected, now: NOW + 3601 })).rejects.toThrow(
      /expired/,
    )
    const future = await signPriceSheet(miner, {
      ...sheet,
      issuedAt: NOW + 1000,
      validUntil: NOW + 2000,
    })
    await expect(verifyPriceSheet(future, expected)).rejects.toThrow(/future/)
    await expect(
      signPriceSheet(miner, { ...sheet, validUntil: sheet.issuedAt + MAX_PRICE_VALIDITY_S + 1 }),
    ).rejects.toThrow(/at most 86400 s/)
    await expect(signPriceSheet(miner, { ...sheet, validUntil: sheet.issuedAt })).rejects.toThrow(
      /after issuedAt/,
    )
  })

  it('names the field of a malformed wire sheet', async () => {
    const wire = priceSheetToJson(await signPriceSheet(miner, sheet))
    const cases: [Record<string, unknown>, RegExp][] = [
      [{ promptPrice: -1 }, /'promptPrice' must be a decimal string/],
      [{ promptPrice: '1.5' }, /'promptPrice' must be a decimal string/],
      [{ promptPrice: '01' }, /'promptPrice' must be a decimal string/],
      [{ completionPrice: '9'.repeat(40) }, /'completionPrice' must be a decimal string/],
      [{ completionPrice: `1${'0'.repeat(25)}` }, /'completionPrice' exceeds/],
      [{ netuid: 70000 }, /'netuid'/],
      [{ modelRoot: '0x12' }, /'modelRoot'/],
      [{ minerHotkey: 'alice' }, /'minerHotkey'/],
      [{ issuedAt: 1.5 }, /'issuedAt'/],
      [{ signature: '0xzz' }, /'signature'/],
      [{ signature: undefined }, /not signed/],
    ]
    for (const [patch, error] of cases)
      expect(() => priceSheetFromJson({ ...wire, ...patch }), JSON.stringify(patch)).toThrow(error)
    expect(() => priceSheetFromJson(null)).toThrow(/not an object/)
    expect(() => priceSheetFromJson([wire])).toThrow(/not an object/)
  })

  it('turns VTY per million tokens into wei per token, rounding up', () => {
    expect(pricePerMillionToWei('1', '--price-prompt')).toBe(10n ** 12n)
    expect(pricePerMillionToWei('0.25', '--price-prompt')).toBe(25n * 10n ** 10n)
    expect(pricePerMillionToWei('0', '--price-prompt')).toBe(0n)
    expect(pricePerMillionToWei('0.000000000000000001', '--price-prompt')).toBe(1n)
    for (const bad of ['-1', '1e3', 'abc', '', '0.1234567890123456789'])
      expect(() => pricePerMillionToWei(bad, '--price-prompt')).toThrow(/--price-prompt must be/)
  })
})
