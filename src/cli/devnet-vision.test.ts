import { bytesToHex } from 'viem'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { getVisionSubnet } from '../chain/actions/getVisionSubnet.ts'
import { type Devnet, startDevnet } from '../chain/devnet.ts'
import { checkVisionAnswer } from '../vision/answer.ts'
import { loadDigitsCircuit } from '../vision/prover.ts'
import {
  DevnetVision,
  DIGITS_CIRCUIT_DIR,
  VISION_ACCOUNTS,
  type VisionReport,
} from './devnet-vision.ts'

/**
 * The vision subnet of `verity devnet --vision`, in process on a real anvil with real libp2p
 * nodes and real proofs: the subnet is bound on chain to the digits model; two epochs later the
 * honest miner earns and the invalid-proof miner earns nothing, with evidence kept against it;
 * the exposed remote miners answer over /verity/classify/1.
 */
let devnet: Devnet
let vision: DevnetVision
let report: VisionReport
const vkey = loadDigitsCircuit(DIGITS_CIRCUIT_DIR).vkey

beforeAll(async () => {
  devnet = await startDevnet({ accounts: 1 + VISION_ACCOUNTS })
  vision = await DevnetVision.start(devnet, {
    accounts: Array.from({ length: VISION_ACCOUNTS }, (_, i) => 1 + i),
  })
  await vision.epoch()
  await vision.epoch()
  report = await vision.report()
}, 180_000)

afterAll(async () => {
  await vision?.stop()
  await devnet?.stop()
})

describe('DevnetVision', () => {
  it('binds its subnet to the digits model on chain', async () => {
    const bound = await getVisionSubnet(devnet.publicClient, {
      address: vision.contracts.vision,
      netuid: vision.netuid,
    })
    expect(bound.answers).toBe(vision.contracts.answers)
    expect(bound.modelId).toBe(vision.modelId)
    expect(bound.declaredAt).toBeGreaterThan(0n)
  })

  it('pays the honest miner and not the one sending invalid proofs', () => {
    const [honest, cheater] = report.miners
    expect(honest).toMatchObject({ task: 'vision', cheater: false, invalidProofs: 0, evidence: 0 })
    expect(cheater).toMatchObject({ task: 'vision', cheater: true, validProofs: 0 })
    // 2 validators x 2 images x 2 epochs, less any call a loaded machine let time out
    expect(honest!.validProofs).toBeGreaterThanOrEqual(6)
    expect(honest!.validProofs).toBeLessThanOrEqual(8)
    expect(cheater!.invalidProofs).toBeGreaterThanOrEqual(6)
    expect(cheater!.invalidProofs).toBeLessThanOrEqual(8)
    // every invalid answer was signed by the cheater: each is evidence
    expect(cheater!.evidence).toBe(cheater!.invalidProofs)
    expect(BigInt(honest!.emission)).toBeGreaterThan(0n)
    expect(cheater!.emission).toBe('0')
    expect(cheater!.emissionByEpoch).toEqual(['0', '0'])
    expect(honest!.emissionByEpoch).toHaveLength(2)
  })

  it('gives the weights to the honest miner only at every validator', () => {
    for (const v of vision.validators) {
      const byUid = Object.fromEntries(v.lastEpoch!.miners.map((m) => [m.uid, m.weight]))
      expect(byUid[report.miners[0]!.uid]).toBe(65_535)
      expect(byUid[report.miners[1]!.uid]).toBe(0)
      expect(v.lastEpoch!.weightsSet).toBe(true)
    }
  })

  it('exposes the miners as remote clients whose answers check (or convict)', async () => {
    const [honest, cheater] = vision.visionMiners()
    const pixels = Array.from({ length: 64 }, (_, i) => (i * 5) % 17)
    const opts = (nonce: `0x${string}`, miner: `0x${string}`) => ({
      vkey,
      modelId: vision.modelId,
      chainId: devnet.chain.id,
      netuid: vision.netuid,
      pixels,
      nonce,
      miner,
    })
    const n1 = bytesToHex(crypto.getRandomValues(new Uint8Array(32)))
    const a = await honest!.classify(pixels, { nonce: n1 })
    expect((await checkVisionAnswer(a, opts(n1, honest!.hotkey))).ok).toBe(true)
    // the receipt names the chain's height, give or take the second it is followed at
    const height = await devnet.publicClient.getBlockNumber({ cacheTime: 0 })
    expect(a.receipt.issuedBlock).toBeGreaterThan(0)
    expect(BigInt(a.receipt.issuedBlock)).toBeLessThanOrEqual(height)
    const n2 = bytesToHex(crypto.getRandomValues(new Uint8Array(32)))
    const b = await cheater!.classify(pixels, { nonce: n2 })
    expect(await checkVisionAnswer(b, opts(n2, cheater!.hotkey))).toMatchObject({
      ok: false,
      signed: true,
    })
  })
})
