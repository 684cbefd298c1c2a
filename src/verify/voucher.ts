import {
  type Address,
  getAddress,
  type Hex,
  hashTypedData,
  isAddress,
  isAddressEqual,
  isHex,
  recoverTypedDataAddress,
} from 'viem'
import type { LocalAccount } from 'viem/accounts'
import { VoucherError } from '../errors/node.ts'

/**
 * Payment vouchers: the payer of a channel (contracts/src/payments/PaymentChannels.sol) signs
 * "I owe the miner `cumulativeAmount` in all, the latest for the answer whose receipt has this
 * digest" as EIP-712 typed data; the miner keeps the latest valid one per channel in a
 * VoucherBook and settles it on chain.
 */

export type Voucher = {
  channelId: Hex
  /** Everything the payer owes the miner on this channel so far (monotone). */
  cumulativeAmount: bigint
  /** The EIP-712 digest of the receipt this voucher pays for (src/verify/receipt.ts). */
  receiptDigest: Hex
}

export type SignedVoucher = Voucher & { signature: Hex }

/** Where vouchers are redeemable: the chain and the PaymentChannels contract. */
export type VoucherDomain = { chainId: number; verifyingContract: Address }

/** The EIP-712 domain PaymentChannels checks vouchers in. */
export function voucherDomain(domain: VoucherDomain) {
  return {
    name: 'Verity PaymentChannels',
    version: '1',
    chainId: domain.chainId,
    verifyingContract: domain.verifyingContract,
  } as const
}

export const VOUCHER_TYPES = {
  Voucher: [
    { name: 'channelId', type: 'bytes32' },
    { name: 'cumulativeAmount', type: 'uint256' },
    { name: 'receiptDigest', type: 'bytes32' },
  ],
} as const

const MAX_UINT256 = 2n ** 256n - 1n
// secp256k1 order / 2: the contract (OpenZeppelin ECDSA) refuses signatures with a larger s
const HALF_N = 0x7fffffffffffffffffffffffffffffff5d576e7357a4501ddfe92f46681b20a0n

const isBytes32 = (v: unknown): v is Hex => typeof v === 'string' && isHex(v) && v.length === 66

/** Checks a voucher's shape (from the network: anything), naming the first bad field. */
export function assertVoucherFields(value: unknown): asserts value is SignedVoucher {
  if (typeof value !== 'object' || value === null)
    throw new VoucherError('voucher is not an object')
  const v = value as Record<string, unknown>
  if (!isBytes32(v.channelId)) throw new VoucherError('voucher channelId is not 32 bytes of hex')
  if (
    typeof v.cumulativeAmount !== 'bigint' ||
    v.cumulativeAmount <= 0n ||
    v.cumulativeAmount > MAX_UINT256
  )
    throw new VoucherError('voucher cumulativeAmount is not a uint256 above 0')
  if (!isBytes32(v.receiptDigest))
    throw new VoucherError('voucher receiptDigest is not 32 bytes of hex')
  const sig = v.signature
  if (typeof sig !== 'string' || !isHex(sig) || sig.length !== 132)
    throw new VoucherError('voucher signature is not 65 bytes of hex')
  const s = BigInt(`0x${sig.slice(66, 130)}`)
  const recovery = Number.parseInt(sig.slice(130), 16)
  // what ecrecover in the contract takes: v 27/28 and a low s (no malleable twin)
  if (s === 0n || s > HALF_N || (recovery !== 27 && recovery !== 28))
    throw new VoucherError('voucher signature is not canonical (low s, v 27 or 28)')
}

function typed(domain: VoucherDomain, voucher: Voucher) {
  return {
    domain: voucherDomain(domain),
    types: VOUCHER_TYPES,
    primaryType: 'Voucher',
    message: {
      channelId: voucher.channelId,
      cumulativeAmount: voucher.cumulativeAmount,
      receiptDigest: voucher.receiptDigest,
    },
  } as const
}

/**
 * Signs a voucher with the payer's key.
 *
 * @example
 * const signed = await signVoucher(payer, { chainId, verifyingContract: payments }, { channelId, cumulativeAmount: 3n, receiptDigest })
 */
export async function signVoucher(
  account: LocalAccount,
  domain: VoucherDomain,
  voucher: Voucher,
): Promise<SignedVoucher> {
  const signature = await account.signTypedData(typed(domain, voucher))
  const signed = { ...voucher, signature }
  assertVoucherFields(signed)
  return signed
}

/** The voucher's EIP-712 digest (PaymentChannels.voucherDigest). */
export function voucherDigest(domain: VoucherDomain, voucher: Voucher): Hex {
  return hashTypedData(typed(domain, voucher))
}

/** The address that signed the voucher (whoever that is). */
export async function recoverVoucherSigner(
  domain: VoucherDomain,
  voucher: SignedVoucher,
): Promise<Address> {
  assertVoucherFields(voucher)
  try {
    return await recoverTypedDataAddress({
      ...typed(domain, voucher),
      signature: voucher.signature,
    })
  } catch (error) {
    throw new VoucherError('voucher signature does not recover to an address', { cause: error })
  }
}

/** What a miner knows of a channel it serves (read from chain with getChannel). */
export type TrackedChannel = {
  channelId: Hex
  payer: Address
  /** VTY locked in the channel; a voucher above it is refused. */
  deposit: bigint
  /** What the channel has already paid on chain. */
  paid: bigint
}

export type AcceptVoucherOptions = {
  /** The digest of the receipt this voucher must pay for (the answer the miner just gave). */
  receiptDigest?: Hex
  signal?: AbortSignal
}

type Entry = TrackedChannel & {
  latest?: SignedVoucher
  /** The latest voucher bound to another receipt than `latest` (what to settle if it is voided). */
  fallback?: SignedVoucher
}

/**
 * A miner's book of vouchers: the latest valid voucher per channel it serves. It refuses stale,
 * forged (signed by anyone but the channel's payer, or for another channel, chain or contract),
 * over-deposit, unknown-channel and malformed vouchers with a VoucherError naming the problem.
 * Safe under concurrent accepts: the monotone check and the update happen together, after the
 * signature check.
 *
 * @example
 * const book = new VoucherBook({ chainId, verifyingContract: payments })
 * book.track({ channelId, payer, deposit, paid: 0n })
 * const { increment } = await book.accept(voucher, { receiptDigest })
 * await settleChannel(minerWallet, { address: payments, ...book.latest(channelId)! })
 */
export class VoucherBook {
  readonly domain: VoucherDomain
  readonly #channels = new Map<string, Entry>()

  constructor(domain: VoucherDomain) {
    if (!isAddress(domain.verifyingContract))
      throw new VoucherError('the voucher domain needs the PaymentChannels address')
    this.domain = {
      chainId: domain.chainId,
      verifyingContract: getAddress(domain.verifyingContract),
    }
  }

  /** Starts (or refreshes after a top-up or a settle) tracking a channel the miner serves. */
  track(channel: TrackedChannel): void {
    if (!isBytes32(channel.channelId)) throw new VoucherError('channelId is not 32 bytes of hex')
    if (channel.paid > channel.deposit)
      throw new VoucherError('a channel cannot have paid more than its deposit')
    const key = channel.channelId.toLowerCase()
    const old = this.#channels.get(key)
    if (old && !isAddressEqual(old.payer, channel.payer))
      throw new VoucherError(`channel ${channel.channelId} is already tracked with another payer`)
    this.#channels.set(key, {
      ...old,
      channelId: channel.channelId,
      payer: getAddress(channel.payer),
      deposit: old && old.deposit > channel.deposit ? old.deposit : channel.deposit,
      paid: old && old.paid > channel.paid ? old.paid : channel.paid,
    })
  }

  /** Stops tracking a channel (closed). */
  untrack(channelId: Hex): void {
    this.#channels.delete(channelId.toLowerCase())
  }

  /**
   * Checks a voucher and keeps it if it is the channel's new latest. Returns what it adds over
   * the previous latest (the answer's price, for the caller to compare).
   */
  async accept(
    voucher: unknown,
    options: AcceptVoucherOptions = {},
  ): Promise<{ increment: bigint; voucher: SignedVoucher }> {
    options.signal?.throwIfAborted()
    assertVoucherFields(voucher)
    const entry = this.#channels.get(voucher.channelId.toLowerCase())
    if (!entry)
      throw new VoucherError(
        `voucher for channel ${voucher.channelId}, which this miner does not serve`,
      )
    if (
      options.receiptDigest &&
      voucher.receiptDigest.toLowerCase() !== options.receiptDigest.toLowerCase()
    )
      throw new VoucherError(
        `voucher is bound to receipt ${voucher.receiptDigest}, not to this answer's ${options.receiptDigest}`,
      )
    if (voucher.cumulativeAmount > entry.deposit)
      throw new VoucherError(
        `voucher promises ${voucher.cumulativeAmount} in all, above the channel's deposit ${entry.deposit}`,
      )
    const signer = await recoverVoucherSigner(this.domain, voucher)
    options.signal?.throwIfAborted()
    if (!isAddressEqual(signer, entry.payer))
      throw new VoucherError(
        `voucher is signed by ${signer}, not by the channel's payer ${entry.payer} (forged, or for another channel, chain or contract)`,
      )
    // checked again after the await: a concurrent accept may have moved the latest on
    const floor = entry.latest?.cumulativeAmount ?? entry.paid
    if (voucher.cumulativeAmount <= floor)
      throw new VoucherError(
        `stale voucher: ${voucher.cumulativeAmount} in all, not above the ${floor} already held`,
      )
    const kept: SignedVoucher = {
      channelId: voucher.channelId,
      cumulativeAmount: voucher.cumulativeAmount,
      receiptDigest: voucher.receiptDigest,
      signature: voucher.signature,
    }
    if (
      entry.latest &&
      entry.latest.receiptDigest.toLowerCase() !== kept.receiptDigest.toLowerCase()
    )
      entry.fallback = entry.latest
    entry.latest = kept
    return { increment: voucher.cumulativeAmount - floor, voucher: kept }
  }

  /** The channel's latest voucher: the one to settle. */
  latest(channelId: Hex): SignedVoucher | undefined {
    return this.#channels.get(channelId.toLowerCase())?.latest
  }

  /**
   * The latest voucher bound to another receipt than the latest one: what to settle when the
   * latest's receipt lost a dispute (settle reverts VoucherVoided). Undefined if there is none.
   */
  fallback(channelId: Hex): SignedVoucher | undefined {
    return this.#channels.get(channelId.toLowerCase())?.fallback
  }

  /** What the latest voucher would add on chain over what the channel has paid. */
  unsettled(channelId: Hex): bigint {
    const entry = this.#channels.get(channelId.toLowerCase())
    if (!entry?.latest) return 0n
    return entry.latest.cumulativeAmount - entry.paid
  }

  /** Records a settlement the miner saw on chain (`paid` in all). */
  markSettled(channelId: Hex, paid: bigint): void {
    const entry = this.#channels.get(channelId.toLowerCase())
    if (!entry) throw new VoucherError(`channel ${channelId} is not tracked`)
    if (paid > entry.paid) entry.paid = paid
  }
}
