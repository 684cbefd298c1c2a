import { type Address, type Hex, keccak256, toHex, zeroAddress, zeroHash } from 'viem'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { deployVisionAnswers } from '../vision/chain/deployVisionAnswers.ts'
import { declareVisionSubnet } from './actions/declareVisionSubnet.ts'
import { getVisionSubnet } from './actions/getVisionSubnet.ts'
import { formatDeployment, parseDeployment } from './deployment.ts'
import { devnetDeployment } from './devnet.ts'
import { revertArgs, revertName } from './payments-fixture.ts'
import { startTestChain, type TestChain, type Wallet } from './test-chain.ts'
import { deployVisionSubnets } from './vision-subnets.ts'

/**
 * VisionSubnets on a real anvil: the subnet owner binds its subnet to a VisionAnswers (and so to
 * that contract's model) once, before the first epoch, while the subnet is live. Every refusal
 * names its custom error and changes nothing.
 */
let t: TestChain
let vision: Address
let answers: Address
let owner: Wallet
let alice: Wallet
let netuid: number
const MODEL_ID = keccak256(toHex('digits vkey'))

beforeAll(async () => {
  t = await startTestChain({ keys: 2, tag: 'vision-subnets' })
  owner = t.owner
  ;[alice] = t.keys as [Wallet]
  vision = await deployVisionSubnets(t.devnet.publicClient, owner, { core: t.verity })
  ;({ answers } = await deployVisionAnswers(t.devnet.publicClient, owner, { modelId: MODEL_ID }))
  netuid = await t.subnet()
  snapshot = (await t.rpc('evm_snapshot')) as Hex
}, 120_000)

afterAll(async () => {
  await t?.stop()
})

let snapshot: Hex
beforeEach(async () => {
  const height = await t.devnet.publicClient.getBlockNumber({ cacheTime: 0 })
  await t.rpc('evm_revert', [snapshot])
  const back = await t.devnet.publicClient.getBlockNumber({ cacheTime: 0 })
  await t.mine(height - back + 1n)
  snapshot = (await t.rpc('evm_snapshot')) as Hex
})

const declare = (w: Wallet, n = netuid, a = answers) =>
  declareVisionSubnet(w, { address: vision, netuid: n, answers: a })
const read = (n = netuid) => getVisionSubnet(t.devnet.publicClient, { address: vision, netuid: n })
const refused = async (p: () => Promise<unknown>, name: string) => {
  const before = JSON.stringify(await read(), (_, v) => (typeof v === 'bigint' ? `${v}` : v))
  expect(await revertName(p())).toBe(name)
  expect(JSON.stringify(await read(), (_, v) => (typeof v === 'bigint' ? `${v}` : v))).toBe(before)
}

describe('declaring a vision subnet', () => {
  it('binds the subnet to the answers contract and its model, from the owner', async () => {
    expect(await read()).toEqual({ answers: zeroAddress, modelId: zeroHash, declaredAt: 0n })
    const { receipt } = await declare(owner)
    expect(await read()).toEqual({ answers, modelId: MODEL_ID, declaredAt: receipt.blockNumber })
    expect(receipt.logs.some((l) => l.address.toLowerCase() === vision.toLowerCase())).toBe(true)
  })

  it('refuses anyone but the owner, naming caller and owner', async () => {
    await refused(() => declare(alice), 'NotSubnetOwner')
    expect(await revertArgs(declare(alice))).toEqual([
      netuid,
      alice.account.address,
      owner.account.address,
    ])
  })

  it('refuses a second declaration, even to the same contract', async () => {
    await declare(owner)
    const { answers: other } = await deployVisionAnswers(t.devnet.publicClient, owner, {
      modelId: keccak256(toHex('another model')),
    })
    await refused(() => declare(owner, netuid, other), 'AlreadyDeclared')
    await refused(() => declare(owner), 'AlreadyDeclared')
    expect((await read()).answers).toBe(answers)
  })

  it('refuses a subnet whose first epoch has run', async () => {
    await t.epoch(netuid)
    await refused(() => declare(owner), 'SubnetAlreadyStarted')
  })

  it('refuses an unknown netuid and a dissolved subnet', async () => {
    expect(await revertName(declare(owner, 99))).toBe('SubnetNotFound')
    expect((await read(99)).declaredAt).toBe(0n)
    await t.write(owner, 'dissolveSubnet', [netuid])
    await refused(() => declare(owner), 'SubnetDissolved')
  })

  it('refuses an answers address with no code, or a contract for no model', async () => {
    await refused(() => declare(owner, netuid, alice.account.address), 'InvalidParam')
    const { answers: blank } = await deployVisionAnswers(t.devnet.publicClient, owner, {
      modelId: zeroHash,
    })
    await refused(() => declare(owner, netuid, blank), 'InvalidParam')
  })
})

describe('the deployment manifest', () => {
  it('carries the optional vision address, and parses without it', () => {
    const with_ = devnetDeployment(t.devnet, undefined, undefined, undefined, undefined, vision)
    const parsed = parseDeployment(formatDeployment(with_), 'test')
    expect(parsed.contracts.vision).toBe(vision)
    const without = parseDeployment(formatDeployment(devnetDeployment(t.devnet)), 'test')
    expect(without.contracts.vision).toBeUndefined()
    const bad = JSON.parse(formatDeployment(with_))
    bad.contracts.vision = '0x1234'
    expect(() => parseDeployment(JSON.stringify(bad), 'bad')).toThrow(/vision/)
  })
})
