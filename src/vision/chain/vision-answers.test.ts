import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import {
  type Address,
  decodeEventLog,
  encodeAbiParameters,
  encodeFunctionData,
  type Hex,
  keccak256,
  toHex,
} from 'viem'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { digitsVerifierAbi, visionAnswersAbi } from '../../chain/abis.ts'
import { revertName } from '../../chain/payments-fixture.ts'
import { startTestChain, type TestChain, type Wallet } from '../../chain/test-chain.ts'
import { readDigits, splitDigits } from '../dataset.ts'
import { type DigitsModel, parseDigitsModel } from '../model.ts'
import { visionModelId } from '../model-id.ts'
import {
  type DigitsCircuit,
  type DigitsProof,
  loadDigitsCircuit,
  proveDigits,
  stopProver,
  verifierArgs,
} from '../prover.ts'
import { FIELD_P } from '../witness.ts'
import { deployVisionAnswers } from './deployVisionAnswers.ts'
import { submitVisionAnswer } from './submitVisionAnswer.ts'

/**
 * The snarkjs-exported verifier and VisionAnswers on a real anvil: real proofs of held-out images
 * verify and are recorded with their prover; a proof with any public input changed, with another
 * image's signals, with a proof element swapped or out of the field, is refused and records
 * nothing. Reports verifyProof's gas. CI proves the first 5 held-out images;
 * `npm run test:vision-all` (VERITY_VISION_ALL=1) proves every one of them and checks each on chain.
 */
const root = join(import.meta.dirname, '../../..')
let t: TestChain
let model: DigitsModel
let circuit: DigitsCircuit
let verifier: Address
let answers: Address
let alice: Wallet
let bob: Wallet
const proofs: DigitsProof[] = []
const test = splitDigits(readDigits()).test

beforeAll(async () => {
  model = parseDigitsModel(JSON.parse(readFileSync(join(root, 'models/digits.json'), 'utf8')))
  circuit = loadDigitsCircuit(join(root, 'circuits/build/digits'))
  const n = process.env.VERITY_VISION_ALL === '1' ? test.length : 5
  for (const s of test.slice(0, n)) proofs.push(await proveDigits(circuit, model, s.pixels))
  console.log(`${proofs.length} held-out images proven`)
  t = await startTestChain({ keys: 2, tag: 'vision' })
  ;[alice, bob] = t.keys as [Wallet, Wallet]
  ;({ verifier, answers } = await deployVisionAnswers(t.devnet.publicClient, t.owner, {
    modelId: visionModelId(circuit.vkey),
  }))
}, 1_800_000)

afterAll(async () => {
  await t?.stop()
  await stopProver()
})

const verifyOnChain = async (p: { proof: DigitsProof['proof']; publicSignals: string[] }) =>
  (await t.devnet.publicClient.readContract({
    address: verifier,
    abi: digitsVerifierAbi,
    functionName: 'verifyProof',
    args: verifierArgs(p.proof, p.publicSignals) as never,
  })) as boolean

const inputHash = (signals: string[]) =>
  keccak256(
    encodeAbiParameters(
      [{ type: 'uint256' }, { type: 'uint256' }],
      [BigInt(signals[0] as string), BigInt(signals[1] as string)],
    ),
  )

const count = async () =>
  (await t.devnet.publicClient.readContract({
    address: answers,
    abi: visionAnswersAbi,
    functionName: 'answerCount',
  })) as bigint

describe('DigitsVerifier', () => {
  it('accepts real proofs, and reports verifyProof gas', async () => {
    for (const p of proofs) expect(await verifyOnChain(p)).toBe(true)
    const p = proofs[0] as DigitsProof
    // measured as a transaction: estimateGas would undercut it, since the verifier answers false
    // (without reverting) when its precompile calls run out of gas
    const data = encodeFunctionData({
      abi: digitsVerifierAbi,
      functionName: 'verifyProof',
      args: verifierArgs(p.proof, p.publicSignals) as never,
    })
    // a raw transaction with an explicit gas limit, from an impersonated account
    await t.rpc('anvil_impersonateAccount', [alice.account.address])
    const hash = (await t.rpc('eth_sendTransaction', [
      { from: alice.account.address, to: verifier, data, gas: toHex(1_000_000) },
    ])) as Hex
    const receipt = await t.devnet.publicClient.waitForTransactionReceipt({
      hash,
      pollingInterval: 20,
    })
    await t.rpc('anvil_stopImpersonatingAccount', [alice.account.address])
    const gas = receipt.gasUsed
    const calldata = BigInt(
      [...Buffer.from(data.slice(2), 'hex')].reduce((sum, b) => sum + (b === 0 ? 4 : 16), 0),
    )
    console.log(
      `verifyProof gas: ${gas} in a transaction (${gas - 21_000n - calldata} execution, ${calldata} calldata, 21000 base); ${(data.length - 2) / 2} bytes of calldata`,
    )
    // the pairing alone costs 45,000 + 4 * 34,000 (EIP-1108)
    expect(gas).toBeGreaterThan(181_000n)
    expect(gas).toBeLessThan(400_000n)
  })

  it('refuses any changed public input, other signals, swapped or out-of-field elements', async () => {
    const p = proofs[0] as DigitsProof
    for (let i = 0; i < 4; i++) {
      const changed = [...p.publicSignals]
      changed[i] = ((BigInt(changed[i] as string) + 1n) % FIELD_P).toString()
      expect(await verifyOnChain({ proof: p.proof, publicSignals: changed })).toBe(false)
    }
    const other = proofs[1] as DigitsProof
    expect(await verifyOnChain({ proof: p.proof, publicSignals: other.publicSignals })).toBe(false)
    expect(
      await verifyOnChain({
        proof: { ...p.proof, pi_c: other.proof.pi_c },
        publicSignals: p.publicSignals,
      }),
    ).toBe(false)
    const big = [...p.publicSignals]
    big[0] = (BigInt(big[0] as string) + FIELD_P).toString()
    expect(await verifyOnChain({ proof: p.proof, publicSignals: big })).toBe(false)
  })
})

describe('VisionAnswers', () => {
  it('records a verified answer with its prover and emits the event', async () => {
    const p = proofs[2] as DigitsProof
    const { receipt } = await submitVisionAnswer(alice, {
      address: answers,
      proof: p.proof,
      publicSignals: p.publicSignals,
    })
    console.log(`VisionAnswers.submit gas (first answer): ${receipt.gasUsed}`)
    const h = inputHash(p.publicSignals)
    const stored = (await t.devnet.publicClient.readContract({
      address: answers,
      abi: visionAnswersAbi,
      functionName: 'answers',
      args: [h],
    })) as readonly [Address, number, bigint, bigint]
    expect(stored[0]).toBe(alice.account.address)
    expect(stored[1]).toBe(p.label)
    expect(stored[3]).toBe(BigInt(p.publicSignals[2] as string))
    const logs = receipt.logs.map((l) => decodeEventLog({ abi: visionAnswersAbi, ...l }))
    expect(logs).toHaveLength(1)
    expect(logs[0]?.eventName).toBe('AnswerVerified')
    expect(logs[0]?.args).toMatchObject({
      modelId: visionModelId(circuit.vkey),
      inputHash: h,
      label: p.label,
      prover: alice.account.address,
    })
    // a second prover of the same input: event, but the first record stays
    const again = await submitVisionAnswer(bob, {
      address: answers,
      proof: p.proof,
      publicSignals: p.publicSignals,
    })
    expect(again.receipt.logs).toHaveLength(1)
    expect(await count()).toBe(1n)
  })

  it('refuses tampered submissions by name and records nothing', async () => {
    const p = proofs[3] as DigitsProof
    const before = await count()
    const submit = (publicSignals: string[], proof = p.proof) =>
      revertName(submitVisionAnswer(bob, { address: answers, proof, publicSignals }))
    const wrongLabel = [...p.publicSignals]
    wrongLabel[3] = String((p.label + 1) % 10)
    expect(await submit(wrongLabel)).toBe('InvalidProof')
    const wrongScores = [...p.publicSignals]
    wrongScores[2] = (BigInt(wrongScores[2] as string) + 1n).toString()
    expect(await submit(wrongScores)).toBe('InvalidProof')
    const otherInput = [...p.publicSignals]
    otherInput[0] = (proofs[4] as DigitsProof).publicSignals[0] as string
    expect(await submit(otherInput)).toBe('InvalidProof')
    const label10 = [...p.publicSignals]
    label10[3] = '10'
    expect(await submit(label10)).toBe('LabelOutOfRange')
    expect(await submit(p.publicSignals, (proofs[4] as DigitsProof).proof)).toBe('InvalidProof')
    expect(await count()).toBe(before)
    const stored = (await t.devnet.publicClient.readContract({
      address: answers,
      abi: visionAnswersAbi,
      functionName: 'answers',
      args: [inputHash(p.publicSignals)],
    })) as readonly [Address, number, bigint, bigint]
    expect(stored[0]).toBe('0x0000000000000000000000000000000000000000')
  })
})
