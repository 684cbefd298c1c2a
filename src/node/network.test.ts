import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { readContract } from 'viem/actions'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { trainedModelBytes } from '../../test/trained-model.ts'
import { verityAbi } from '../chain/abis.ts'
import { runEpoch } from '../chain/actions/runEpoch.ts'
import { type Devnet, startDevnet } from '../chain/devnet.ts'
import { testModel } from '../runtime/test-model.ts'
import { tokenizerFromGguf } from '../runtime/tokenizer/index.ts'
import { connectChain, readNeurons } from './chain.ts'
import { type RunningNode, setupSubnet, startMinerNode, startValidatorNode } from './network.ts'
import type { ValidatorService } from './validator.ts'

const model = testModel()
const tokenizer = tokenizerFromGguf(model.metadata)
const dir = mkdtempSync(join(tmpdir(), 'verity-net-'))
let devnet: Devnet
const running: RunningNode[] = []

beforeAll(async () => {
  devnet = await startDevnet({ accounts: 12 })
})
afterAll(async () => {
  for (const n of running.reverse()) await n.stop().catch(() => {})
  await devnet?.stop()
  rmSync(dir, { recursive: true, force: true })
})

const ctx = (i: number, netuid: number) =>
  connectChain({
    rpcUrl: devnet.rpcUrl,
    account: devnet.accounts[i]!.account as never,
    netuid,
    address: devnet.addresses.verity,
  })

describe('miners and validators on a devnet', () => {
  it('one cheater among 3 miners gets score 0 and incentive 0; honest miners > 0', async () => {
    const minerIdx = [1, 2, 3]
    const validatorIdx = [4, 5]
    const netuid = await setupSubnet(devnet, {
      model,
      ggufBytes: trainedModelBytes(),
      miners: minerIdx.map((i) => devnet.walletClients[i]!),
      validators: validatorIdx.map((i) => devnet.walletClients[i]!),
    })
    for (const [k, i] of minerIdx.entries()) {
      running.push(
        await startMinerNode({
          hotkey: devnet.accounts[i]!.account as never,
          chain: await ctx(i, netuid),
          model,
          tokenizer,
          dataDir: join(dir, `m${i}`),
          ...(k === 1 ? { cheat: 'always' as const } : {}),
        }),
      )
    }
    const validators: ValidatorService[] = []
    for (const i of validatorIdx) {
      const v = await startValidatorNode({
        hotkey: devnet.accounts[i]!.account as never,
        chain: await ctx(i, netuid),
        model,
        tokenizer,
        dataDir: join(dir, `v${i}`),
        queriesPerMiner: 4,
        probe: 'epoch',
        seed: i,
        loop: false,
      })
      running.push(v)
      validators.push(v.service)
    }
    const cheater = devnet.accounts[2]!.address
    const owner = devnet.walletClients[0]!
    for (let e = 0; e < 3; e++) {
      for (const v of validators) await v.tick()
      await runEpoch(owner, { address: devnet.addresses.verity, netuid })
    }
    const neurons = await readNeurons({
      publicClient: devnet.publicClient,
      address: devnet.addresses.verity,
      netuid,
    })
    const byHotkey = new Map(neurons.map((n) => [n.hotkey.toLowerCase(), n]))
    // checked answers, by outcome
    const counts = { honestOk: 0, honestBad: 0, cheaterOk: 0, cheaterBad: 0, unavailable: 0 }
    for (const v of validators) {
      for (const c of v.store.checks()) {
        const isCheater = c.hotkey.toLowerCase() === cheater.toLowerCase()
        if (c.outcome === 'unavailable') counts.unavailable++
        else if (isCheater) counts[c.outcome === 'ok' ? 'cheaterOk' : 'cheaterBad']++
        else counts[c.outcome === 'ok' ? 'honestOk' : 'honestBad']++
      }
      const scores = v.scores(3)
      console.log('SCORES', JSON.stringify(scores))
      for (const s of scores) {
        if (s.hotkey.toLowerCase() === cheater.toLowerCase()) expect(s.weight).toBe(0)
        else expect(s.weight).toBeGreaterThan(0)
      }
      expect(
        v.store.evidence().every((e) => e.hotkey.toLowerCase() === cheater.toLowerCase()),
      ).toBe(true)
      // /metrics counts what the store holds: every check by outcome, every mismatch, 3 commits
      const { metrics } = v
      const stored = v.store.checks()
      for (const outcome of ['ok', 'mismatch', 'unavailable'])
        expect(await metrics.value(metrics.checks, { outcome })).toBe(
          stored.filter((c) => c.outcome === outcome).length,
        )
      expect(await metrics.value(metrics.mismatches)).toBe(v.store.countEvidence())
      expect(await metrics.value(metrics.weightCommits, { mode: 'commit' })).toBe(3)
      expect(await metrics.value(metrics.weightReveals)).toBe(2)
    }
    console.log('checked answers', JSON.stringify(counts))
    expect(counts.honestBad).toBe(0)
    expect(counts.unavailable).toBe(0)
    expect(counts.honestOk + counts.cheaterBad).toBeGreaterThanOrEqual(60)
    expect(counts.cheaterBad).toBeGreaterThan(0)
    expect(byHotkey.get(cheater.toLowerCase())!.incentive).toBe(0)
    for (const i of [1, 3])
      expect(byHotkey.get(devnet.accounts[i]!.address.toLowerCase())!.incentive).toBeGreaterThan(0)
    console.log(
      'incentive',
      JSON.stringify(
        neurons.map((n) => ({
          uid: n.uid,
          incentive: n.incentive,
          emission: n.emission.toString(),
        })),
      ),
    )
  })

  it('a validator restarted between commit and reveal still reveals', async () => {
    const netuid = await setupSubnet(devnet, {
      model,
      ggufBytes: trainedModelBytes(),
      miners: [devnet.walletClients[6]!],
      validators: [devnet.walletClients[7]!],
    })
    const miner = await startMinerNode({
      hotkey: devnet.accounts[6]!.account as never,
      chain: await ctx(6, netuid),
      model,
      tokenizer,
      dataDir: join(dir, 'rm'),
    })
    running.push(miner)
    const options = {
      hotkey: devnet.accounts[7]!.account as never,
      chain: await ctx(7, netuid),
      model,
      tokenizer,
      dataDir: join(dir, 'rv'),
      queriesPerMiner: 2,
      probe: 'epoch' as const,
      loop: false,
    }
    const first = await startValidatorNode(options)
    expect(await first.service.tick()).toMatchObject({ epoch: 1, committed: true, revealed: 0 })
    await first.stop()
    await runEpoch(devnet.walletClients[0]!, { address: devnet.addresses.verity, netuid })
    const second = await startValidatorNode(options)
    running.push(second)
    const result = await second.service.tick()
    expect(result).toMatchObject({ epoch: 2, revealed: 1 })
    const [uids, values] = await readContract(devnet.publicClient, {
      address: devnet.addresses.verity,
      abi: verityAbi,
      functionName: 'weightsOf',
      args: [netuid, 0],
    })
    expect(uids).toEqual([1])
    expect(values).toEqual([65535])
  })
})
