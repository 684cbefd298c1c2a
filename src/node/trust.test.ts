import { execFile } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { privateKeyToAccount } from 'viem/accounts'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { trainedModelBytes } from '../../test/trained-model.ts'
import { runEpoch } from '../chain/actions/runEpoch.ts'
import { type Devnet, startDevnet } from '../chain/devnet.ts'
import { testModel } from '../runtime/test-model.ts'
import { tokenizerFromGguf } from '../runtime/tokenizer/index.ts'
import type { Receipt } from '../types/inference.ts'
import { signReceipt } from '../verify/receipt.ts'
import { connectChain } from './chain.ts'
import { type GatewayNode, startGatewayNode } from './gateway.ts'
import { receiptTopic } from './gossip.ts'
import { setupSubnet, startMinerNode, startValidatorNode } from './network.ts'
import { createPeer, type Peer } from './peer.ts'
import type { ValidatorService } from './validator.ts'

/**
 * The trust the network promises, tried as users and attackers would, on a devnet with real
 * nodes: miners A and B honest, C a cheater, D honest but giving receipts that are disputable for
 * only 5 blocks; one validator re-executing every gossiped answer; one gateway.
 */
const run = promisify(execFile)
const model = testModel()
const tokenizer = tokenizerFromGguf(model.metadata)
const dir = mkdtempSync(join(tmpdir(), 'verity-trust-'))
let devnet: Devnet
let gateway: GatewayNode
let validator: ValidatorService
let attacker: Peer
const stops: (() => Promise<void>)[] = []
const hotkeys: Record<'A' | 'B' | 'C' | 'D' | 'V' | 'G', string> = {} as never

beforeAll(async () => {
  devnet = await startDevnet({ accounts: 8 })
  const w = devnet.walletClients
  const netuid = await setupSubnet(devnet, {
    model,
    ggufBytes: trainedModelBytes(),
    miners: [w[1]!, w[2]!, w[3]!, w[4]!],
    validators: [w[5]!],
    gateways: [w[6]!],
  })
  const ctx = (i: number) =>
    connectChain({
      rpcUrl: devnet.rpcUrl,
      account: devnet.accounts[i]!.account as never,
      netuid,
      address: devnet.addresses.verity,
    })
  const names = ['A', 'B', 'C', 'D'] as const
  for (const [k, name] of names.entries()) {
    const i = k + 1
    hotkeys[name] = devnet.accounts[i]!.address
    const node = await startMinerNode({
      hotkey: devnet.accounts[i]!.account as never,
      chain: await ctx(i),
      model,
      tokenizer,
      dataDir: join(dir, name),
      ...(name === 'C' ? { cheat: 'always' as const } : {}),
      ...(name === 'D' ? { service: { disputeWindowBlocks: 5 } } : {}),
    })
    stops.push(node.stop)
  }
  hotkeys.V = devnet.accounts[5]!.address
  hotkeys.G = devnet.accounts[6]!.address
  gateway = await startGatewayNode({
    hotkey: devnet.accounts[6]!.account as never,
    chain: await ctx(6),
    model,
    dataDir: join(dir, 'G'),
    port: 0,
  })
  stops.push(gateway.stop)
  const v = await startValidatorNode({
    hotkey: devnet.accounts[5]!.account as never,
    chain: await ctx(5),
    model,
    tokenizer,
    dataDir: join(dir, 'V'),
    gatewayUrl: gateway.server.url,
    sampleRate: 1,
    probe: 'epoch',
    queriesPerMiner: 1,
    loop: false,
  })
  validator = v.service
  stops.push(v.stop)
  attacker = await createPeer()
  stops.push(async () => {
    await attacker.stop()
  })
  // The gateway finds every published node; the miners join its pool.
  await gateway.view.refresh({ metagraph: true })
  await vi.waitFor(() => expect(gateway.pool.size).toBe(4), { timeout: 30_000, interval: 200 })
}, 180_000)

afterAll(async () => {
  for (const stop of stops.reverse()) await stop().catch(() => {})
  await devnet?.stop()
  rmSync(dir, { recursive: true, force: true })
})

const lower = (s: string) => s.toLowerCase()

async function chat(body: Record<string, unknown>) {
  const res = await fetch(`${gateway.server.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ model: model.config.name, max_tokens: 12, ...body }),
  })
  return { status: res.status, body: (await res.json()) as Record<string, never> }
}

const messages = (i: number) => [{ role: 'user', content: `Tell me about the river number ${i}.` }]
const evidenceAgainst = (hotkey: string) =>
  validator.store.evidence().filter((e) => lower(e.hotkey) === lower(hotkey))

describe('the gateway keeps its pool to miners and routes by the verdict', () => {
  it('the pool holds the four miners, not the validator, not itself', () => {
    const pool = new Set(gateway.pool.status().map((m) => lower(m.hotkey)))
    expect(pool).toEqual(new Set(['A', 'B', 'C', 'D'].map((k) => lower(hotkeys[k as 'A']))))
  })

  it('/health names the gateway node (uid, chain, peers) and /metrics its chain calls', async () => {
    const health = await fetch(`${gateway.server.url}/health`)
    expect(health.status).toBe(200)
    const report = (await health.json()) as Record<string, unknown>
    expect(report).toMatchObject({
      status: 'ok',
      role: 'gateway',
      hotkey: hotkeys.G,
      uid: gateway.view.neuron(hotkeys.G)!.uid,
      chain: { reachable: true, head: expect.any(Number) },
      models: [{ id: model.config.name, miners: 4, available: 4 }],
    })
    expect(report.peers).toBeGreaterThanOrEqual(4)
    const text = await (await fetch(`${gateway.server.url}/metrics`)).text()
    const calls = /^verity_chain_calls_total\{method="eth_call"\} (\d+)$/m.exec(text)
    expect(Number(calls?.[1])).toBeGreaterThan(0)
    expect(Number(/^verity_node_peers (\d+)$/m.exec(text)?.[1])).toBeGreaterThanOrEqual(4)
    expect(text.match(/^verity_gateway_miner_available\{/gm)).toHaveLength(4)
  })
})

describe('honest miners under concurrent load are never flagged', () => {
  it('40 interleaved answers from two miners all re-execute to their receipts', async () => {
    const results = await Promise.all(
      Array.from({ length: 40 }, (_, i) =>
        chat({
          messages: messages(i),
          max_tokens: 4 + (i % 24),
          temperature: i % 3 ? 0.9 : 0,
          seed: i,
          provider: { only: [i % 2 ? hotkeys.A : hotkeys.B] },
        }),
      ),
    )
    expect(results.every((r) => r.status === 200)).toBe(true)
    // Gossip is best effort: nearly every answer reaches the validator, and each one that does is
    // re-executed.
    await vi
      .waitFor(() => expect(validator.stats.checked).toBeGreaterThanOrEqual(40), {
        timeout: 60_000,
        interval: 250,
      })
      .catch(() => console.log('gossip and checks', JSON.stringify(validator.snapshot())))
    expect(validator.stats.checked).toBeGreaterThanOrEqual(36)
    await validator.settled()
    expect(evidenceAgainst(hotkeys.A)).toEqual([])
    expect(evidenceAgainst(hotkeys.B)).toEqual([])
    const okChecks = validator.store
      .checks()
      .filter(
        (c) => c.outcome === 'ok' && [hotkeys.A, hotkeys.B].map(lower).includes(lower(c.hotkey)),
      )
    expect(okChecks.length).toBe(validator.stats.checked)
  })
})

describe('nobody can frame a miner through gossip', () => {
  it('malformed, unsigned, token-less and forged bundles are dropped and their sender penalised', async () => {
    const { pubsub } = attacker.services
    const topic = receiptTopic(1)
    await attacker.dial(validator.peer.getMultiaddrs()[0]!)
    pubsub.subscribe(topic)
    await vi.waitFor(
      () =>
        expect(pubsub.getSubscribers(topic).map(String)).toContain(
          validator.peer.peerId.toString(),
        ),
      { timeout: 10_000 },
    )
    // A real answer of miner A, to forge variations of.
    const real = await chat({ messages: messages(99), seed: 99, provider: { only: [hotkeys.A] } })
    expect(real.status).toBe(200)
    const bundle = real.body.verity as Record<string, unknown>
    const { miner: _miner, ...complete } = bundle as Record<string, unknown>
    const receipt = complete.receipt as Record<string, unknown>
    const mallory = privateKeyToAccount(`0x${'66'.repeat(32)}`)
    const forgedByMallory = await signReceipt(mallory, {
      ...(receipt as unknown as Receipt),
      minerHotkey: mallory.address,
    })
    const rejectedBefore = validator.snapshot().gossipRejected
    const evidenceBefore = validator.store.countEvidence()
    const junk: unknown[] = [
      { ...complete, tokens: undefined },
      { ...complete, tokens: [] },
      { ...complete, tokens: [...(complete.tokens as number[]), 5] },
      { ...complete, receipt: { ...receipt, signature: undefined } },
      { ...complete, receipt: { ...receipt, outputHash: `0x${'00'.repeat(32)}` } },
      { ...complete, receipt: forgedByMallory },
      { ...complete, call: undefined },
      { ...complete, request: { ...(complete.request as object), seed: 1 } },
      'not even an object',
    ]
    const encoder = new TextEncoder()
    for (const j of junk) await pubsub.publish(topic, encoder.encode(JSON.stringify(j)))
    await pubsub.publish(topic, encoder.encode('{not json'))
    // Each rejection costs the sender score; three put it below the graylist threshold, after
    // which its messages are dropped before anyone reads them.
    await vi.waitFor(
      () => expect(validator.snapshot().gossipRejected - rejectedBefore).toBeGreaterThanOrEqual(3),
      { timeout: 10_000 },
    )
    // The gossipsub implementation scores peers; its public type does not list getScore.
    const pubsubOfValidator = validator.peer.services.pubsub as unknown as {
      getScore(peer: string): number
    }
    const scoreOfAttacker = () => pubsubOfValidator.getScore(attacker.peerId.toString())
    await vi.waitFor(() => expect(scoreOfAttacker()).toBeLessThan(-80), { timeout: 10_000 })
    // gossipsub lets a peer that scored well in the last second through unscored (its accept
    // window); wait that window out so the flood meets the score the rejections earned.
    await new Promise((r) => setTimeout(r, 1100))
    // A flood after that is never read, let alone queued for re-execution.
    const before = validator.snapshot()
    for (let i = 0; i < 300; i++)
      await pubsub
        .publish(topic, encoder.encode(JSON.stringify({ ...complete, tokens: [i] })))
        .catch(() => {})
    await new Promise((r) => setTimeout(r, 1000))
    const after = validator.snapshot()
    expect(
      after.gossipRejected + after.gossipLimited - before.gossipRejected - before.gossipLimited,
    ).toBe(0)
    expect(after.gossipAccepted).toBe(before.gossipAccepted)
    await validator.settled()
    expect(validator.store.countEvidence()).toBe(evidenceBefore)
    expect(evidenceAgainst(hotkeys.A)).toEqual([])
    expect(scoreOfAttacker()).toBeLessThan(-80) // still below the graylist
  })
})

describe('a cheater is caught on user traffic, and the gateway stops routing to it', () => {
  it('C is flagged with self-proving evidence, benched by the gateway, and not routed to', async () => {
    const cheated = await chat({ messages: messages(7), seed: 7, provider: { only: [hotkeys.C] } })
    expect(cheated.status).toBe(200)
    await vi.waitFor(() => expect(evidenceAgainst(hotkeys.C).length).toBeGreaterThan(0), {
      timeout: 60_000,
      interval: 250,
    })
    const [record] = evidenceAgainst(hotkeys.C)
    // Evidence is the miner's own signed receipt and what it commits to, and an honest run.
    expect(lower(record!.evidence.bundle.receipt.minerHotkey)).toBe(lower(hotkeys.C))
    expect(record!.evidence.mismatches.join()).toMatch(/outputHash|traceRoot/)
    await vi.waitFor(() => expect(gateway.benched.has(lower(hotkeys.C))).toBe(true), {
      timeout: 60_000,
      interval: 250,
    })
    const routed = await Promise.all(
      Array.from({ length: 12 }, (_, i) => chat({ messages: messages(100 + i), seed: 100 + i })),
    )
    expect(routed.every((r) => r.status === 200)).toBe(true)
    const miners = routed.map((r) =>
      lower((r.body.verity as { receipt: { minerHotkey: string } }).receipt.minerHotkey),
    )
    expect(miners).not.toContain(lower(hotkeys.C))
  })

  it('a receipt disputable for too short a window counts against its miner', async () => {
    const short = await chat({ messages: messages(8), seed: 8, provider: { only: [hotkeys.D] } })
    expect(short.status).toBe(200)
    const receipt = (
      short.body.verity as { receipt: { issuedBlock: number; validUntilBlock: number } }
    ).receipt
    expect(receipt.validUntilBlock - receipt.issuedBlock).toBe(5)
    await vi.waitFor(() => expect(evidenceAgainst(hotkeys.D).length).toBeGreaterThan(0), {
      timeout: 60_000,
      interval: 250,
    })
    expect(evidenceAgainst(hotkeys.D)[0]!.evidence.mismatches.join()).toMatch(/validUntilBlock/)
  })
})

describe('any client can hand an answer in for checking', () => {
  it('202 for a verifiable answer, which validators then check; 400 naming the problem otherwise', async () => {
    const answer = await chat({ messages: messages(9), seed: 9, provider: { only: [hotkeys.B] } })
    const submit = (body: unknown) =>
      fetch(`${gateway.server.url}/v1/verity/receipts`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      })
    const ok = await submit(answer.body)
    expect(ok.status).toBe(202)
    expect(await ok.json()).toMatchObject({ accepted: true })
    const verity = answer.body.verity as Record<string, unknown>
    const bad = await submit({ ...verity, tokens: [1, 2, 3] })
    expect(bad.status).toBe(400)
    expect(await bad.json()).toMatchObject({
      error: { code: 'invalid_receipt', message: expect.stringMatching(/outputHash/) },
    })
    // The same through the CLI, as a user hands in a saved response.
    const file = join(dir, 'answer.json')
    writeFileSync(file, JSON.stringify(answer.body))
    const cli = await run('node', [
      join(process.cwd(), 'bin', 'verity.js'),
      'receipts',
      'submit',
      file,
      '--gateway',
      gateway.server.url,
    ])
    expect(cli.stdout).toMatch(/^accepted/)
    writeFileSync(file, JSON.stringify({ ...answer.body, verity: { ...verity, tokens: [] } }))
    const refused = await run('node', [
      join(process.cwd(), 'bin', 'verity.js'),
      'receipts',
      'submit',
      file,
      '--gateway',
      gateway.server.url,
    ]).catch((e) => e as { code: number; stderr: string })
    expect(refused).toMatchObject({ code: 1 })
    expect((refused as { stderr: string }).stderr).toMatch(/^error: receipt outputHash/m)
    const partial = await submit({ receipt: verity.receipt })
    expect(partial.status).toBe(400)
    expect(((await partial.json()) as { error: { message: string } }).error.message).toMatch(
      /no 'request'/,
    )
  })
})

describe('after all of it, the validator still sets weights', () => {
  it('scores A and B above zero, C and D at zero, and commits them', async () => {
    await validator.settled()
    const scores = validator.scores(validator.view.epoch)
    const weight = (k: string) => scores.find((s) => lower(s.hotkey) === lower(k))?.weight ?? 0
    expect(weight(hotkeys.A)).toBeGreaterThan(0)
    expect(weight(hotkeys.B)).toBeGreaterThan(0)
    expect(weight(hotkeys.C)).toBe(0)
    expect(weight(hotkeys.D)).toBe(0)
    expect(await validator.tick()).toMatchObject({ committed: true })
  })

  it("the gateway then routes by each miner's incentive, read from chain", async () => {
    const owner = devnet.walletClients[0]!
    const subnet = { address: devnet.addresses.verity, netuid: 1 }
    await runEpoch(owner, subnet) // the commit's reveal epoch begins
    expect(await validator.tick()).toMatchObject({ revealed: 1 })
    await runEpoch(owner, subnet) // the revealed weights make incentive
    await gateway.view.refresh({ metagraph: true })
    const neurons = new Map(gateway.view.neurons.map((n) => [lower(n.hotkey), n]))
    const pool = new Map(gateway.pool.status().map((m) => [lower(m.hotkey), m.score]))
    for (const k of ['A', 'B'] as const) {
      const incentive = neurons.get(lower(hotkeys[k]))!.incentive
      expect(incentive).toBeGreaterThan(0)
      expect(pool.get(lower(hotkeys[k]))).toBeCloseTo(Math.max(incentive / 65535, 0.05), 6)
    }
    expect(neurons.get(lower(hotkeys.C))!.incentive).toBe(0)
    expect(pool.get(lower(hotkeys.C))).toBe(0)
  })
})
