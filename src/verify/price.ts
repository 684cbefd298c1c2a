import { type Address, getAddress, type Hex, isAddressEqual, recoverTypedDataAddress } from 'viem'
import type { LocalAccount } from 'viem/accounts'
import { PriceSheetError } from '../errors/node.ts'

/**
 * A miner's advertised price for its model: VTY wei per prompt token and per completion token,
 * signed by its hotkey as EIP-712 typed data (the receipts' domain), valid for a bounded time.
 * Miners hand it out on `/verity/price/1`; a gateway routes by it, quotes it in `/v1/models`, and
 * binds the price it accepted into the request (`InferenceRequest.price`), so the miner's receipt
 * commits to the rate the answer was served at.
 */
export type PriceSheet = {
  chainId: number
  netuid: number
  modelRoot: Hex
  minerHotkey: Address
  verifyingContract: Address
  /** VTY wei per prompt token. */
  promptPrice: bigint
  /** VTY wei per completion token. */
  completionPrice: bigint
  /** Unix seconds. */
  issuedAt: number
  /** Unix seconds; at most MAX_PRICE_VALIDITY_S after issuedAt. */
  validUntil: number
}

export type SignedPriceSheet = PriceSheet & { signature: Hex }

/** A sheet is valid for at most a day: a miner changes its price by signing a new one. */
export const MAX_PRICE_VALIDITY_S = 86_400
/** 10^24 wei (one million VTY) per token: far above any sane price, far below overflow. */
export const MAX_TOKEN_PRICE = 10n ** 24n

const TYPES = {
  PriceSheet: [
    { name: 'chainId', type: 'uint256' },
    { name: 'netuid', type: 'uint16' },
    { name: 'modelRoot', type: 'bytes32' },
    { name: 'minerHotkey', type: 'address' },
    { name: 'promptPrice', type: 'uint256' },
    { name: 'completionPrice', type: 'uint256' },
    { name: 'issuedAt', type: 'uint64' },
    { name: 'validUntil', type: 'uint64' },
  ],
} as const

function typed(s: PriceSheet) {
  return {
    domain: {
      name: 'Verity',
      version: '1',
      chainId: s.chainId,
      verifyingContract: s.verifyingContract,
    },
    types: TYPES,
    primaryType: 'PriceSheet' as const,
    message: {
      chainId: BigInt(s.chainId),
      netuid: s.netuid,
      modelRoot: s.modelRoot,
      minerHotkey: s.minerHotkey,
      promptPrice: s.promptPrice,
      completionPrice: s.completionPrice,
      issuedAt: BigInt(s.issuedAt),
      validUntil: BigInt(s.validUntil),
    },
  }
}

/** Signs a price sheet with the miner's hotkey (which must be the sheet's minerHotkey). */
export async function signPriceSheet(
  account: LocalAccount,
  sheet: PriceSheet,
): Promise<SignedPriceSheet> {
  checkFields(sheet)
  if (!isAddressEqual(account.address, sheet.minerHotkey))
    throw new PriceSheetError('the signing key is not the price sheet minerHotkey')
  return { ...sheet, signature: await account.signTypedData(typed(sheet)) }
}

export type ExpectedPrice = {
  chainId: number
  netuid: number
  modelRoot: Hex
  verifyingContract: Address
  /** The hotkey the chain publishes for the node the sheet came from. */
  minerHotkey: Address
  /** Unix seconds now. */
  now: number
}

/**
 * Checks an untrusted price sheet (a network frame, parsed from JSON by `priceSheetFromJson`):
 * well formed, signed by its minerHotkey, for the expected miner, chain, subnet and model, and
 * valid now. Returns the sheet or throws a PriceSheetError naming what failed.
 */
export async function verifyPriceSheet(
  sheet: SignedPriceSheet,
  expected: ExpectedPrice,
): Promise<SignedPriceSheet> {
  checkFields(sheet)
  let signer: Address
  try {
    signer = await recoverTypedDataAddress({ ...typed(sheet), signature: sheet.signature })
  } catch (cause) {
    throw new PriceSheetError('price sheet signature is malformed', { cause })
  }
  if (!isAddressEqual(signer, sheet.minerHotkey))
    throw new PriceSheetError('price sheet signature does not match its minerHotkey', {
      details: `signed by ${signer}, minerHotkey ${getAddress(sheet.minerHotkey)}`,
    })
  if (!isAddressEqual(sheet.minerHotkey, expected.minerHotkey))
    throw new PriceSheetError(
      `price sheet is for miner ${sheet.minerHotkey}, expected ${expected.minerHotkey}`,
    )
  if (sheet.chainId !== expected.chainId || sheet.netuid !== expected.netuid)
    throw new PriceSheetError(
      `price sheet is for chain ${sheet.chainId} subnet ${sheet.netuid}, expected chain ${expected.chainId} subnet ${expected.netuid}`,
    )
  if (!isAddressEqual(sheet.verifyingContract, expected.verifyingContract))
    throw new PriceSheetError('price sheet is for another Verity contract')
  if (sheet.modelRoot.toLowerCase() !== expected.modelRoot.toLowerCase())
    throw new PriceSheetError(
      `price sheet is for model ${sheet.modelRoot}, expected ${expected.modelRoot}`,
    )
  if (expected.now > sheet.validUntil)
    throw new PriceSheetError(`price sheet expired at ${sheet.validUntil} (now ${expected.now})`)
  if (sheet.issuedAt > expected.now + 300)
    throw new PriceSheetError(`price sheet is issued in the future (${sheet.issuedAt})`)
  return sheet
}

const HEX32 = /^0x[0-9a-fA-F]{64}$/
const ADDRESS = /^0x[0-9a-fA-F]{40}$/
const SIGNATURE = /^0x[0-9a-fA-F]{130}$/
const DECIMAL = /^(0|[1-9][0-9]{0,29})$/

function checkFields(s: PriceSheet): void {
  const bad = (field: string, why = 'is missing or malformed'): never => {
    throw new PriceSheetError(`price sheet field '${field}' ${why}`)
  }
  const uint = (v: unknown, max: number) =>
    typeof v === 'number' && Number.isSafeInteger(v) && v >= 0 && v <= max
  if (!uint(s.chainId, Number.MAX_SAFE_INTEGER)) bad('chainId')
  if (!uint(s.netuid, 0xffff)) bad('netuid')
  if (typeof s.modelRoot !== 'string' || !HEX32.test(s.modelRoot)) bad('modelRoot')
  if (typeof s.minerHotkey !== 'string' || !ADDRESS.test(s.minerHotkey)) bad('minerHotkey')
  if (typeof s.verifyingContract !== 'string' || !ADDRESS.test(s.verifyingContract))
    bad('verifyingContract')
  for (const k of ['promptPrice', 'completionPrice'] as const) {
    const v = s[k]
    if (typeof v !== 'bigint' || v < 0n) bad(k)
    if (v > MAX_TOKEN_PRICE) bad(k, `exceeds ${MAX_TOKEN_PRICE} wei per token`)
  }
  if (!uint(s.issuedAt, 2 ** 40)) bad('issuedAt')
  if (!uint(s.validUntil, 2 ** 40)) bad('validUntil')
  if (s.validUntil <= s.issuedAt) bad('validUntil', 'must be after issuedAt')
  if (s.validUntil - s.issuedAt > MAX_PRICE_VALIDITY_S)
    bad('validUntil', `must be at most ${MAX_PRICE_VALIDITY_S} s after issuedAt`)
  if ('signature' in s) {
    const sig = (s as { signature: unknown }).signature
    if (typeof sig !== 'string' || !SIGNATURE.test(sig)) bad('signature')
  }
}

/** The JSON form (prices as decimal strings): what `/verity/price/1` sends. */
export function priceSheetToJson(s: SignedPriceSheet): Record<string, unknown> {
  return {
    ...s,
    promptPrice: s.promptPrice.toString(),
    completionPrice: s.completionPrice.toString(),
  }
}

/** Parses the JSON form; shape errors name the field (signature checks are verifyPriceSheet's). */
export function priceSheetFromJson(value: unknown): SignedPriceSheet {
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw new PriceSheetError('price sheet is not an object')
  const v = value as Record<string, unknown>
  const price = (k: string): bigint => {
    const raw = v[k]
    if (typeof raw !== 'string' || !DECIMAL.test(raw))
      throw new PriceSheetError(`price sheet field '${k}' must be a decimal string of wei`)
    return BigInt(raw)
  }
  if (v.signature === undefined) throw new PriceSheetError('price sheet is not signed')
  const sheet = {
    chainId: v.chainId,
    netuid: v.netuid,
    modelRoot: v.modelRoot,
    minerHotkey: v.minerHotkey,
    verifyingContract: v.verifyingContract,
    promptPrice: price('promptPrice'),
    completionPrice: price('completionPrice'),
    issuedAt: v.issuedAt,
    validUntil: v.validUntil,
    signature: v.signature,
  } as SignedPriceSheet
  checkFields(sheet)
  return sheet
}

/** Cost in wei of an answer at a sheet's prices. */
export function answerCost(
  price: Pick<PriceSheet, 'promptPrice' | 'completionPrice'>,
  promptTokens: number,
  completionTokens: number,
): bigint {
  return BigInt(promptTokens) * price.promptPrice + BigInt(completionTokens) * price.completionPrice
}

/** Parses a CLI price: VTY per million tokens, as a decimal (e.g. "0.25"), into wei per token. */
export function pricePerMillionToWei(text: string, flag: string): bigint {
  const m = /^(\d{1,12})(?:\.(\d{1,18}))?$/.exec(text.trim())
  if (!m)
    throw new PriceSheetError(`${flag} must be VTY per million tokens, e.g. 0.25; got '${text}'`)
  const wei = BigInt(m[1]!) * 10n ** 18n + BigInt((m[2] ?? '').padEnd(18, '0'))
  // per token = per million / 10^6, rounded up so a sheet never undercuts what the operator set
  return (wei + 999_999n) / 1_000_000n
}
