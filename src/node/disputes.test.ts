import { spawn } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { type Hex, parseEther, toHex } from 'viem'
import { readContract } from 'viem/actions'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { completionRequest, signedCoreAnswer } from '../../test/core-answer.ts'
import { trainedModelBytes } from '../../test/trained-model.ts'
import { verityAbi } from '../chain/abis.ts'
import { getDispute } from '../chain/actions/getDispute.ts'
import { listDisputes } from '../chain/actions/listDisputes.ts'
import { openDispute } from '../chain/actions/openDispute.ts'
import { timeoutDispute } from '../chain/actions/timeoutDispute.ts'
import { transferToken } from '../chain/actions/transferToken.ts'
import { writeDeployment } from '../chain/deployment.ts'
import { type Devnet, devnetDeployment, startDevnet } from '../chain/devnet.ts'
import { DEVNET_DISPUTE_PARAMS, installDisputeGame } from '../chain/devnet-dispute.ts'
import { DisputePhase, DisputeReason } from '../chain/dispute.ts'
import { testModel } from '../runtime/test-model.ts'
import { tokenizerFromGguf } from '../runtime/tokenizer/index.ts'
import type { SignedReceipt } from '../types/inference.ts'
import { openParams } from '../verify/dispute/open.ts'
import { receiptDigest } from '../verify/receipt.ts'
import { connectChain } from './chain.ts'
import { ensureBond } from './challenge.ts'
import { DisputeService } from './disputes.ts'
import { type RunningNode, setupSubnet, startMinerNode, startValidatorNode } from './network.ts'
import { longestGameBlocks } from './retention.ts'
import { NodeStore } from './store.ts'
import type { ValidatorService } from './validator.ts'
import { createWallet } from './wallet.ts'

/**
 * Nodes playing the dispute game on a devnet with the real core: validators open disputes on
 * their own evidence and play them, miners answer from their SQLite store; concurrency (two
 * validators on one receipt), a dispute over a receipt the miner does not hold, and restarts of
 * either side mid-game on the same database.
 */

const model = testModel()
const tokenizer = tokenizerFromGguf(model.metadata)
const dir = mkdtempSync(join(tmpdir(), 'verity-disputes-'))
// Short games for a test: an 8-block window and 100-block receipts need an unstake delay of
// 100 + 80 * 8 + 1 = 741 blocks, so the game's installation mines through a short delay.
const PARAMS = { ...DEVNET_DISPUTE_PARAMS, window: 8, maxValidity: 100 }
const HONEST = 1
const CHEATER = 2
const VALIDATORS = [3, 4]
const LIAR = 5
let devnet: Devnet
let game: `0x${string}`
let netuid: number
const running: RunningNode[] = []
const extra: { stop(): Promise<void> }[] = []

const ctx = (i: number) =>
  connectChain({
    rpcUrl: devnet.rpcUrl,
    account: devnet.accounts[i]!.account as never,
    netuid,
    address: devnet.addresses.verity,
    disputeGame: game,
  })

const stakeOf = async (hotkey: `0x${string}`) =>
  await readContract(devnet.publicClient, {
    address: devnet.addresses.verity,
    abi: verityAbi,
    functionName: 'stakeOf',
    args: [netuid, hotkey],
  })

async function until<T>(
  what: string,
  fn: () => Promise<T | undefined> | T | undefined,
  ms = 90_000,
) {
  const end = Date.now() + ms
  for (;;) {
    const value = await fn()
    if (value !== undefined && value !== false) return value as T
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 100))
  }
}

/** Mines a block every 400 ms (the chain moves on, so a side that stops moving is timed out). */
function ticking(): () => void {
  const timer = setInterval(() => {
    void devnet.publicClient.request({ method: 'anvil_mine', params: ['0x1'] } as never)
  }, 400)
  return () => clearInterval(timer)
}

const miner = (i: number, cheat?: 'subtle') =>
  ctx(i).then((chain) =>
    startMinerNode({
      hotkey: devnet.accounts[i]!.account as never,
      chain,
      model,
      tokenizer,
      dataDir: join(dir, `m${i}`),
      disputes: { pollMs: 100 },
      ...(cheat ? { cheat } : {}),
    }),
  )

const validator = (i: number) =>
  ctx(i).then((chain) =>
    startValidatorNode({
      hotkey: devnet.accounts[i]!.account as never,
      chain,
      model,
      tokenizer,
      dataDir: join(dir, `v${i}`),
      queriesPerMiner: 1,
      probe: 'epoch',
      loop: false,
      disputes: { pollMs: 100 },
    }),
  )

/** A validator's synthetic check of the miner `i`, through libp2p, re-executed. */
async function probe(v: RunningNode, i: number) {
  const service = v.service as ValidatorService
  await service.view.refresh({ metagraph: true })
  const target = await until('the miner to be found', async () =>
    (await service.discoverMiners()).find(
      (n) => n.hotkey.toLowerCase() === devnet.accounts[i]!.address.toLowerCase(),
    ),
  )
  await service.probe(target)
  await service.settled()
}

const request = completionRequest(model)

/** A receipt the miner `i` signs for `request` (honestly), outside its node. */
const signedAnswer = (i: number) =>
  signedCoreAnswer({
    devnet,
    netuid,
    model,
    miner: devnet.accounts[i]!.account,
    request,
    validity: PARAMS.maxValidity,
  })

/** Opens a dispute over `answer` claiming a made-up traceRoot (a lying challenger). */
async function lie(answer: { receipt: SignedReceipt; tokens: number[] }): Promise<bigint> {
  const chain = await ctx(LIAR)
  await ensureBond(chain, game, PARAMS.bond)
  const open = openParams({
    ...answer,
    request,
    model,
    claimedRoot: toHex(crypto.getRandomValues(new Uint8Array(32))) as Hex,
  })
  return (await openDispute(chain.walletClient, { address: game, open })).id
}

beforeAll(async () => {
  devnet = await startDevnet({ accounts: 8, unstakeDelay: 768 })
  ;({ game } = await installDisputeGame(devnet, { params: PARAMS }))
  netuid = await setupSubnet(devnet, {
    model,
    ggufBytes: trainedModelBytes(),
    miners: [HONEST, CHEATER].map((i) => devnet.walletClients[i]!),
    validators: VALIDATORS.map((i) => devnet.walletClients[i]!),
    minerStake: parseEther('100'),
  })
  for (const i of [...VALIDATORS, LIAR])
    await transferToken(devnet.walletClients[0]!, {
      token: devnet.addresses.token,
      to: devnet.accounts[i]!.address,
      amount: parseEther('1000'),
    })
}, 300_000)

afterAll(async () => {
  for (const n of [...running, ...extra].reverse()) await n.stop().catch(() => {})
  await devnet?.stop()
  rmSync(dir, { recursive: true, force: true })
})

describe('nodes play the dispute game', () => {
  it('two validators dispute one receipt of a subtle cheater at once: both win, it slashes once', async () => {
    const cheater = await miner(CHEATER, 'subtle')
    running.push(cheater)
    const [a, b] = [await validator(VALIDATORS[0]!), await validator(VALIDATORS[1]!)]
    running.push(a, b)
    const before = await stakeOf(devnet.accounts[CHEATER]!.address)
    await probe(a, CHEATER)
    // A's evidence opens a dispute by itself; B disputes the same receipt while it runs.
    const [evidence] = a.store.evidence()
    expect(evidence?.evidence.mismatches.some((m) => m.startsWith('traceRoot'))).toBe(true)
    await until('A to open', () => a.store.disputes(game, 'challenger').length === 1)
    // B may already hold A's evidence through gossip (re-executed, it is B's evidence too, and
    // B opens by itself); either way B disputes the receipt once.
    const second = await b.disputes!.challenge(evidence!.evidence.bundle)
    if (!second.opened) expect(second.reason).toMatch(/already disputed/)
    await until('B to open', () => b.store.disputes(game, 'challenger').length === 1)
    expect(b.store.disputes(game, 'challenger')[0]!.digest).toBe(
      a.store.disputes(game, 'challenger')[0]!.digest,
    )
    const done = (n: RunningNode) =>
      n.store.disputes(game, 'challenger').every((d) => d.status === 'done')
    await until('both games to end', () => done(a) && done(b))
    for (const n of [a, b]) {
      const [row] = n.store.disputes(game, 'challenger')
      expect(row).toMatchObject({ status: 'done', minerLost: true })
    }
    const games = await listDisputes(devnet.publicClient, {
      address: game,
      miner: devnet.accounts[CHEATER]!.address,
    })
    expect(games).toHaveLength(2)
    expect(games[0]!.receiptDigest).toBe(games[1]!.receiptDigest)
    const slashes = games.map((g) => g.slashed).filter((s) => s > 0n)
    expect(slashes).toHaveLength(1)
    expect(await stakeOf(devnet.accounts[CHEATER]!.address)).toBe(before - slashes[0]!)
    const minerRows = cheater.store.disputes(game, 'miner')
    expect(minerRows.map((r) => r.minerLost)).toEqual([true, true])
    // as /metrics counts them: each validator opened one and won it; the miner lost both
    for (const n of [a, b]) {
      const disputes = (event: string) =>
        n.metrics.value(n.metrics.disputes, { role: 'challenger', event })
      expect([await disputes('opened'), await disputes('won'), await disputes('lost')]).toEqual([
        1, 1, 0,
      ])
    }
    const lost = (event: string) =>
      cheater.metrics.value(cheater.metrics.disputes, { role: 'miner', event })
    expect([await lost('opened'), await lost('won'), await lost('lost')]).toEqual([2, 0, 2])
    expect(await a.metrics.value(a.metrics.mismatches)).toBe(a.store.countEvidence())
    // once per receipt per validator
    expect(await a.disputes!.challenge(evidence!.evidence.bundle)).toMatchObject({ opened: false })
  }, 180_000)

  it('a dispute over a receipt the miner does not hold: it logs, keeps serving, and loses by timeout', async () => {
    const honest = await miner(HONEST)
    running.push(honest)
    const id = await lie(await signedAnswer(HONEST))
    await until('the miner to file it', () =>
      honest.store.disputes(game, 'miner').find((d) => d.id === id),
    )
    expect(honest.store.disputes(game, 'miner').find((d) => d.id === id)?.status).toBe('unplayable')
    expect(honest.disputes!.stats.unknown).toBe(1)
    // How long past validUntilBlock a miner keeps a receipt: the game's longest dispute, every
    // one of its 80 moves taking the whole 8-block window, and the timeout a block later.
    expect(await longestGameBlocks(await ctx(HONEST))).toBe(80 * PARAMS.window + 1)
    // still serving: a validator's check of it goes through and holds
    const [a] = running.filter((n) => n.role === 'validator')
    const checks = a!.store.checks().length
    await probe(a!, HONEST)
    expect(
      a!.store
        .checks()
        .slice(checks)
        .map((c) => c.outcome),
    ).toEqual(['ok'])
    // the liar ends it once the miner's deadline has passed
    const liar = await ctx(LIAR)
    const stop = ticking()
    try {
      await until('the dispute to end', async () => {
        const view = await getDispute(devnet.publicClient, { address: game, id })
        if (view.phase === DisputePhase.DONE) return true
        if ((await devnet.publicClient.getBlockNumber()) > BigInt(view.deadline))
          await timeoutDispute(liar.walletClient, { address: game, id }).catch(() => {})
        return undefined
      })
    } finally {
      stop()
    }
    const [g] = (await listDisputes(devnet.publicClient, { address: game })).filter(
      (x) => x.id === id,
    )
    expect(g!.decided).toMatchObject({ minerLost: true, reason: DisputeReason.TIMEOUT })
  }, 120_000)

  it('a miner stopped mid-game and started again on its database still beats a lying challenger', async () => {
    let honest = running.find((n) => n.role === 'miner' && n.disputes?.init.cheat === undefined)!
    const answer = await signedAnswer(HONEST)
    honest.store.putReceipt({ request, ...answer, caller: devnet.accounts[0]!.address })
    const id = await lie(answer)
    const liar = new DisputeService({
      role: 'challenger',
      chain: await ctx(LIAR),
      game,
      model,
      store: new NodeStore(join(dir, 'liar')),
      pollMs: 100,
      liar: { seed: 3 },
    })
    liar.init.store.putDispute({
      game,
      id,
      role: 'challenger',
      digest: (await getDispute(devnet.publicClient, { address: game, id })).receipt,
      request,
      tokens: answer.tokens,
      status: 'active',
      openedBlock: 0n,
    })
    await liar.start()
    extra.push({
      stop: async () => {
        await liar.stop()
        liar.init.store.close()
      },
    })
    await until('the game to reach R_p', async () => {
      const d = await getDispute(devnet.publicClient, { address: game, id })
      return d.phase >= DisputePhase.POSITION
    })
    await honest.stop()
    running.splice(running.indexOf(honest), 1)
    expect((await getDispute(devnet.publicClient, { address: game, id })).phase).not.toBe(
      DisputePhase.DONE,
    )
    honest = await miner(HONEST)
    running.push(honest)
    const stop = ticking()
    try {
      const row = await until('the game to end', () =>
        honest.store.disputes(game, 'miner').find((d) => d.id === id && d.status === 'done'),
      )
      expect(row.minerLost).toBe(false)
      expect(row.reason).not.toBe(DisputeReason.TIMEOUT)
    } finally {
      stop()
    }
  }, 120_000)

  it('a validator stopped mid-game and started again on its database still wins', async () => {
    let a = running.find((n) => n.role === 'validator')!
    const count = a.store.disputes(game, 'challenger').length
    await probe(a, CHEATER)
    const row = await until('A to open', () => a.store.disputes(game, 'challenger')[count])
    await until('the game to reach R_p', async () => {
      const d = await getDispute(devnet.publicClient, { address: game, id: row.id })
      return d.phase >= DisputePhase.POSITION
    })
    const dataDir = a.store.db.name
    await a.stop()
    running.splice(running.indexOf(a), 1)
    expect((await getDispute(devnet.publicClient, { address: game, id: row.id })).phase).not.toBe(
      DisputePhase.DONE,
    )
    expect(dataDir).toContain(`v${VALIDATORS[0]}`)
    a = await validator(VALIDATORS[0]!)
    running.push(a)
    const stop = ticking()
    try {
      const done = await until('the game to end', () =>
        a.store.disputes(game, 'challenger').find((d) => d.id === row.id && d.status === 'done'),
      )
      expect(done.minerLost).toBe(true)
      expect(done.reason).not.toBe(DisputeReason.TIMEOUT)
    } finally {
      stop()
    }
  }, 120_000)

  it('verity dispute open: a user re-executes a saved answer, opens and plays to the end; status and list', async () => {
    // The validators stop disputing by themselves: the user's dispute is the only one.
    const [a, b] = running.filter((n) => n.role === 'validator') as [RunningNode, RunningNode]
    await a.disputes!.stop()
    await b.disputes!.stop()
    expect(await b.disputes!.challenge(b.store.evidence().at(-1)!.evidence.bundle)).toEqual({
      opened: false,
      reason: 'the dispute service is stopped',
    })
    await probe(b, CHEATER)
    // b also checks answers gossiped by earlier tests, which a has disputed already: take a
    // receipt of the cheater that no dispute names yet.
    const named = new Set(
      (await listDisputes(devnet.publicClient, { address: game })).map((d) => d.receiptDigest),
    )
    const fresh = b.store
      .evidence()
      .filter(
        (e) =>
          e.hotkey.toLowerCase() === devnet.accounts[CHEATER]!.address.toLowerCase() &&
          !named.has(receiptDigest(e.evidence.bundle.receipt)),
      )
    expect(fresh.length).toBeGreaterThan(0)
    const saved = join(dir, 'answer.json')
    writeFileSync(saved, JSON.stringify(fresh.at(-1)!.evidence.bundle))
    const [hotkey] = createWallet({
      dir: join(dir, 'wallets'),
      wallet: 'user',
      hotkey: 'user',
      passphrase: 'pass',
      dev: { chainId: devnet.chain.id, index: LIAR - 1 },
    }).filter((e) => e.role === 'hotkey')
    expect(hotkey!.address).toBe(devnet.accounts[LIAR]!.address)
    const manifest = join(dir, 'deployment.json')
    writeDeployment(manifest, devnetDeployment(devnet, game))
    const cli = (...args: string[]) =>
      run(
        process.execPath,
        [bin, 'dispute', ...args, '--rpc', devnet.rpcUrl, '--deployment', manifest, '--json'],
        {
          encoding: 'utf8',
          env: { ...process.env, VERITY_PASSPHRASE: 'pass' },
        },
      )
    const opened = await cli('open', saved, '--key', hotkey!.path)
    expect(opened.stderr).toBe('')
    expect(opened.code).toBe(0)
    const result = JSON.parse(opened.stdout.trim().split('\n').pop()!)
    expect(result).toMatchObject({ opened: true, minerLost: true })
    expect(result.claim).toMatch(/^traceRoot: /)
    const status = await cli('status', result.id)
    expect(JSON.parse(status.stdout)).toMatchObject({
      phase: 'done',
      toMove: null,
      decided: { minerLost: true },
    })
    const list = await cli('list', '--hotkey', devnet.accounts[CHEATER]!.address, '--game', game)
    expect(JSON.parse(list.stdout).map((d: { id: string }) => d.id)).toContain(result.id)
    // once per receipt and challenger: the game refuses a second open, and the CLI says why
    const again = await cli('open', saved, '--key', hotkey!.path, '--no-play')
    expect(again.code).toBe(1)
    expect(again.stderr).toMatch(/^error: the game refused the dispute\n.*ReceiptAlready/)
    expect(again.stderr).not.toMatch(/at .*\.ts:\d+/)
  }, 120_000)
})

const bin = join(import.meta.dirname, '../../bin/verity.js')

function run(
  command: string,
  args: string[],
  options: { encoding: 'utf8'; env: NodeJS.ProcessEnv },
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(command, args, { env: options.env, stdio: ['ignore', 'pipe', 'pipe'] })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (d: Buffer) => {
      stdout += d
    })
    child.stderr.on('data', (d: Buffer) => {
      stderr += d
    })
    child.once('exit', (code) => resolve({ code, stdout, stderr }))
  })
}
