import { type Address, encodeFunctionData, type Hex, keccak256, toHex, zeroAddress } from 'viem'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { modelCompetitionAbi } from './abis.ts'
import { announceModel } from './actions/announceModel.ts'
import { commitModel } from './actions/commitModel.ts'
import { declareCompetition } from './actions/declareCompetition.ts'
import { getCompetition } from './actions/getCompetition.ts'
import { getModelCommit } from './actions/getModelCommit.ts'
import { getModelCommits } from './actions/getModelCommits.ts'
import { deployModelCompetition, modelCommitmentHash, writeCompetition } from './competition.ts'
import { formatDeployment, parseDeployment } from './deployment.ts'
import { devnetDeployment } from './devnet.ts'
import { waitMined } from './dispute.ts'
import { revertArgs, revertName } from './payments-fixture.ts'
import { startTestChain, type TestChain, type Wallet } from './test-chain.ts'

/**
 * ModelCompetition on a real anvil: declaration by the subnet owner only, once, before the first
 * epoch; commitments by registered hotkeys only, within the parameter limit; copies of another
 * hotkey's model recorded and flagged; re-commits; commitments racing in one block ordered by
 * transaction order. Every refusal names its custom error and changes nothing.
 */
let t: TestChain
let competition: Address
let owner: Wallet
let alice: Wallet
let bob: Wallet
let carol: Wallet
let stranger: Wallet
let netuid: number

const SPEC = keccak256(toHex('verity/eval/devnet/1'))
const RULES = { evalSpecHash: SPEC, maxParams: 2_000_000n, epsilonPpm: 5_000, minCommitAge: 2 }
const model = (n: number) => ({
  modelRoot: keccak256(toHex(`root ${n}`)),
  fileHash: keccak256(toHex(`file ${n}`)),
  size: 5_361_248n,
  params: 1_328_256n,
})

beforeAll(async () => {
  t = await startTestChain({ keys: 5, tag: 'competition' })
  owner = t.owner
  ;[alice, bob, carol, stranger] = t.keys as [Wallet, Wallet, Wallet, Wallet]
  competition = await deployModelCompetition(t.devnet.publicClient, owner, { core: t.verity })
  netuid = await t.subnet()
  for (const w of [alice, bob, carol]) await t.write(w, 'register', [netuid, 10n ** 24n])
  snapshot = (await t.rpc('evm_snapshot')) as Hex
}, 120_000)

afterAll(async () => {
  await t?.stop()
})

let snapshot: Hex
beforeEach(async () => {
  // back to the state after setup; keep the height growing (viem's pollers wait for higher blocks)
  const height = await t.devnet.publicClient.getBlockNumber({ cacheTime: 0 })
  await t.rpc('evm_revert', [snapshot])
  const back = await t.devnet.publicClient.getBlockNumber({ cacheTime: 0 })
  await t.mine(height - back + 1n)
  snapshot = (await t.rpc('evm_snapshot')) as Hex
})

const addr = (w: Wallet) => w.account.address
const declare = (w: Wallet, n = netuid, rules = RULES) =>
  declareCompetition(w, { address: competition, netuid: n, ...rules })
const commit = (w: Wallet, m = model(1), n = netuid) =>
  commitModel(w, { address: competition, netuid: n, ...m })
/** commitModel's calldata: the reveal of an announcement made with `salt`. */
const revealData = (m: ReturnType<typeof model>, salt: Hex) =>
  encodeFunctionData({
    abi: modelCompetitionAbi,
    functionName: 'commitModel',
    args: [netuid, m.modelRoot, m.fileHash, m.size, m.params, salt],
  })
const commitOf = (w: Wallet | Address) =>
  getModelCommit(t.devnet.publicClient, {
    address: competition,
    netuid,
    hotkey: typeof w === 'string' ? w : addr(w),
  })
/** Everything the contract stores for the test's subnets, to show a refusal changed nothing. */
const state = async () =>
  JSON.stringify(
    [
      await getCompetition(t.devnet.publicClient, { address: competition, netuid }),
      await getModelCommits(t.devnet.publicClient, {
        address: competition,
        netuid,
        hotkeys: [alice, bob, carol, stranger].map(addr),
      }),
    ],
    (_, v) => (typeof v === 'bigint' ? v.toString() : v),
  )
const refused = async (p: () => Promise<unknown>, name: string) => {
  const before = await state()
  expect(await revertName(p())).toBe(name)
  expect(await state()).toBe(before)
}

describe('declaring a competition', () => {
  it('records the rules once, from the subnet owner', async () => {
    const { receipt } = await declare(owner)
    const rules = await getCompetition(t.devnet.publicClient, { address: competition, netuid })
    expect(rules).toEqual({ ...RULES, declaredAt: receipt.blockNumber, commitCount: 0n })
  })

  it('refuses anyone but the owner, a second declaration and bad rules', async () => {
    await refused(() => declare(alice), 'NotSubnetOwner')
    expect(await revertArgs(declare(stranger))).toEqual([netuid, addr(stranger), addr(owner)])
    await refused(() => declare(owner, netuid, { ...RULES, epsilonPpm: 1_000_000 }), 'InvalidParam')
    await refused(() => declare(owner, netuid, { ...RULES, maxParams: 0n }), 'InvalidParam')
    await refused(
      () => declare(owner, netuid, { ...RULES, evalSpecHash: `0x${'00'.repeat(32)}` }),
      'InvalidParam',
    )
    await declare(owner)
    await refused(() => declare(owner, netuid, { ...RULES, epsilonPpm: 0 }), 'AlreadyDeclared')
  })

  it('refuses an unknown netuid, and a subnet whose first epoch has run', async () => {
    expect(await revertName(declare(owner, 99))).toBe('SubnetNotFound')
    await t.epoch(netuid)
    expect(await revertName(declare(owner))).toBe('SubnetAlreadyStarted')
  })

  it('refuses commitments before the declaration', async () => {
    await refused(() => commit(alice), 'NotCompetition')
  })
})

describe('committing models', () => {
  beforeEach(async () => {
    await declare(owner)
  })

  it('records a registered hotkey commitment at its block; a new one replaces it', async () => {
    const first = await commit(alice, model(1))
    expect(await commitOf(alice)).toEqual({
      ...model(1),
      commitBlock: first.receipt.blockNumber,
      seq: 0n,
      copyOf: zeroAddress,
    })
    await t.mine(3)
    const second = await commit(alice, model(2))
    expect(await commitOf(alice)).toEqual({
      ...model(2),
      commitBlock: second.receipt.blockNumber,
      seq: 1n,
      copyOf: zeroAddress,
    })
    expect(second.receipt.blockNumber).toBeGreaterThan(first.receipt.blockNumber + 2n)
    // Going back to its first model is the same hotkey's own model: no copy, a new block.
    const third = await commit(alice, model(1))
    expect((await commitOf(alice)).copyOf).toBe(zeroAddress)
    expect((await commitOf(alice)).commitBlock).toBe(third.receipt.blockNumber)
  })

  it('refuses an unregistered hotkey, a model over the limit, empty fields and a replay', async () => {
    await refused(() => commit(stranger), 'NotRegistered')
    await refused(
      () => commit(alice, { ...model(1), params: RULES.maxParams + 1n }),
      'ParamsOverLimit',
    )
    expect(await revertArgs(commit(alice, { ...model(1), params: 2n ** 64n - 1n }))).toEqual([
      2n ** 64n - 1n,
      RULES.maxParams,
    ])
    await refused(() => commit(alice, { ...model(1), params: 0n }), 'InvalidParam')
    await refused(() => commit(alice, { ...model(1), size: 0n }), 'InvalidParam')
    await refused(
      () => commit(alice, { ...model(1), modelRoot: `0x${'00'.repeat(32)}` }),
      'InvalidParam',
    )
    await refused(
      () => commit(alice, { ...model(1), fileHash: `0x${'00'.repeat(32)}` }),
      'InvalidParam',
    )
    // at the limit is fine
    await commit(alice, { ...model(1), params: RULES.maxParams })
    // the same commitment again would only lose its block: refused
    await refused(() => commit(alice, { ...model(1), params: RULES.maxParams }), 'SameModel')
  })

  it('flags a later copy of another hotkey model, by modelRoot or by file', async () => {
    await commit(alice, model(1))
    await commit(bob, model(1))
    expect((await commitOf(bob)).copyOf).toBe(addr(alice))
    // the same weights in another file (modelRoot equal), and the same file under another root
    await commit(carol, { ...model(1), fileHash: model(9).fileHash })
    expect((await commitOf(carol)).copyOf).toBe(addr(alice))
    await commit(carol, { ...model(8), fileHash: model(1).fileHash })
    expect((await commitOf(carol)).copyOf).toBe(addr(alice))
    // the original stays the original however often the copies re-commit
    expect((await commitOf(alice)).copyOf).toBe(zeroAddress)
    const read = (key: Hex) =>
      t.devnet.publicClient.readContract({
        address: competition,
        abi: modelCompetitionAbi,
        functionName: 'firstCommitter',
        args: [netuid, key],
      })
    expect(await read(model(1).modelRoot)).toBe(addr(alice))
    expect(await read(model(1).fileHash)).toBe(addr(alice))
  })

  it('orders commitments in one block by transaction order: the first is the original', async () => {
    const salt = (w: Wallet) => keccak256(toHex(`salt ${addr(w)}`))
    for (const w of [carol, alice, bob])
      await announceModel(w, {
        address: competition,
        netuid,
        commitment: modelCommitmentHash({ netuid, hotkey: addr(w), ...model(5), salt: salt(w) }),
      })
    await t.rpc('evm_setAutomine', [false])
    try {
      const send = (w: Wallet) =>
        w.sendTransaction({
          to: competition,
          gas: 300_000n,
          data: revealData(model(5), salt(w)),
        })
      const hashes = [await send(carol), await send(alice), await send(bob)]
      await t.rpc('evm_mine')
      const receipts = await Promise.all(hashes.map((h) => waitMined(t.devnet.publicClient, h)))
      expect(new Set(receipts.map((r) => r.blockNumber)).size).toBe(1)
      expect(receipts.map((r) => r.status)).toEqual(['success', 'success', 'success'])
      expect(receipts.map((r) => r.transactionIndex)).toEqual([0, 1, 2])
    } finally {
      await t.rpc('evm_setAutomine', [true])
    }
    const [c, a, b] = [await commitOf(carol), await commitOf(alice), await commitOf(bob)]
    expect([c.seq, a.seq, b.seq]).toEqual([0n, 1n, 2n])
    expect(c.copyOf).toBe(zeroAddress)
    expect(a.copyOf).toBe(addr(carol))
    expect(b.copyOf).toBe(addr(carol))
    expect(a.commitBlock).toBe(c.commitBlock)
  })

  it('cannot be front-run: a reveal needs the hotkey own announcement, from an earlier block', async () => {
    const salt = keccak256(toHex('alice secret'))
    const commitment = modelCommitmentHash({ netuid, hotkey: addr(alice), ...model(3), salt })
    // the TypeScript hash is the contract's
    expect(
      await t.devnet.publicClient.readContract({
        address: competition,
        abi: modelCompetitionAbi,
        functionName: 'modelCommitment',
        args: [
          netuid,
          addr(alice),
          model(3).modelRoot,
          model(3).fileHash,
          model(3).size,
          model(3).params,
          salt,
        ],
      }),
    ).toBe(commitment)
    await announceModel(alice, { address: competition, netuid, commitment })
    // Bob saw the announcement: copying it gives him nothing he can reveal (the hash names Alice).
    await announceModel(bob, { address: competition, netuid, commitment })
    const reveal = (w: Wallet, m = model(3), s = salt) =>
      writeCompetition(w, competition, 'commitModel', [
        netuid,
        m.modelRoot,
        m.fileHash,
        m.size,
        m.params,
        s,
      ])
    await refused(() => reveal(bob), 'NotAnnounced')
    // Alice's reveal in the mempool: Bob copies it into a transaction of his own ahead of it,
    // announcing and revealing in one block. Refused; Alice's reveal is the original.
    await t.rpc('evm_setAutomine', [false])
    let hashes: Hex[]
    try {
      const copied = modelCommitmentHash({ netuid, hotkey: addr(bob), ...model(3), salt })
      hashes = [
        await bob.sendTransaction({
          to: competition,
          gas: 200_000n,
          data: encodeFunctionData({
            abi: modelCompetitionAbi,
            functionName: 'announceModel',
            args: [netuid, copied],
          }),
        }),
        await bob.sendTransaction({
          to: competition,
          gas: 300_000n,
          data: revealData(model(3), salt),
        }),
        await alice.sendTransaction({
          to: competition,
          gas: 300_000n,
          data: revealData(model(3), salt),
        }),
      ]
      await t.rpc('evm_mine')
    } finally {
      await t.rpc('evm_setAutomine', [true])
    }
    const receipts = await Promise.all(hashes.map((h) => waitMined(t.devnet.publicClient, h)))
    expect(receipts.map((r) => r.status)).toEqual(['success', 'reverted', 'success'])
    // (what Bob's reveal met in that block)
    const inBlock = t.devnet.publicClient.simulateContract({
      address: competition,
      abi: modelCompetitionAbi,
      functionName: 'commitModel',
      args: [netuid, model(3).modelRoot, model(3).fileHash, model(3).size, model(3).params, salt],
      account: addr(bob),
      blockNumber: receipts[1]!.blockNumber,
    })
    expect(await revertName(inBlock)).toBe('AnnouncedThisBlock')
    expect((await commitOf(alice)).copyOf).toBe(zeroAddress)
    expect((await commitOf(bob)).commitBlock).toBe(0n)
    // Bob's announcement, a block old now, reveals: his commitment is recorded as the copy.
    await reveal(bob)
    expect((await commitOf(bob)).copyOf).toBe(addr(alice))
    // An announcement is used once; other fields or another salt than announced are refused.
    await announceModel(carol, {
      address: competition,
      netuid,
      commitment: modelCommitmentHash({ netuid, hotkey: addr(carol), ...model(4), salt }),
    })
    await refused(() => reveal(carol, { ...model(4), params: 7n }), 'NotAnnounced')
    await refused(() => reveal(carol, model(4), keccak256(toHex('other'))), 'NotAnnounced')
    await reveal(carol, model(4))
    await refused(() => reveal(carol, model(6)), 'NotAnnounced')
    // Announcing needs a registered hotkey, a competition and a non-zero hash.
    const announce = (w: Wallet, commitment: Hex, n = netuid) =>
      announceModel(w, { address: competition, netuid: n, commitment })
    expect(await revertName(announce(stranger, commitment))).toBe('NotRegistered')
    expect(await revertName(announce(alice, `0x${'00'.repeat(32)}`))).toBe('InvalidParam')
  })

  it('refuses commitments to a dissolved subnet', async () => {
    await commit(alice, model(1))
    await t.write(owner, 'dissolveSubnet', [netuid])
    await refused(() => commit(bob, model(2)), 'SubnetDissolved')
  })

  it('costs bounded gas: a first commitment, a replacement, a copy', async () => {
    const first = await commit(alice, model(1))
    const gas = {
      announce: first.announcement.receipt.gasUsed,
      first: first.receipt.gasUsed,
      replace: (await commit(alice, model(2))).receipt.gasUsed,
      copy: (await commit(bob, model(2))).receipt.gasUsed,
    }
    // docs/BENCHMARKS.md, "Model competition", has the figures measured
    expect(gas.announce).toBeLessThan(100_000n)
    expect(gas.first).toBeLessThan(200_000n)
    expect(gas.replace).toBeLessThan(gas.first)
    expect(gas.copy).toBeLessThan(gas.first)
  })

  it('reads many hotkeys in one call (validators)', async () => {
    await commit(alice, model(1))
    await commit(bob, model(2))
    const commits = await getModelCommits(t.devnet.publicClient, {
      address: competition,
      netuid,
      hotkeys: [addr(bob), addr(stranger), addr(alice)],
    })
    expect(commits.map((c) => c.modelRoot)).toEqual([
      model(2).modelRoot,
      `0x${'00'.repeat(32)}`,
      model(1).modelRoot,
    ])
    expect(commits[1]!.commitBlock).toBe(0n)
  })
})

describe('the deployment manifest', () => {
  it('names the competition contract and round-trips it', () => {
    const d = devnetDeployment(t.devnet, undefined, undefined, undefined, competition)
    const text = formatDeployment(d)
    expect(JSON.parse(text).contracts.competition).toBe(competition)
    expect(parseDeployment(text, 'test').contracts.competition).toBe(competition)
    const bad = JSON.parse(text)
    bad.contracts.competition = '0x1234'
    expect(() => parseDeployment(JSON.stringify(bad), 'test')).toThrow(/contracts.competition/)
  })
})
