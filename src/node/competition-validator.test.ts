import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { type Address, type Hex, toHex as viemToHex } from 'viem'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { noisyTinyBytes } from '../../test/competition-models.ts'
import { trainedModelBytes } from '../../test/trained-model.ts'
import { advanceClock } from '../chain/actions/advanceClock.ts'
import { commitModel } from '../chain/actions/commitModel.ts'
import { getNode } from '../chain/actions/getNode.ts'
import { getWeights } from '../chain/actions/getWeights.ts'
import { runEpoch } from '../chain/actions/runEpoch.ts'
import { deployModelCompetition } from '../chain/competition.ts'
import { type Devnet, startDevnet } from '../chain/devnet.ts'
import { modelCommitment } from '../cli/model-commitment.ts'
import { DEVNET_CORPUS_SHA256, devnetCorpus } from '../competition/devnet-corpus.ts'
import { type EvaluationSpec, evaluationSpecHash } from '../competition/evaluate.ts'
import { fileRoot } from '../competition/file-root.ts'
import { WEIGHT_SCALE } from '../competition/weights.ts'
import { gguf, writeGguf } from '../runtime/gguf/write.ts'
import { testModel } from '../runtime/test-model.ts'
import { connectChain, readNeurons } from './chain.ts'
import { startCompetitionValidatorNode, startModelMinerNode } from './competition-node.ts'
import { setupCompetitionSubnet } from './competition-subnet.ts'
import {
  type CompetitionEpoch,
  CompetitionValidator,
  type ModelSource,
} from './competition-validator.ts'
import { serveModelFiles } from './model-files/server.ts'
import { libp2pModelSource, localFileSource } from './model-source.ts'
import { createPeer, type Peer, peerIdFromBytes } from './peer.ts'

/**
 * Competition validators against a devnet: the better model wins, its later byte-identical copy
 * earns nothing, a model committed after the seed block waits an epoch, two validators compute
 * the same losses, and every bad file (a lie about the parameter count, garbage, another
 * architecture, bytes that are not the committed ones, a miner that stops serving or stalls)
 * scores 0 with a reason while the honest model takes the whole row.
 */
const SPEC: EvaluationSpec = { passages: 2, versesPerPassage: 2, maxTokens: 64 }
const corpusSha256 = Uint8Array.from(Buffer.from(DEVNET_CORPUS_SHA256, 'hex'))
const evaluation = { corpus: devnetCorpus(), corpusSha256, spec: SPEC }
const evalSpecHash = viemToHex(evaluationSpecHash(SPEC, corpusSha256))
const rules = { evalSpecHash, maxParams: 10_000_000n, epsilonPpm: 5_000, minCommitAge: 2 }

const dir = mkdtempSync(join(tmpdir(), 'verity-compval-'))
const file = (name: string, bytes: Uint8Array) => {
  const path = join(dir, name)
  writeFileSync(path, bytes)
  return path
}
const paths = {
  better: file('better.gguf', trainedModelBytes()),
  base: file('base.gguf', noisyTinyBytes(1)),
  late: file('late.gguf', noisyTinyBytes(2)),
}
let devnet: Devnet
let competition: Address
const validators: CompetitionValidator[] = []

beforeAll(async () => {
  devnet = await startDevnet({ accounts: 26 })
  competition = await deployModelCompetition(devnet.publicClient, devnet.walletClients[0]!, {
    core: devnet.addresses.verity,
  })
})
afterAll(async () => {
  await Promise.all(validators.map((v) => v.stop()))
  await devnet?.stop()
  rmSync(dir, { recursive: true, force: true })
})

const hotkey = (i: number) => devnet.accounts[i]!.address
const wallet = (i: number) => devnet.walletClients[i]!

async function setup(minerIdx: number[], validatorIdx: number[], maxParams = rules.maxParams) {
  return await setupCompetitionSubnet(devnet, {
    competition,
    model: testModel(),
    ggufSha256: new Uint8Array(32).fill(1),
    miners: minerIdx.map(wallet),
    validators: validatorIdx.map(wallet),
    rules: { ...rules, maxParams },
  })
}

/** The subnet's uids by hotkey, as the metagraph has them now. */
async function uidsByHotkey(netuid: number): Promise<Map<Address, number>> {
  const neurons = await readNeurons({
    publicClient: devnet.publicClient,
    address: devnet.addresses.verity,
    netuid,
  })
  return new Map(neurons.map((n) => [n.hotkey, n.uid]))
}

type Commitment = { modelRoot: Hex; fileHash: Hex; size: bigint; params: bigint }
async function commit(i: number, netuid: number, c: Commitment): Promise<bigint> {
  const { receipt } = await commitModel(wallet(i), { address: competition, netuid, ...c })
  return receipt.blockNumber
}

function validator(i: number, netuid: number, source: ModelSource, extra = {}) {
  const v = new CompetitionValidator({
    publicClient: devnet.publicClient,
    walletClient: wallet(i),
    address: devnet.addresses.verity,
    competition,
    netuid,
    source,
    evaluation,
    ...extra,
  })
  validators.push(v)
  return v
}

/** Runs the next epoch and mines to its seed block; every validator then evaluates it. */
async function nextEpoch(netuid: number, vs: CompetitionValidator[]): Promise<CompetitionEpoch[]> {
  await runEpoch(wallet(0), { address: devnet.addresses.verity, netuid })
  return await evaluate(vs)
}

async function evaluate(vs: CompetitionValidator[]): Promise<CompetitionEpoch[]> {
  const out: CompetitionEpoch[] = []
  for (const v of vs) {
    let r = await v.tick()
    if (r.status === 'waiting') {
      await advanceClock(devnet.publicClient, {
        address: devnet.addresses.verity,
        to: r.seedBlock,
        mine: true,
      })
      r = await v.tick()
    }
    expect(r.status).toBe('evaluated')
    out.push(r.status === 'done' ? r.epoch : (r as { epoch: CompetitionEpoch }).epoch)
  }
  return out
}

const byUid = (e: CompetitionEpoch) => new Map(e.scores.map((s) => [s.uid, s]))

describe('a competition validator', () => {
  it('pays the better model most, its later copy nothing, the base less; a late commit waits an epoch; two validators agree', async () => {
    // 1, 2 validators; 3 base, 4 better, 5 copy of better, 6 late
    const netuid = await setup([3, 4, 5, 6], [1, 2])
    const base = modelCommitment(paths.base)
    const better = modelCommitment(paths.better)
    const late = modelCommitment(paths.late)
    await commit(3, netuid, base)
    await commit(4, netuid, better)
    await commit(5, netuid, better)
    const source = localFileSource({
      [hotkey(3)]: paths.base,
      [hotkey(4)]: paths.better,
      [hotkey(5)]: paths.better,
      [hotkey(6)]: paths.late,
    })
    const v1 = validator(1, netuid, source)
    const v2 = validator(2, netuid, source)
    await runEpoch(wallet(0), { address: devnet.addresses.verity, netuid })
    // The seed block is not mined yet: nothing is evaluated.
    const first = await v1.tick()
    expect(first.status).toBe('waiting')
    if (first.status !== 'waiting') return
    await advanceClock(devnet.publicClient, {
      address: devnet.addresses.verity,
      to: first.seedBlock,
      mine: true,
    })
    // Published once the seed is known: not in this epoch.
    const lateBlock = await commit(6, netuid, late)
    expect(lateBlock).toBeGreaterThan(first.seedBlock)
    const [e1, e2] = await evaluate([v1, v2])
    const uidOf = async (i: number) => (await uidsByHotkey(netuid)).get(hotkey(i))!
    const [uBase, uBetter, uCopy, uLate] = await Promise.all([3, 4, 5, 6].map(uidOf))
    const s = byUid(e1!)
    expect(e1!.seedBlock).toBe(first.seedBlock)
    expect([...s.keys()].sort()).toEqual([uBase, uBetter, uCopy].sort())
    expect(e1!.pending).toEqual([{ uid: uLate, hotkey: hotkey(6), commitBlock: lateBlock }])
    const lossBase = s.get(uBase!)!.loss!
    const lossBetter = s.get(uBetter!)!.loss!
    expect(lossBetter).toBeLessThan(lossBase)
    // The copy is the same file: the same loss, read from the cache, and flagged by the chain.
    expect(s.get(uCopy!)!.loss).toBe(lossBetter)
    expect(s.get(uCopy!)!.copyOf).toBe(hotkey(4))
    expect(e1!.evaluations).toBe(2)
    expect(s.get(uBetter!)!.weight).toBe(WEIGHT_SCALE - 3276)
    expect(s.get(uBase!)!.weight).toBe(3276)
    expect(s.get(uCopy!)!.weight).toBe(0)
    // The second validator evaluates on its own and gets the same bits.
    expect(e2!.seed).toBe(e1!.seed)
    expect(e2!.scores.map((x) => [x.uid, x.loss, x.weight])).toEqual(
      e1!.scores.map((x) => [x.uid, x.loss, x.weight]),
    )
    // Weights on chain, then Yuma pays by them.
    for (const i of [1, 2]) {
      const uid = await uidOf(i)
      const row = await getWeights(devnet.publicClient, {
        address: devnet.addresses.verity,
        netuid,
        uid: uid!,
      })
      const [rowUids, rowValues] = row
      const w = new Map(rowUids.map((u, k) => [u, rowValues[k]!]))
      expect(w.get(uBetter!)!).toBeGreaterThan(w.get(uBase!)!)
      expect(w.get(uBase!)!).toBeGreaterThan(0)
      expect(w.get(uCopy!) ?? 0).toBe(0)
    }
    await runEpoch(wallet(0), { address: devnet.addresses.verity, netuid })
    const neurons = await readNeurons({
      publicClient: devnet.publicClient,
      address: devnet.addresses.verity,
      netuid,
    })
    const emission = (uid: number) => neurons[uid]!.emission
    expect(emission(uBetter!)).toBeGreaterThan(emission(uBase!))
    expect(emission(uBase!)).toBeGreaterThan(0n)
    expect(emission(uCopy!)).toBe(0n)
    expect(emission(uLate!)).toBe(0n)
    // Next epoch (already begun by that runEpoch): the late model is scored.
    const [n1, n2] = await evaluate([v1, v2])
    const t = byUid(n1!)
    expect(n1!.epoch).toBe(e1!.epoch + 1n)
    expect(n1!.seed).not.toBe(e1!.seed)
    expect(n1!.pending).toEqual([])
    expect(t.get(uLate!)!.loss).toBeTypeOf('bigint')
    expect(t.get(uLate!)!.loss).toBeGreaterThan(t.get(uBetter!)!.loss!)
    expect(t.get(uBetter!)!.weight).toBeGreaterThan(t.get(uBase!)!.weight)
    expect(n2!.scores.map((x) => x.loss)).toEqual(n1!.scores.map((x) => x.loss))
    // A tick in the same epoch evaluates nothing again.
    expect((await v1.tick()).status).toBe('done')
  })

  it('scores every bad file 0 with a reason; the honest model takes the whole row', async () => {
    // 7 validator; 8 honest, 9 lies about params, 10 garbage, 11 mamba, 12 wrong bytes,
    // 13 stopped serving, 14 stalls
    const netuid = await setup([8, 9, 10, 11, 12, 13, 14], [7])
    const honest = modelCommitment(paths.better)
    const baseBytes = noisyTinyBytes(3)
    const garbage = file('garbage.gguf', new TextEncoder().encode('GGUF but not really a model'))
    const mamba = file(
      'mamba.gguf',
      writeGguf({
        metadata: [['general.architecture', gguf.string('mamba')]],
        tensors: [{ name: 'x', dims: [4], type: 0, data: new Float32Array(4) }],
      }),
    )
    const fake = (path: string, params: bigint): Commitment => {
      // made by hand for a file modelCommitment refuses: its size and file root, a made-up root
      const bytes = new Uint8Array(readFileSync(path))
      return {
        modelRoot: `0x${'ab'.repeat(32)}`,
        fileHash: fileRoot(bytes),
        size: BigInt(bytes.length),
        params,
      }
    }
    await commit(8, netuid, honest)
    // claims a third of its parameters (the chain checks only the claim against maxParams)
    await commit(9, netuid, { ...modelCommitment(file('liar.gguf', baseBytes)), params: 400_000n })
    await commit(10, netuid, fake(garbage, 1000n))
    await commit(11, netuid, fake(mamba, 4n))
    const other = noisyTinyBytes(4)
    await commit(12, netuid, modelCommitment(file('wrong.gguf', other)))
    await commit(13, netuid, modelCommitment(file('stopped.gguf', noisyTinyBytes(5))))
    await commit(14, netuid, modelCommitment(file('stalls.gguf', noisyTinyBytes(6))))
    const serve = localFileSource({
      [hotkey(8)]: paths.better,
      [hotkey(9)]: join(dir, 'liar.gguf'),
      [hotkey(10)]: garbage,
      [hotkey(11)]: mamba,
      // serves another file than the one it committed
      [hotkey(12)]: paths.base,
    })
    const source: ModelSource = async (c, key, signal) => {
      if (key === hotkey(13)) throw new Error('connection refused')
      if (key === hotkey(14))
        return await new Promise((_, reject) =>
          signal.addEventListener('abort', () => reject(signal.reason)),
        )
      return await serve(c, key, signal)
    }
    const v = validator(7, netuid, source, { fetchTimeoutMs: 300 })
    const [e] = await nextEpoch(netuid, [v])
    const uids = await uidsByHotkey(netuid)
    const reason = (i: number) => {
      const s = e!.scores.find((x) => x.uid === uids.get(hotkey(i)))!
      expect(s.loss).toBeNull()
      expect(s.weight).toBe(0)
      return s.reason
    }
    expect(reason(9)).toMatch(/file has 1328256 parameters, the commitment says 400000/)
    expect(reason(10)).toMatch(/GGUF|magic/i)
    expect(reason(11)).toMatch(/mamba/)
    expect(reason(12)).toMatch(/not the committed|commitment says/)
    expect(reason(13)).toMatch(/file unavailable: connection refused/)
    expect(reason(14)).toMatch(/file unavailable: .*(timeout|aborted)/i)
    const ok = e!.scores.find((x) => x.uid === uids.get(hotkey(8)))!
    expect(ok.loss).toBeTypeOf('bigint')
    expect(ok.weight).toBe(WEIGHT_SCALE)
    expect(e!.weightsSet).toBe(true)
  })

  it('refuses to score by rules other than the declared ones, and over a limit the chain set', async () => {
    const netuid = await setup([16], [15], 1_000_000n)
    const v = validator(15, netuid, localFileSource({}), {
      evaluation: { ...evaluation, spec: { ...SPEC, passages: 3 } },
    })
    await runEpoch(wallet(0), { address: devnet.addresses.verity, netuid })
    const r = await v.tick()
    if (r.status !== 'waiting')
      throw new Error(`expected to wait for the seed block, got ${r.status}`)
    await advanceClock(devnet.publicClient, {
      address: devnet.addresses.verity,
      to: r.seedBlock,
      mine: true,
    })
    await expect(v.tick()).rejects.toThrow(/evalSpecHash.*would score by other rules/)
    // The chain refuses a commitment over its maxParams: it never reaches a validator.
    await expect(commit(16, netuid, modelCommitment(paths.better))).rejects.toThrow(
      /ParamsOverLimit/,
    )
    // A file over the limit committed with a claim under it scores 0: the count is checked.
    await commit(16, netuid, { ...modelCommitment(paths.better), params: 1_000_000n })
    const honest = validator(15, netuid, localFileSource({ [hotkey(16)]: paths.better }))
    const [e] = await nextEpoch(netuid, [honest])
    expect(e!.scores).toHaveLength(1)
    expect(e!.scores[0]!.loss).toBeNull()
    expect(e!.scores[0]!.reason).toMatch(/file has 1328256 parameters, the commitment says 1000000/)
    expect(e!.weightsSet).toBe(false)
  })
  it('runs on its own between start() and stop(); stop() abandons a download under way unscored', async () => {
    const netuid = await setup([17], [18, 19])
    await commit(17, netuid, modelCommitment(paths.better))
    let asked!: () => void
    const called = new Promise<void>((r) => {
      asked = r
    })
    const stalled = validator(18, netuid, (_c, _k, signal) => {
      asked()
      return new Promise((_, reject) =>
        signal.addEventListener('abort', () => reject(signal.reason)),
      )
    })
    const running = validator(19, netuid, localFileSource({ [hotkey(17)]: paths.better }), {
      pollMs: 50,
    })
    await runEpoch(wallet(0), { address: devnet.addresses.verity, netuid })
    stalled.start()
    running.start()
    const { seedBlock } = await running.currentSeedBlock()
    await advanceClock(devnet.publicClient, {
      address: devnet.addresses.verity,
      to: seedBlock,
      mine: true,
    })
    await called
    const stopAt = performance.now()
    await stalled.stop()
    expect(performance.now() - stopAt).toBeLessThan(1000)
    expect(stalled.lastEpoch).toBeUndefined()
    const until = Date.now() + 30_000
    while (running.lastEpoch === undefined && Date.now() < until)
      await new Promise((r) => setTimeout(r, 50))
    await running.stop()
    const e = running.lastEpoch!
    expect(e.seedBlock).toBe(seedBlock)
    expect(e.weightsSet).toBe(true)
    expect(e.scores).toHaveLength(1)
    expect(e.scores[0]!.loss).toBeTypeOf('bigint')
    expect(e.scores[0]!.weight).toBe(WEIGHT_SCALE)
  })

  it('a local file source refuses a hotkey it has no file for', async () => {
    const source = localFileSource({ [hotkey(3)]: paths.base })
    const c = { ...modelCommitment(paths.base), commitBlock: 1n, seq: 0n, copyOf: hotkey(3) }
    await expect(source(c, hotkey(4), AbortSignal.timeout(1000))).rejects.toThrow(
      /serves no model file/,
    )
    expect((await source(c, hotkey(3), AbortSignal.timeout(5000))).length).toBe(Number(c.size))
  })
  it('fetches over libp2p from the miner node: a served file scores, a node without it scores 0', async () => {
    const netuid = await setup([21, 22], [20])
    await commit(21, netuid, modelCommitment(paths.better))
    await commit(22, netuid, modelCommitment(paths.base))
    const serving = await createPeer()
    const server = await serveModelFiles(serving, [paths.better])
    const bare = await createPeer()
    const fetcher = await createPeer()
    try {
      const at = (p: Peer) => ({ peerId: p.peerId.toString(), multiaddrs: p.getMultiaddrs() })
      const nodes = new Map([
        [hotkey(21), at(serving)],
        [hotkey(22), at(bare)],
      ])
      const v = validator(
        20,
        netuid,
        libp2pModelSource(fetcher, (h) => nodes.get(h)),
        {
          fetchTimeoutMs: 10_000,
        },
      )
      const [e] = await nextEpoch(netuid, [v])
      const uids = await uidsByHotkey(netuid)
      const of = (i: number) => e!.scores.find((x) => x.uid === uids.get(hotkey(i)))!
      expect(of(21).loss).toBeTypeOf('bigint')
      expect(of(21).weight).toBe(WEIGHT_SCALE)
      expect(of(22).loss).toBeNull()
      expect(of(22).reason).toMatch(/^file unavailable: /)
    } finally {
      await server.stop()
      await Promise.all([serving.stop(), bare.stop(), fetcher.stop()])
    }
  })

  it('nodes find each other on chain: the model miner node serves, the validator node scores; no node scores 0', async () => {
    const netuid = await setup([24, 25], [23])
    await commit(24, netuid, modelCommitment(paths.better))
    await commit(25, netuid, modelCommitment(paths.base))
    const ctx = (i: number) =>
      connectChain({
        rpcUrl: devnet.rpcUrl,
        account: devnet.accounts[i]!.account as never,
        netuid,
        address: devnet.addresses.verity,
      })
    const miner = await startModelMinerNode({
      chain: await ctx(24),
      dataDir: join(dir, 'miner-24'),
      files: [paths.better],
    })
    const node = await startCompetitionValidatorNode({
      chain: await ctx(23),
      dataDir: join(dir, 'validator-23'),
      competition,
      evaluation,
      pollMs: 100,
    })
    try {
      // published for the hotkey: what the validator reads to find it
      const [peerId] = await getNode(devnet.publicClient, {
        address: devnet.addresses.verity,
        netuid,
        hotkey: hotkey(24),
      })
      expect(peerIdFromBytes(peerId).toString()).toBe(miner.peer.peerId.toString())
      await runEpoch(wallet(0), { address: devnet.addresses.verity, netuid })
      const { epoch, seedBlock } = await node.validator.currentSeedBlock()
      await advanceClock(devnet.publicClient, {
        address: devnet.addresses.verity,
        to: seedBlock,
        mine: true,
      })
      const deadline = Date.now() + 60_000
      while (node.validator.lastEpoch?.epoch !== epoch && Date.now() < deadline)
        await new Promise((r) => setTimeout(r, 100))
      const e = node.validator.lastEpoch!
      expect(e.epoch).toBe(epoch)
      const uids = await uidsByHotkey(netuid)
      const of = (i: number) => e.scores.find((x) => x.uid === uids.get(hotkey(i)))!
      expect(of(24).loss).toBeTypeOf('bigint')
      expect(of(24).weight).toBe(WEIGHT_SCALE)
      expect(of(25).loss).toBeNull()
      expect(of(25).reason).toMatch(/has published no node on chain/)
      expect(e.weightsSet).toBe(true)
    } finally {
      await node.stop()
      await miner.stop()
    }
  })
})
