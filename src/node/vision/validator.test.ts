import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Address, Hex } from 'viem'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { getWeights } from '../../chain/actions/getWeights.ts'
import { serveNode } from '../../chain/actions/serveNode.ts'
import { type Devnet, startDevnet } from '../../chain/devnet.ts'
import { deployVisionSubnets } from '../../chain/vision-subnets.ts'
import { PeerUnavailableError } from '../../errors/node.ts'
import type { VisionAnswer } from '../../vision/answer.ts'
import { deployVisionAnswers } from '../../vision/chain/deployVisionAnswers.ts'
import { LocalVisionMiner, type VisionMiner } from '../../vision/local-miner.ts'
import { parseDigitsModel } from '../../vision/model.ts'
import { visionModelId } from '../../vision/model-id.ts'
import { loadDigitsCircuit, stopProver } from '../../vision/prover.ts'
import { readNeurons } from '../chain.ts'
import { createPeer, peerIdToBytes } from '../peer.ts'
import { RemoteVisionMiner } from './client.ts'
import { VisionEvidenceStore } from './evidence-store.ts'
import { setupVisionSubnet } from './subnet.ts'
import { VisionValidator, type VisionValidatorInit } from './validator.ts'

/**
 * A vision validator on a real anvil with the real prover, against five kinds of miner: honest;
 * signing a wrong label (its own receipt convicts it: evidence, weight 0); replaying another
 * call's genuine answer (not for this call: weight 0, but no evidence: nothing it signed is
 * false); unreachable (availability 0); answering garbage. Only the honest miner gets weight on
 * chain. The image draw is secret and reproducible; the evidence store keeps one record a nonce
 * and survives a reopen.
 */
const root = join(import.meta.dirname, '../../..')
const circuit = loadDigitsCircuit(join(root, 'circuits/build/digits'))
const model = parseDigitsModel(JSON.parse(readFileSync(join(root, 'models/digits.json'), 'utf8')))
const modelId = visionModelId(circuit.vkey)
const dir = mkdtempSync(join(tmpdir(), 'verity-vision-validator-'))
let devnet: Devnet
let netuid: number
let validator: VisionValidator
let init: VisionValidatorInit
let store: VisionEvidenceStore
const roles = ['honest', 'wrong-label', 'replayer', 'unreachable', 'garbage'] as const
const hotkeys = new Map<string, (typeof roles)[number]>()
const published = new Map<string, string>()

beforeAll(async () => {
  devnet = await startDevnet({ accounts: 1 + roles.length + 1 })
  const owner = devnet.walletClients[0]!
  const address = devnet.addresses.verity
  const vision = await deployVisionSubnets(devnet.publicClient, owner, { core: address })
  const { answers } = await deployVisionAnswers(devnet.publicClient, owner, { modelId })
  netuid = await setupVisionSubnet(devnet, {
    vision,
    answers,
    modelId,
    vkeyJson: readFileSync(join(root, 'circuits/build/digits/vkey.json'), 'utf8'),
    miners: roles.map((_, i) => devnet.walletClients[1 + i]!),
    validators: [devnet.walletClients[1 + roles.length]!],
  })
  const base = {
    model,
    circuit,
    chainId: devnet.chain.id,
    netuid,
    verifyingContract: address,
    blockNumber: () => 1,
  }
  const miners = new Map<string, VisionMiner>()
  let replayed: VisionAnswer | undefined
  for (const [i, role] of roles.entries()) {
    const account = devnet.accounts[1 + i]!
      .account as never as LocalVisionMiner['options']['account']
    hotkeys.set(account.address.toLowerCase(), role)
    // every miner publishes a node (a peer id nobody serves: the validator reaches them in process)
    const peer = await createPeer()
    await serveNode(devnet.walletClients[1 + i]!, {
      address,
      netuid,
      peerId: peerIdToBytes(peer.peerId),
      multiaddrs: peer.getMultiaddrs().map(String),
    })
    published.set(account.address.toLowerCase(), peer.peerId.toString())
    await peer.stop()
    const honest = new LocalVisionMiner({ ...base, account })
    const miner: VisionMiner =
      role === 'honest'
        ? honest
        : role === 'wrong-label'
          ? new LocalVisionMiner({ ...base, account, cheat: 'wrong-label' })
          : {
              hotkey: account.address,
              classify: async (pixels) => {
                if (role === 'unreachable') throw new PeerUnavailableError('cannot reach it')
                if (role === 'garbage') return { label: 3 } as unknown as VisionAnswer
                // a genuine answer of its own, made once for another call, sent for every call
                replayed ??= await honest.classify(pixels, { nonce: `0x${'77'.repeat(32)}` })
                return replayed
              },
            }
    miners.set(account.address.toLowerCase(), miner)
  }
  store = new VisionEvidenceStore(join(dir, 'evidence.db'))
  init = {
    publicClient: devnet.publicClient,
    walletClient: devnet.walletClients[1 + roles.length]!,
    address,
    netuid,
    chainId: devnet.chain.id,
    vkey: circuit.vkey,
    modelId,
    images: [],
    perEpoch: 2,
    secret: `0x${'5e'.repeat(32)}`,
    minerFor: (n) => miners.get(n.hotkey.toLowerCase()),
    store,
  }
  validator = new VisionValidator(init)
}, 180_000)

afterAll(async () => {
  store?.close()
  await devnet?.stop()
  await stopProver()
  rmSync(dir, { recursive: true, force: true })
})

const byRole = (e: Awaited<ReturnType<VisionValidator['epoch']>>) =>
  Object.fromEntries(e.miners.map((m) => [hotkeys.get(m.hotkey.toLowerCase())!, m]))

describe('VisionValidator', () => {
  it('weighs the honest miner only, and keeps evidence only of what a miner signed falsely', async () => {
    const e = await validator.epoch()
    const r = byRole(e)
    expect(e.miners).toHaveLength(roles.length)
    expect(r.honest).toMatchObject({ sent: 2, answered: 2, valid: 2, convicted: 0, weight: 65_535 })
    expect(r['wrong-label']).toMatchObject({ valid: 0, invalid: 2, convicted: 2, weight: 0 })
    expect(r.replayer).toMatchObject({ answered: 2, valid: 0, invalid: 2, convicted: 0, weight: 0 })
    expect(r.replayer!.reason).toMatch(/another input|nonce/)
    expect(r.unreachable).toMatchObject({ answered: 0, valid: 0, weight: 0 })
    expect(r.unreachable!.reason).toMatch(/cannot reach/)
    expect(r.garbage).toMatchObject({ answered: 2, valid: 0, convicted: 0, weight: 0 })
    expect(e.weightsSet).toBe(true)
    // a second epoch: the same outcome, the evidence adds up
    expect(byRole(await validator.epoch()).honest!.weight).toBe(65_535)
    const evidence = store.list()
    expect(evidence.length).toBe(4)
    expect(new Set(evidence.map((x) => hotkeys.get(x.miner)))).toEqual(new Set(['wrong-label']))
    expect(evidence[0]!.answer).toMatchObject({ receipt: { minerHotkey: expect.any(String) } })
    const totals = validator.totals.get(r.honest!.hotkey.toLowerCase())
    expect(totals).toEqual({ valid: 4, invalid: 0, convicted: 0 })
  }, 120_000)

  it('sets weights on chain for the honest uid only', async () => {
    const e = validator.lastEpoch!
    const neurons = await readNeurons({
      publicClient: devnet.publicClient,
      address: devnet.addresses.verity,
      netuid,
    })
    const me = neurons.find((n) => n.hotkey.toLowerCase() === validator.hotkey.toLowerCase())!
    const row = await getWeights(devnet.publicClient, {
      address: devnet.addresses.verity,
      netuid,
      uid: me.uid,
    })
    const honestUid = byRole(e).honest!.uid
    expect(
      JSON.parse(JSON.stringify(row, (_, v) => (typeof v === 'bigint' ? Number(v) : v))),
    ).toEqual([[honestUid], [65_535]])
  })

  it('draws images secretly and reproducibly', () => {
    const a = '0x00000000000000000000000000000000000000a1' as Address
    const b = '0x00000000000000000000000000000000000000b2' as Address
    const img = validator.imageFor(3n, a, 0)
    expect(img).toHaveLength(64)
    expect(img.every((p) => Number.isInteger(p) && p >= 0 && p <= 16)).toBe(true)
    expect(validator.imageFor(3n, a, 0)).toEqual(img)
    for (const other of [
      validator.imageFor(4n, a, 0),
      validator.imageFor(3n, b, 0),
      validator.imageFor(3n, a, 1),
    ])
      expect(other).not.toEqual(img)
    const pool = [[...img], img.map((p) => 16 - p)]
    const other = (secret: Hex) => new VisionValidator({ ...init, images: pool, secret })
    const draws = (secret: Hex) =>
      Array.from({ length: 16 }, (_, k) => JSON.stringify(other(secret).imageFor(1n, a, k)))
    // from the pool only, and a different secret draws differently
    for (const d of draws(`0x${'01'.repeat(32)}`))
      expect(pool.map((p) => JSON.stringify(p))).toContain(d)
    expect(draws(`0x${'01'.repeat(32)}`)).not.toEqual(draws(`0x${'02'.repeat(32)}`))
  })

  it('keeps one evidence record a nonce, across a reopen', () => {
    const before = store.list().length
    const e = store.list()[0]!
    expect(store.add({ ...e, reason: 'again' })).toBe(false)
    store.close()
    store = new VisionEvidenceStore(join(dir, 'evidence.db'))
    expect(store.list()).toHaveLength(before)
    expect(store.list(e.miner)).toHaveLength(before)
    expect(store.list('0x00000000000000000000000000000000000000ff')).toEqual([])
  })

  it('finds a miner by its node on chain, and refuses a hotkey that published none', async () => {
    const peer = await createPeer()
    try {
      const params = {
        peer,
        caller: devnet.accounts[0]!.account as never,
        address: devnet.addresses.verity,
        netuid,
      }
      const [hotkey, peerId] = [...published][0]!
      const found = await RemoteVisionMiner.fromChain(devnet.publicClient, {
        ...params,
        hotkey: hotkey as Address,
      })
      expect(found.peerId).toBe(peerId)
      expect(found.hotkey).toBe(hotkey)
      await expect(
        RemoteVisionMiner.fromChain(devnet.publicClient, { ...params, hotkey: validator.hotkey }),
      ).rejects.toBeInstanceOf(PeerUnavailableError)
      // its node is gone: the call fails as unreachable, it does not hang
      await expect(
        found.classify(new Array(64).fill(1), { nonce: `0x${'99'.repeat(32)}` }),
      ).rejects.toBeInstanceOf(PeerUnavailableError)
    } finally {
      await peer.stop()
    }
  })
})
