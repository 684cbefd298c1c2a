import {
  type Address,
  encodeAbiParameters,
  getAddress,
  type Hex,
  isAddressEqual,
  keccak256,
  recoverTypedDataAddress,
} from 'viem'
import type { LocalAccount } from 'viem/accounts'
import { ProofError } from '../errors/vision.ts'
import { receiptDomain } from '../verify/receipt.ts'
import { checkPixels } from './classify.ts'
import { CLASSES } from './model.ts'
import { type Groth16Proof, verifierArgs, verifyDigitsProof } from './prover.ts'
import { packPixels, packScores, parsePublicSignals, publicSignals } from './public-signals.ts'

/**
 * What a vision miner signs for an answer: the model (its verification key's id), the input (the
 * same hash VisionAnswers.inputHashOf computes on chain), the label and packed scores, and the proof
 * it sends with them (proofHash), under the caller's nonce. EIP-712 in the receipts' domain
 * (Verity/1/chainId/verifyingContract), so a signature for one deployment means nothing on another.
 * Signed and refuted by its own proof, it is evidence against the miner that nobody can forge.
 */
export type VisionReceipt = {
  chainId: number
  netuid: number
  verifyingContract: Address
  modelId: Hex
  inputHash: Hex
  label: number
  /** The 10 scores packed as the circuit's public signal (decimal). */
  scoresPacked: string
  /** keccak256 of the proof's verifier arguments (a, b, c): the signature covers the proof sent. */
  proofHash: Hex
  minerHotkey: Address
  issuedBlock: number
  nonce: Hex
}
export type SignedVisionReceipt = VisionReceipt & { signature: Hex }

/** A miner's answer: the input it classified, its result, the Groth16 proof and its signed receipt. */
export type VisionAnswer = {
  pixels: number[]
  label: number
  scores: number[]
  proof: Groth16Proof
  publicSignals: string[]
  receipt: SignedVisionReceipt
}

export const VISION_RECEIPT_TYPES = {
  VisionReceipt: [
    { name: 'chainId', type: 'uint256' },
    { name: 'netuid', type: 'uint16' },
    { name: 'modelId', type: 'bytes32' },
    { name: 'inputHash', type: 'bytes32' },
    { name: 'label', type: 'uint8' },
    { name: 'scoresPacked', type: 'uint256' },
    { name: 'proofHash', type: 'bytes32' },
    { name: 'minerHotkey', type: 'address' },
    { name: 'issuedBlock', type: 'uint64' },
    { name: 'nonce', type: 'bytes32' },
  ],
} as const

function typed(r: VisionReceipt) {
  return {
    domain: receiptDomain(r.chainId, r.verifyingContract),
    types: VISION_RECEIPT_TYPES,
    primaryType: 'VisionReceipt' as const,
    message: {
      chainId: BigInt(r.chainId),
      netuid: r.netuid,
      modelId: r.modelId,
      inputHash: r.inputHash,
      label: r.label,
      scoresPacked: BigInt(r.scoresPacked),
      proofHash: r.proofHash,
      minerHotkey: r.minerHotkey,
      issuedBlock: BigInt(r.issuedBlock),
      nonce: r.nonce,
    },
  }
}

/** keccak256(abi.encode(pixelsLo, pixelsHi)): VisionAnswers.inputHashOf of these pixels. */
export function visionInputHash(pixels: ArrayLike<number>): Hex {
  const [lo, hi] = packPixels(pixels)
  return keccak256(encodeAbiParameters([{ type: 'uint256' }, { type: 'uint256' }], [lo, hi]))
}

/** keccak256 of the proof's (a, b, c) as the exported verifier takes them. */
export function proofHash(proof: Groth16Proof): Hex {
  const [a, b, c] = verifierArgs(proof, [])
  return keccak256(
    encodeAbiParameters(
      [{ type: 'uint256[2]' }, { type: 'uint256[2][2]' }, { type: 'uint256[2]' }],
      [a, b, c],
    ),
  )
}

export async function signVisionReceipt(
  account: LocalAccount,
  receipt: VisionReceipt,
): Promise<SignedVisionReceipt> {
  assertVisionReceiptFields(receipt)
  if (!isAddressEqual(account.address, receipt.minerHotkey))
    throw new ProofError('the signing key is not the receipt minerHotkey')
  return { ...receipt, signature: await account.signTypedData(typed(receipt)) }
}

export async function recoverVisionReceiptSigner(receipt: SignedVisionReceipt): Promise<Address> {
  assertVisionReceiptFields(receipt)
  return await recoverTypedDataAddress({ ...typed(receipt), signature: receipt.signature })
}

/**
 * Why an answer fails, in the order checked. `signed` says whether the miner's own signature
 * covers the failing claim: only then is the answer evidence against that miner (a third party
 * can send anything unsigned or under someone else's name; it proves nothing).
 */
export type VisionVerdict =
  | { ok: true; signer: Address }
  | { ok: false; signed: boolean; reason: string; signer?: Address }

export type CheckVisionAnswerOptions = {
  /** The model's verification key (the circuit's vkey.json). */
  vkey: Parameters<typeof verifyDigitsProof>[0]
  /** The model's id on chain (visionModelId(vkey)). */
  modelId: Hex
  chainId?: number
  netuid?: number
  verifyingContract?: Address
  /** The pixels the caller sent: the answer must be for them. */
  pixels?: ArrayLike<number>
  /** The caller's nonce: the receipt must answer this call. */
  nonce?: Hex
  /** The miner the call went to. */
  miner?: Address
}

/**
 * Checks a vision answer from an untrusted source: shape, signature, binding to the call (chain,
 * subnet, model, pixels, nonce, miner), that label, scores and proof are the ones signed, that the
 * public signals are those of these pixels, scores and label, and last that the Groth16 proof
 * verifies. Never throws on bad input: returns a verdict naming the first failure.
 */
export async function checkVisionAnswer(
  answer: unknown,
  options: CheckVisionAnswerOptions,
): Promise<VisionVerdict> {
  const unsigned = (reason: string): VisionVerdict => ({ ok: false, signed: false, reason })
  if (typeof answer !== 'object' || answer === null) return unsigned('the answer is not an object')
  const a = answer as Partial<VisionAnswer>
  const r = a.receipt as SignedVisionReceipt | undefined
  let signer: Address
  try {
    if (typeof r !== 'object' || r === null) return unsigned('the answer has no receipt')
    if (typeof r.signature !== 'string') return unsigned('the receipt is not signed')
    signer = await recoverVisionReceiptSigner(r)
  } catch (error) {
    return unsigned(error instanceof ProofError ? error.shortMessage : 'the receipt is malformed')
  }
  if (!isAddressEqual(signer, r.minerHotkey))
    return unsigned(`the receipt is signed by ${signer}, not its minerHotkey ${r.minerHotkey}`)
  // From here on the miner signed the receipt; a mismatch of the call's binding is still not
  // evidence (someone may replay the miner's genuine receipt for another call), but a receipt
  // whose own proof or signals refute it is.
  const notForCall = (reason: string): VisionVerdict => ({
    ok: false,
    signed: false,
    reason,
    signer,
  })
  if (options.chainId !== undefined && r.chainId !== options.chainId)
    return notForCall(`the receipt is for chain ${r.chainId}, expected ${options.chainId}`)
  if (options.netuid !== undefined && r.netuid !== options.netuid)
    return notForCall(`the receipt is for subnet ${r.netuid}, expected ${options.netuid}`)
  if (
    options.verifyingContract !== undefined &&
    !isAddressEqual(r.verifyingContract, options.verifyingContract)
  )
    return notForCall(`the receipt is for the Verity contract ${r.verifyingContract}`)
  if (r.modelId.toLowerCase() !== options.modelId.toLowerCase())
    return notForCall(`the receipt is for model ${r.modelId}, expected ${options.modelId}`)
  if (options.nonce !== undefined && r.nonce.toLowerCase() !== options.nonce.toLowerCase())
    return notForCall("the receipt's nonce is not the call's")
  if (options.miner !== undefined && !isAddressEqual(options.miner, r.minerHotkey))
    return notForCall('the receipt is signed by another hotkey than the call went to')
  if (options.pixels !== undefined) {
    try {
      if (visionInputHash(options.pixels) !== r.inputHash.toLowerCase())
        return notForCall('the receipt is for another input than the one sent')
    } catch {
      return notForCall('the pixels sent are malformed')
    }
  }
  const refuted = (reason: string): VisionVerdict => ({ ok: false, signed: true, reason, signer })
  let pixelsHash: Hex
  try {
    checkPixels(a.pixels ?? [])
    pixelsHash = visionInputHash(a.pixels as number[])
  } catch {
    return notForCall("the answer's pixels are malformed")
  }
  if (pixelsHash !== r.inputHash.toLowerCase())
    return notForCall("the answer's pixels are not the receipt's input")
  if (a.label !== r.label) return notForCall("the answer's label is not the signed one")
  let scoresPacked: bigint
  try {
    if (!Array.isArray(a.scores) || a.scores.length !== CLASSES) throw new Error()
    scoresPacked = packScores(a.scores)
  } catch {
    return notForCall("the answer's scores are malformed")
  }
  if (scoresPacked.toString() !== r.scoresPacked)
    return notForCall("the answer's scores are not the signed ones")
  let hash: Hex
  try {
    hash = proofHash(a.proof as Groth16Proof)
  } catch {
    return notForCall('the proof is malformed')
  }
  if (hash !== r.proofHash.toLowerCase()) return notForCall('the proof is not the signed one')
  // The miner signed this proof for this input, label and scores: if the proof does not verify
  // for exactly those public signals, its own signature convicts it.
  const expected = publicSignals({
    pixelsPacked: packPixels(a.pixels as number[]),
    scoresPacked,
    label: r.label,
  })
  const sent = a.publicSignals
  if (
    !Array.isArray(sent) ||
    sent.length !== expected.length ||
    sent.some((s, i) => s !== expected[i])
  )
    return refuted('the public signals are not those of the signed input, scores and label')
  try {
    parsePublicSignals(sent)
  } catch {
    return refuted('the public signals are out of range')
  }
  if (!(await verifyDigitsProof(options.vkey, expected, a.proof as Groth16Proof)))
    return refuted('the proof does not verify for the signed input, scores and label')
  return { ok: true, signer }
}

const HEX32 = /^0x[0-9a-fA-F]{64}$/
const ADDRESS = /^0x[0-9a-fA-F]{40}$/
const uint = (v: unknown, max: number) =>
  typeof v === 'number' && Number.isSafeInteger(v) && v >= 0 && v <= max

/** Shape checks on an untrusted vision receipt (a JSON file, a network frame). */
export function assertVisionReceiptFields(value: unknown): asserts value is VisionReceipt {
  const bad = (field: string): never => {
    throw new ProofError(`vision receipt field '${field}' is missing or malformed`)
  }
  if (typeof value !== 'object' || value === null) throw new ProofError('receipt is not an object')
  const r = value as Record<string, unknown>
  if (!uint(r.chainId, Number.MAX_SAFE_INTEGER)) bad('chainId')
  if (!uint(r.netuid, 0xffff)) bad('netuid')
  for (const k of ['modelId', 'inputHash', 'proofHash', 'nonce'])
    if (typeof r[k] !== 'string' || !HEX32.test(r[k] as string)) bad(k)
  if (!uint(r.label, CLASSES - 1)) bad('label')
  if (typeof r.scoresPacked !== 'string' || !/^[0-9]{1,78}$/.test(r.scoresPacked))
    bad('scoresPacked')
  if (typeof r.minerHotkey !== 'string' || !ADDRESS.test(r.minerHotkey)) bad('minerHotkey')
  if (typeof r.verifyingContract !== 'string' || !ADDRESS.test(r.verifyingContract))
    bad('verifyingContract')
  if (!uint(r.issuedBlock, Number.MAX_SAFE_INTEGER)) bad('issuedBlock')
  if (
    'signature' in r &&
    (typeof r.signature !== 'string' || !/^0x[0-9a-fA-F]+$/.test(r.signature))
  )
    bad('signature')
  getAddress(r.minerHotkey as string)
}
