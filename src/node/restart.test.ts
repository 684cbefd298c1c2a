import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { LocalAccount } from 'viem/accounts'
import { readContract } from 'viem/actions'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { trainedModelBytes } from '../../test/trained-model.ts'
import { verityAbi } from '../chain/abis.ts'
import { runEpoch } from '../chain/actions/runEpoch.ts'
import { type Devnet, startDevnet } from '../chain/devnet.ts'
import { samplingParams } from '../runtime/sampler/sample.ts'
import { testModel } from '../runtime/test-model.ts'
import { tokenizerFromGguf } from '../runtime/tokenizer/index.ts'
import { toHex } from '../runtime/trace/merkle.ts'
import type { SignedReceipt } from '../types/inference.ts'
import { signRequest } from '../verify/call.ts'
import { connectChain, readNeurons } from './chain.ts'
import { INFER_PROTOCOL, readFrames, writeFrame } from './frames.ts'
import { type RunningNode, setupSubnet, startMinerNode, startValidatorNode } from './network.ts'
import { createPeer, type Peer } from './peer.ts'

const model = testModel()
const tokenizer = tokenizerFromGguf(model.metadata)
const dir = mkdtempSync(join(tmpdir(), 'verity-restart-'))
const LOOPBACK = { host: '127.0.0.1', port: 0 }
let devnet: Devnet
let client: Peer
const running: RunningNode[] = []

beforeAll(async () => {
  devnet = await startDevnet({ accounts: 4 })
  client = await createPeer()
})
afterAll(async () => {
  for (const n of running.reverse()) await n.stop().catch(() => {})
  await client?.stop()
  await devnet?.stop()
  rmSync(dir, { recursive: true, force: true })
})

const account = (i: number) => devnet.accounts[i]!.account as LocalAccount
const ctx = (i: number, netuid: number) =>
  connectChain({
    rpcUrl: devnet.rpcUrl,
    account: account(i),
    netuid,
    address: devnet.addresses.verity,
  })

/** Sends one raw request frame to a miner and returns the frames it answers with. */
async function raw(miner: RunningNode, frame: unknown) {
  await client.peerStore.merge(miner.peer.peerId, { multiaddrs: miner.peer.getMultiaddrs() })
  const stream = await client.dialProtocol(miner.peer.peerId, INFER_PROTOCOL)
  await writeFrame(stream, frame as never)
  const out: Record<string, unknown>[] = []
  for await (const f of readFrames(stream)) out.push(f as Record<string, unknown>)
  return out
}

async function storedReceipts(node: RunningNode): Promise<SignedReceipt[]> {
  const rows = node.store.db.prepare('SELECT receipt FROM receipts').all() as { receipt: string }[]
  return rows.map((r) => JSON.parse(r.receipt) as SignedReceipt)
}

describe('a miner and a validator restarted mid-epoch on their data dirs', () => {
  it('keep receipts, commit salts and replay nonces, and the validator reveals on time', async () => {
    const [MINER, VALIDATOR] = [1, 2]
    const netuid = await setupSubnet(devnet, {
      model,
      ggufBytes: trainedModelBytes(),
      miners: [devnet.walletClients[MINER]!],
      validators: [devnet.walletClients[VALIDATOR]!],
    })
    const minerOptions = {
      hotkey: account(MINER),
      chain: await ctx(MINER, netuid),
      model,
      tokenizer,
      dataDir: join(dir, 'miner'),
      ops: LOOPBACK,
      // Receipts disputable for 150 blocks (the validators require 100): few to mine past.
      service: { disputeWindowBlocks: 150 },
      retention: { pollMs: 200 },
    }
    const validatorOptions = {
      hotkey: account(VALIDATOR),
      chain: await ctx(VALIDATOR, netuid),
      model,
      tokenizer,
      dataDir: join(dir, 'validator'),
      queriesPerMiner: 2,
      probe: 'epoch' as const,
      loop: false,
      ops: LOOPBACK,
    }
    const miner = await startMinerNode(minerOptions)
    const validator = await startValidatorNode(validatorOptions)

    // A call signed by the validator's hotkey (a registered caller), sent by the test: it is
    // replayed after the restart.
    const call = await signRequest(
      account(VALIDATOR),
      {
        modelRoot: toHex(model.modelRoot),
        promptTokens: tokenizer.encode('Once upon a time'),
        maxTokens: 8,
        params: samplingParams({ temperature: 0.8, topP: 0.9 }),
        seed: 5,
        stopTokens: [],
        stop: [],
      },
      { miner: account(MINER).address },
    )
    const answer = (await raw(miner, { type: 'request', call })).at(-1) as {
      type: string
      tokens: number[]
      receipt: SignedReceipt
    }
    expect(answer.type).toBe('done')
    // Epoch 1: the validator checks the miner (2 synthetic checks) and commits its weights.
    expect(await validator.service.tick()).toMatchObject({ epoch: 1, committed: true })
    const receipts = miner.store.countReceipts()
    expect(receipts).toBe(3)
    const [commit] = validator.store.pendingCommits(netuid)
    expect(commit).toMatchObject({ epoch: 1 })
    const checks = validator.store.checks().length
    expect(checks).toBe(2)
    const minerMetrics = await (await fetch(`${miner.ops!.url}/metrics`)).text()
    expect(minerMetrics).toMatch(/^verity_miner_requests_total\{outcome="served"\} 3$/m)
    expect(minerMetrics).toMatch(/^verity_miner_receipts_stored_total 3$/m)
    const validatorMetrics = await (await fetch(`${validator.ops!.url}/metrics`)).text()
    expect(validatorMetrics).toMatch(
      /^verity_validator_checks_total\{kind="synthetic",outcome="ok"\} 2$/m,
    )
    expect(validatorMetrics).toMatch(/^verity_validator_weight_commits_total\{mode="commit"\} 1$/m)
    expect(validatorMetrics).toMatch(
      /^verity_chain_calls_total\{method="eth_sendRawTransaction"\} [1-9]/m,
    )

    // Both stop mid-epoch (the commit is in, its reveal is due next epoch) and come back.
    await validator.stop()
    await miner.stop()
    const miner2 = await startMinerNode(minerOptions)
    running.push(miner2)
    const validator2 = await startValidatorNode(validatorOptions)
    running.push(validator2)
    expect(miner2.store.countReceipts()).toBe(receipts)
    expect(
      miner2.store.getReceipt(answer.receipt.requestHash, answer.receipt.nonce)?.tokens,
    ).toEqual(answer.tokens)
    expect(validator2.store.pendingCommits(netuid)).toEqual([commit])
    expect(validator2.store.checks()).toHaveLength(checks)
    // The replay guard kept the nonce: the same signed call is refused.
    expect(await raw(miner2, { type: 'request', call })).toEqual([
      { type: 'error', code: 'replay', message: expect.stringMatching(/replayed/) },
    ])
    expect(await miner2.metrics.value(miner2.metrics.minerRequests, { outcome: 'replay' })).toBe(1)

    const health = await fetch(`${miner2.ops!.url}/health`)
    expect(health.status).toBe(200)
    expect(await health.json()).toMatchObject({
      status: 'ok',
      role: 'miner',
      hotkey: account(MINER).address,
      uid: 1,
      chain: { reachable: true, head: expect.any(Number) },
    })
    expect(await (await fetch(`${validator2.ops!.url}/health`)).json()).toMatchObject({
      status: 'ok',
      role: 'validator',
      uid: 0,
    })

    // Epoch 2: the restarted validator reveals epoch 1's commit, and the epoch uses the weights.
    const owner = devnet.walletClients[0]!
    await runEpoch(owner, { address: devnet.addresses.verity, netuid })
    expect(await validator2.service.tick()).toMatchObject({ epoch: 2, revealed: 1 })
    expect(validator2.store.pendingCommits(netuid).filter((c) => c.epoch === 1)).toEqual([])
    expect(await validator2.metrics.value(validator2.metrics.weightReveals)).toBe(1)
    const [uids, values] = await readContract(devnet.publicClient, {
      address: devnet.addresses.verity,
      abi: verityAbi,
      functionName: 'weightsOf',
      args: [netuid, 0],
    })
    expect(uids).toEqual([1])
    expect(values).toEqual([65535])
    await runEpoch(owner, { address: devnet.addresses.verity, netuid })
    const neurons = await readNeurons({
      publicClient: devnet.publicClient,
      address: devnet.addresses.verity,
      netuid,
    })
    expect(neurons[1]!.incentive).toBe(65535)

    // Once the chain is past every receipt's validUntilBlock (no game here: nothing to add), the
    // running miner prunes them on its own, within a poll of its retention.
    const last = Math.max(
      ...[answer.receipt, ...(await storedReceipts(miner2))].map((r) => r.validUntilBlock),
    )
    const held = miner2.store.countReceipts()
    expect(held).toBe(5) // 3 before the restart, the 2 checks of epoch 2
    const head = Number(await devnet.publicClient.getBlockNumber())
    await devnet.publicClient.request({
      method: 'anvil_mine',
      params: [`0x${(last - head + 1).toString(16)}`],
    } as never)
    // (generous: on a loaded 2-core CI machine the view's block and the poll both lag)
    const end = Date.now() + 90_000
    while (miner2.store.countReceipts() > 0 && Date.now() < end)
      await new Promise((r) => setTimeout(r, 200))
    expect(miner2.store.countReceipts()).toBe(0)
    expect(await miner2.metrics.value(miner2.metrics.pruned, { table: 'receipts' })).toBe(held)
  })
})
