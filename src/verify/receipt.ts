import {
  type Address,
  getAddress,
  type Hex,
  hashTypedData,
  isAddressEqual,
  recoverTypedDataAddress,
} from 'viem'
import type { LocalAccount } from 'viem/accounts'
import { ReceiptError } from '../errors/node.ts'
import type { InferenceRequest, Receipt, SignedReceipt } from '../types/inference.ts'
import { outputHash, requestHash } from './request.ts'

/**
 * EIP-712 domain of receipts: the Verity contract of the chain they are for, so a signature made
 * for one deployment cannot be presented to another (the dispute contract checks it with
 * ecrecover). The receipt carries the address, so it still verifies off chain from its own fields.
 */
export function receiptDomain(chainId: number, verifyingContract: Address) {
  return { name: 'Verity', version: '1', chainId, verifyingContract } as const
}

export const RECEIPT_TYPES = {
  Receipt: [
    { name: 'chainId', type: 'uint256' },
    { name: 'netuid', type: 'uint16' },
    { name: 'modelRoot', type: 'bytes32' },
    { name: 'requestHash', type: 'bytes32' },
    { name: 'outputHash', type: 'bytes32' },
    { name: 'traceRoot', type: 'bytes32' },
    { name: 'traceLeaves', type: 'uint64' },
    { name: 'minerHotkey', type: 'address' },
    { name: 'issuedBlock', type: 'uint64' },
    { name: 'validUntilBlock', type: 'uint64' },
    { name: 'nonce', type: 'bytes32' },
  ],
} as const

function message(r: Receipt) {
  return {
    chainId: BigInt(r.chainId),
    netuid: r.netuid,
    modelRoot: r.modelRoot,
    requestHash: r.requestHash,
    outputHash: r.outputHash,
    traceRoot: r.traceRoot,
    traceLeaves: BigInt(r.traceLeaves),
    minerHotkey: r.minerHotkey,
    issuedBlock: BigInt(r.issuedBlock),
    validUntilBlock: BigInt(r.validUntilBlock),
    nonce: r.nonce,
  }
}

/**
 * Signs a receipt with the miner's hotkey as EIP-712 typed data (`Receipt` in domain
 * `Verity/1/chainId/verifyingContract`), so a contract can check it with `ecrecover`.
 *
 * @example
 * const signed = await signReceipt(hotkey, receipt)
 */
export async function signReceipt(account: LocalAccount, receipt: Receipt): Promise<SignedReceipt> {
  assertReceiptFields(receipt)
  if (!isAddressEqual(account.address, receipt.minerHotkey))
    throw new ReceiptError('the signing key is not the receipt minerHotkey')
  const signature = await account.signTypedData({
    domain: receiptDomain(receipt.chainId, receipt.verifyingContract),
    types: RECEIPT_TYPES,
    primaryType: 'Receipt',
    message: message(receipt),
  })
  return { ...receipt, signature }
}

/**
 * The receipt's EIP-712 digest: the dispute game names a receipt by it (`DisputeOpened`'s
 * `receiptDigest`; one dispute per digest and challenger, one slash per digest).
 */
export function receiptDigest(receipt: Receipt): Hex {
  return hashTypedData({
    domain: receiptDomain(receipt.chainId, receipt.verifyingContract),
    types: RECEIPT_TYPES,
    primaryType: 'Receipt',
    message: message(receipt),
  })
}

/** The address that signed the receipt (whatever minerHotkey says). */
export async function recoverReceiptSigner(receipt: SignedReceipt): Promise<Address> {
  assertReceiptFields(receipt)
  return await recoverTypedDataAddress({
    domain: receiptDomain(receipt.chainId, receipt.verifyingContract),
    types: RECEIPT_TYPES,
    primaryType: 'Receipt',
    message: message(receipt),
    signature: receipt.signature,
  })
}

export type VerifyReceiptOptions = {
  /** When given, the receipt's requestHash and modelRoot must match it. */
  request?: InferenceRequest
  /** When given, the receipt's outputHash must match these tokens. */
  tokens?: readonly number[]
  /** When given, the receipt must be for this chain / subnet / Verity contract. */
  chainId?: number
  netuid?: number
  verifyingContract?: Address
  /** When given, the receipt must answer this call (same nonce, same miner). */
  call?: { nonce: string; miner: string }
}

/**
 * Checks a receipt: the fields are well formed, the signature recovers to minerHotkey, and (when
 * given) it commits to this request and these output tokens. Returns true or throws a
 * ReceiptError naming what failed.
 */
export async function verifyReceipt(
  receipt: SignedReceipt,
  options: VerifyReceiptOptions = {},
): Promise<true> {
  let signer: Address
  try {
    signer = await recoverReceiptSigner(receipt)
  } catch (error) {
    if (error instanceof ReceiptError) throw error
    throw new ReceiptError('receipt signature is malformed', { cause: error })
  }
  if (!isAddressEqual(signer, receipt.minerHotkey))
    throw new ReceiptError('receipt signature does not match minerHotkey', {
      details: `signed by ${signer}, minerHotkey ${getAddress(receipt.minerHotkey)}`,
    })
  if (options.chainId !== undefined && options.chainId !== receipt.chainId)
    throw new ReceiptError(`receipt is for chain ${receipt.chainId}, expected ${options.chainId}`)
  if (options.netuid !== undefined && options.netuid !== receipt.netuid)
    throw new ReceiptError(`receipt is for subnet ${receipt.netuid}, expected ${options.netuid}`)
  if (
    options.verifyingContract !== undefined &&
    !isAddressEqual(options.verifyingContract, receipt.verifyingContract)
  )
    throw new ReceiptError(
      `receipt is for the Verity contract ${receipt.verifyingContract}, expected ${options.verifyingContract}`,
    )
  if (options.call) {
    if (options.call.nonce.toLowerCase() !== receipt.nonce.toLowerCase())
      throw new ReceiptError("receipt nonce is not the caller's signed request nonce")
    if (!isAddressEqual(options.call.miner as Address, receipt.minerHotkey))
      throw new ReceiptError('receipt is signed by another hotkey than the call was addressed to')
  }
  if (options.request) {
    if (requestHash(options.request) !== receipt.requestHash.toLowerCase())
      throw new ReceiptError('receipt requestHash does not match the request')
    if (options.request.modelRoot.toLowerCase() !== receipt.modelRoot.toLowerCase())
      throw new ReceiptError('receipt modelRoot does not match the request')
  }
  if (options.tokens && outputHash(options.tokens) !== receipt.outputHash.toLowerCase())
    throw new ReceiptError('receipt outputHash does not match the output tokens')
  return true
}

const HEX32 = /^0x[0-9a-fA-F]{64}$/
const ADDRESS = /^0x[0-9a-fA-F]{40}$/
const uint = (v: unknown, max: number) =>
  typeof v === 'number' && Number.isSafeInteger(v) && v >= 0 && v <= max

/** Shape checks on an untrusted receipt (a JSON file, a network frame). */
export function assertReceiptFields(value: unknown): asserts value is Receipt {
  const bad = (field: string): never => {
    throw new ReceiptError(`receipt field '${field}' is missing or malformed`)
  }
  if (typeof value !== 'object' || value === null)
    throw new ReceiptError('receipt is not an object')
  const r = value as Record<string, unknown>
  if (!uint(r.chainId, Number.MAX_SAFE_INTEGER)) bad('chainId')
  if (!uint(r.netuid, 0xffff)) bad('netuid')
  for (const k of ['modelRoot', 'requestHash', 'outputHash', 'traceRoot', 'nonce'])
    if (typeof r[k] !== 'string' || !HEX32.test(r[k] as string)) bad(k)
  if (!uint(r.traceLeaves, Number.MAX_SAFE_INTEGER)) bad('traceLeaves')
  if (typeof r.minerHotkey !== 'string' || !ADDRESS.test(r.minerHotkey)) bad('minerHotkey')
  if (typeof r.verifyingContract !== 'string' || !ADDRESS.test(r.verifyingContract))
    bad('verifyingContract')
  if (!uint(r.issuedBlock, Number.MAX_SAFE_INTEGER)) bad('issuedBlock')
  if (!uint(r.validUntilBlock, Number.MAX_SAFE_INTEGER)) bad('validUntilBlock')
  // A receipt must stay disputable for some time after it is issued.
  if ((r.validUntilBlock as number) <= (r.issuedBlock as number))
    throw new ReceiptError('receipt validUntilBlock must be after its issuedBlock', {
      details: `issuedBlock ${r.issuedBlock}, validUntilBlock ${r.validUntilBlock}`,
    })
  if (
    'signature' in r &&
    (typeof r.signature !== 'string' || !/^0x[0-9a-fA-F]+$/.test(r.signature))
  )
    bad('signature')
}
