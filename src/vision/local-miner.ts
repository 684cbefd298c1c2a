import type { Address, Hex } from 'viem'
import type { LocalAccount } from 'viem/accounts'
import {
  proofHash,
  type SignedVisionReceipt,
  signVisionReceipt,
  type VisionAnswer,
  visionInputHash,
} from './answer.ts'
import { classifyDigits } from './classify.ts'
import type { DigitsModel } from './model.ts'
import { visionModelId } from './model-id.ts'
import { type DigitsCircuit, type Groth16Proof, proveDigits } from './prover.ts'
import { packPixels, packScores, publicSignals } from './public-signals.ts'

/** Anything that answers a classification with a proof: a local prover, a remote miner. */
export interface VisionMiner {
  readonly hotkey: Address
  classify(pixels: number[], options: { nonce: Hex; signal?: AbortSignal }): Promise<VisionAnswer>
}

/**
 * How a dishonest miner cuts the cost of proving: `invalid-proof` classifies but sends a made-up
 * proof (it never runs the prover); `wrong-label` proves nothing and claims label + 1. Both sign
 * what they send, so their own receipts convict them.
 */
export type VisionCheatMode = 'invalid-proof' | 'wrong-label'

export type LocalVisionMinerOptions = {
  account: LocalAccount
  model: DigitsModel
  circuit: DigitsCircuit
  chainId: number
  netuid: number
  verifyingContract: Address
  blockNumber: () => number | bigint
  cheat?: VisionCheatMode
}

/**
 * A vision miner in this process: the integer classifier, the Groth16 prover, the hotkey that
 * signs. The gateway serves it directly; a node serves it over libp2p.
 */
export class LocalVisionMiner implements VisionMiner {
  readonly hotkey: Address
  readonly modelId: Hex
  constructor(readonly options: LocalVisionMinerOptions) {
    this.hotkey = options.account.address
    this.modelId = visionModelId(options.circuit.vkey)
  }

  async classify(
    pixels: number[],
    { nonce, signal }: { nonce: Hex; signal?: AbortSignal },
  ): Promise<VisionAnswer> {
    const { model, circuit, cheat } = this.options
    let label: number
    let scores: number[]
    let proof: Groth16Proof
    let signals: string[]
    if (cheat === undefined) {
      const proven = await proveDigits(circuit, model, pixels, signal ? { signal } : {})
      ;({ label, scores, proof } = proven)
      signals = proven.publicSignals
    } else {
      const result = classifyDigits(model, pixels)
      scores = result.scores
      label = cheat === 'wrong-label' ? (result.label + 1) % 10 : result.label
      proof = madeUpProof()
      signals = publicSignals({
        pixelsPacked: packPixels(pixels),
        scoresPacked: packScores(scores),
        label,
      })
    }
    const receipt: SignedVisionReceipt = await signVisionReceipt(this.options.account, {
      chainId: this.options.chainId,
      netuid: this.options.netuid,
      verifyingContract: this.options.verifyingContract,
      modelId: this.modelId,
      inputHash: visionInputHash(pixels),
      label,
      scoresPacked: packScores(scores).toString(),
      proofHash: proofHash(proof),
      minerHotkey: this.hotkey,
      issuedBlock: Number(this.options.blockNumber()),
      nonce,
    })
    return { pixels: [...pixels], label, scores, proof, publicSignals: signals, receipt }
  }
}

/** Curve points that are well formed but prove nothing (the BN254 generators). */
function madeUpProof(): Groth16Proof {
  return {
    pi_a: ['1', '2', '1'],
    pi_b: [
      [
        '10857046999023057135944570762232829481370756359578518086990519993285655852781',
        '11559732032986387107991004021392285783925812861821192530917403151452391805634',
      ],
      [
        '8495653923123431417604973247489272438418190587263600148770280649306958101930',
        '4082367875863433681332203403145435568316851327593401208105741076214120093531',
      ],
      ['1', '0'],
    ],
    pi_c: ['1', '2', '1'],
    protocol: 'groth16',
    curve: 'bn128',
  } as Groth16Proof
}
