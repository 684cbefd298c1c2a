import { type ChildProcess, spawn } from 'node:child_process'
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import OpenAI from 'openai'
import { type Address, formatEther, keccak256, parseEther } from 'viem'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { approveToken } from '../src/chain/actions/approveToken.ts'
import { createOrder } from '../src/chain/actions/createOrder.ts'
import { getLease } from '../src/chain/actions/getLease.ts'
import { getOrder } from '../src/chain/actions/getOrder.ts'
import { publishSpec } from '../src/chain/actions/publishSpec.ts'
import { transferToken } from '../src/chain/actions/transferToken.ts'
import { writeDeployment } from '../src/chain/deployment.ts'
import { type Devnet, devnetDeployment, startDevnet } from '../src/chain/devnet.ts'
import { CloseReason, deployMarket, LeaseState, OrderState } from '../src/chain/market.ts'
import { startDevnetProviders } from '../src/cli/devnet-providers.ts'
import { DEFAULT_MODEL_PATH, loadModelFile } from '../src/cli/model-file.ts'
import type { RunningProvider } from '../src/market/start.ts'
import { processAlive } from '../src/market/workload.ts'
import { createWallet } from '../src/node/wallet.ts'
import { toHex } from '../src/runtime/trace/merkle.ts'
import { runVerity } from './verity-cli.ts'

/**
 * The compute market end to end on a devnet: three providers (0.001, 0.002 and 0.003 VTY per
 * block) rent out this machine; a tenant runs `verity deploy` on a spec, gets the cheapest
 * lease, chats through its base URL with the openai client, verifies the answer by re-execution,
 * closes the lease; the workload process is gone and the provider earned exactly price x blocks.
 */

const root = join(import.meta.dirname, '..')
const dir = mkdtempSync(join(tmpdir(), 'verity-market-e2e-'))
const manifest = join(dir, 'deployment.json')
const pass = join(dir, 'pass')
let devnet: Devnet
let market: Address
let providers: (RunningProvider & { label: string })[] = []
let modelRoot: string
const TENANT = 5
/** Provider processes a test started: killed in afterAll even when the test failed midway. */
const children: ChildProcess[] = []

const verity = (...args: string[]) => runVerity(args)

const target = () => ['--rpc', devnet.rpcUrl, '--deployment', manifest]
const chain = () => [...target(), '--passphrase-file', pass]
const tenantKey = () => join(dir, 'wallets', 'tenant', 'coldkey.json')

function writeSpec(name: string, placement: string, maxPrice = '0.01'): string {
  const path = join(dir, name)
  writeFileSync(
    path,
    `version: "1.0"
services:
  chat:
    model:
      root: "${modelRoot}"
      name: verity-tiny
    params:
      maxTokens: 16
profiles:
  compute:
    small:
      resources:
        cpu: { units: 1 }
        memory: { size: 1Gi }
        storage: { size: 1Gi }
  placement:
    here:
      attributes: { ${placement} }
      pricing:
        small: { denom: vty, amount: "${maxPrice}" }
deployment:
  chat:
    here: { profile: small, count: 1 }
`,
  )
  return path
}

/** A dev keyfile for devnet account `index` in the test's wallets, funded with `amount` VTY. */
async function fundedKeyfile(wallet: string, index: number, amount: bigint): Promise<string> {
  createWallet({
    dir: join(dir, 'wallets'),
    wallet,
    passphrase: 'market e2e',
    dev: { chainId: devnet.chain.id, index },
  })
  await transferToken(devnet.walletClients[0]!, {
    token: devnet.addresses.token,
    to: devnet.accounts[index]!.address,
    amount,
  })
  return join(dir, 'wallets', wallet, 'coldkey.json')
}

async function vty(who: Address): Promise<bigint> {
  return (await devnet.publicClient.readContract({
    address: devnet.addresses.token,
    abi: [
      {
        type: 'function',
        name: 'balanceOf',
        stateMutability: 'view',
        inputs: [{ name: 'a', type: 'address' }],
        outputs: [{ name: '', type: 'uint256' }],
      },
    ],
    functionName: 'balanceOf',
    args: [who],
  })) as bigint
}

async function until<T>(
  what: string,
  fn: () => Promise<T | undefined> | T | undefined,
  ms = 20_000,
): Promise<T> {
  const end = Date.now() + ms
  for (;;) {
    const v = await fn()
    if (v !== undefined && v !== false) return v
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 100))
  }
}

beforeAll(async () => {
  devnet = await startDevnet({ accounts: 9 })
  market = await deployMarket(devnet.publicClient, devnet.walletClients[0]!, {
    token: devnet.addresses.token,
    bidDeposit: parseEther('5'),
    minEscrow: parseEther('1'),
  })
  writeDeployment(manifest, devnetDeployment(devnet, undefined, market))
  writeFileSync(pass, 'market e2e\n')
  const model = loadModelFile(DEFAULT_MODEL_PATH, { threads: 1 })
  modelRoot = toHex(model.modelRoot)
  await fundedKeyfile('tenant', TENANT, parseEther('1000'))
  providers = await startDevnetProviders(devnet, {
    indexes: [1, 2, 3],
    market,
    dataDir: dir,
    modelPath: DEFAULT_MODEL_PATH,
    modelRoot: modelRoot as `0x${string}`,
    pollMs: 250,
  })
}, 120_000)

afterAll(async () => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL')
  for (const p of providers) await p.stop().catch(() => {})
  await devnet?.stop()
  rmSync(dir, { recursive: true, force: true })
})

describe('compute market, end to end', () => {
  it('deploy → cheapest lease → chat with the openai client → verify --reexecute → close: workload gone, provider paid price x blocks', async () => {
    const cheapest = providers[0]!
    const before = await vty(cheapest.node.address)
    const started = Date.now()
    const r = await verity(
      'deploy',
      writeSpec('chat.yaml', 'tier: community'),
      '--key',
      tenantKey(),
      '--json',
      '--bid-window',
      '40',
      ...chain(),
    )
    expect(r.code, r.stderr).toBe(0)
    const deployed = JSON.parse(r.stdout.trim()) as {
      leaseId: string
      provider: Address
      pricePerBlock: string
      baseUrl: string
      apiKey: string
      receiptSigner: Address
    }
    const deployToReady = Date.now() - started
    expect(deployed.provider).toBe(cheapest.node.address)
    expect(deployed.pricePerBlock).toBe(parseEther('0.001').toString())
    expect(deployed.baseUrl).toBe(`${cheapest.ingress.url}/leases/${deployed.leaseId}/v1`)
    // every provider bid; the others lost and got their deposits back
    const leaseId = BigInt(deployed.leaseId)
    const lease = await getLease(devnet.publicClient, { address: market, leaseId })
    expect(lease.state).toBe(LeaseState.ACTIVE)
    expect(cheapest.node.stats.bids).toBe(1)
    for (const p of providers.slice(1)) expect(p.node.stats.bids).toBe(1)

    // the tenant's API key only
    const wrong = new OpenAI({ baseURL: deployed.baseUrl, apiKey: 'not-the-key' })
    await expect(wrong.models.list()).rejects.toMatchObject({ status: 401 })
    const client = new OpenAI({ baseURL: deployed.baseUrl, apiKey: deployed.apiKey })
    const models = await client.models.list()
    const modelId = models.data[0]!.id
    const firstTokenStart = Date.now()
    const stream = await client.chat.completions.create({
      model: modelId,
      messages: [{ role: 'user', content: 'In the beginning' }],
      max_tokens: 8,
      seed: 7,
      stream: true,
    })
    let firstToken: number | undefined
    for await (const chunk of stream) {
      if (firstToken === undefined && chunk.choices[0]?.delta?.content) firstToken = Date.now()
    }
    expect(firstToken).toBeDefined()
    const completion = await client.chat.completions.create({
      model: modelId,
      messages: [{ role: 'user', content: 'In the beginning' }],
      max_tokens: 8,
      seed: 7,
    })
    const saved = join(dir, 'response.json')
    writeFileSync(saved, JSON.stringify(completion))
    const receipt = (completion as unknown as { verity: { receipt: { minerHotkey: string } } })
      .verity.receipt
    expect(receipt.minerHotkey.toLowerCase()).toBe(deployed.receiptSigner.toLowerCase())
    const verified = await verity('verify', saved, '--reexecute')
    expect(verified.code, verified.stderr + verified.stdout).toBe(0)
    // with the chain: the lease stands behind the signer
    const onChain = await verity('verify', saved, '--lease', deployed.leaseId, ...target())
    expect(onChain.code, onChain.stderr + onChain.stdout).toBe(0)
    expect(onChain.stdout).toMatch(/lease ok: .* signs for lease \d+, vouched for by its provider/)
    const noLease = await verity('verify', saved, ...target())
    expect(noLease.code).toBe(2)
    expect(noLease.stderr).toMatch(/pass --lease <id>/)
    // a changed answer does not verify
    const tampered = JSON.parse(JSON.stringify(completion))
    tampered.choices[0].message.content = `${tampered.choices[0].message.content}!`
    writeFileSync(saved, JSON.stringify(tampered))
    expect((await verity('verify', saved, '--reexecute')).code).toBe(1)

    const pid = cheapest.node.workloadPids()[0]!
    expect(processAlive(pid)).toBe(true)
    // the lease runs for a while: 25 more blocks
    await devnet.publicClient.request({ method: 'anvil_mine', params: ['0x19'] } as never)
    const close = await verity(
      'market',
      'close',
      deployed.leaseId,
      '--key',
      tenantKey(),
      ...chain(),
    )
    expect(close.code, close.stderr).toBe(0)
    await until('the workload to be torn down', () => !processAlive(pid))
    const gone = await fetch(`${deployed.baseUrl}/models`, {
      headers: { authorization: `Bearer ${deployed.apiKey}` },
    })
    expect(gone.status).toBe(410)
    const ended = await getLease(devnet.publicClient, { address: market, leaseId })
    expect(ended.state).toBe(LeaseState.CLOSED)
    expect(ended.reason).toBe(CloseReason.TENANT)
    const blocks = ended.closedBlock - ended.startBlock
    expect(blocks).toBeGreaterThan(25n)
    const earned = parseEther('0.001') * blocks
    expect(ended.paid).toBe(earned)
    // the bid deposit came back: the provider's VTY grew by exactly price x blocks
    expect((await vty(cheapest.node.address)) - before).toBe(earned)
    console.log(
      `market e2e: deploy to ready ${deployToReady} ms, request to first token ${firstToken! - firstTokenStart} ms, ${blocks} blocks leased, provider paid ${formatEther(earned)} VTY`,
    )
  }, 180_000)

  it('a spec no provider can place ends in "no bids" and the escrow returns', async () => {
    const tenant = devnet.accounts[TENANT]!.address
    const before = await vty(tenant)
    const r = await verity(
      'deploy',
      writeSpec('mars.yaml', 'region: mars'),
      '--key',
      tenantKey(),
      '--bid-window',
      '6',
      '--bid-timeout',
      '8',
      ...chain(),
    )
    expect(r.code).toBe(1)
    const lines = r.stderr.split('\n').filter((l) => l.startsWith('error: '))
    expect(lines).toHaveLength(1)
    expect(lines[0]).toMatch(/no bids .* the escrow was returned/)
    expect(await vty(tenant)).toBe(before)
    for (const p of providers) expect(p.node.stats.skipped).toBeGreaterThan(0)
  }, 120_000)

  it('an escrow that runs dry: the provider kills the workload within a poll and closes the lease for insufficient funds', async () => {
    const r = await verity(
      'deploy',
      writeSpec('small.yaml', 'tier: community'),
      '--key',
      tenantKey(),
      '--json',
      '--deposit',
      '1',
      '--bid-window',
      '40',
      ...chain(),
    )
    expect(r.code, r.stderr).toBe(0)
    const { leaseId } = JSON.parse(r.stdout.trim()) as { leaseId: string }
    const provider = providers[0]!
    const pid = await until('the workload', () => provider.node.workloadPids()[0])
    // 1 VTY at 0.001 per block lasts 1,000 blocks
    await devnet.publicClient.request({ method: 'anvil_mine', params: ['0x3e9'] } as never)
    await until('the workload to be torn down', () => !processAlive(pid), 10_000)
    const lease = await until('the lease to close', async () => {
      const l = await getLease(devnet.publicClient, { address: market, leaseId: BigInt(leaseId) })
      return l.state === LeaseState.CLOSED ? l : undefined
    })
    expect(lease.reason).toBe(CloseReason.INSUFFICIENT_FUNDS)
    expect(lease.paid).toBe(parseEther('1'))
    const order = await getOrder(devnet.publicClient, { address: market, orderId: lease.orderId })
    expect(order.state).toBe(OrderState.CLOSED)
    expect(order.escrow).toBe(0n)
  }, 180_000)

  it('a provider process killed mid-lease takes its workload with it; restarted, it serves the paid lease again and tears it down at close', async () => {
    const PROVIDER = 4
    await fundedKeyfile('provider', PROVIDER, parseEther('100'))
    const dataDir = join(dir, 'cli-provider')
    // a provider's host URI is stable across restarts: one port for both runs
    const port = await new Promise<number>((resolve) => {
      const srv = createServer().listen(0, '127.0.0.1', () => {
        const p = (srv.address() as { port: number }).port
        srv.close(() => resolve(p))
      })
    })
    const startCliProvider = async () => {
      const child = spawn(
        process.execPath,
        [
          join(root, 'bin/verity.js'),
          'node',
          '--role',
          'provider',
          '--key',
          join(dir, 'wallets', 'provider', 'coldkey.json'),
          '--data-dir',
          dataDir,
          '--model',
          'default',
          '--capacity',
          'cpu=1000m,memory=2Gi,storage=4Gi,gpu=0',
          '--attributes',
          'region=eu-north,tier=community',
          '--pricing',
          'base=0.005',
          '--port',
          String(port),
          '--poll-ms',
          '250',
          ...chain(),
        ],
        { env: { ...process.env, VERITY_PASSPHRASE: '' } },
      )
      children.push(child)
      let out = ''
      child.stdout.on('data', (d) => (out += d))
      child.stderr.on('data', (d) => (out += d))
      const url = await until(
        'the provider to start',
        () => /at (http:\/\/\S+);/.exec(out)?.[1],
        60_000,
      )
      return { child, url, output: () => out }
    }
    const workloadsOf = (ppid: number) =>
      readdirSync('/proc')
        .filter((d) => /^\d+$/.test(d))
        .map(Number)
        .filter((pid) => {
          try {
            const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
            const parent = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1])
            return (
              parent === ppid &&
              readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('lease-serve')
            )
          } catch {
            return false
          }
        })

    let provider = await startCliProvider()
    const r = await verity(
      'deploy',
      writeSpec('north.yaml', 'region: eu-north'),
      '--key',
      tenantKey(),
      '--json',
      '--bid-window',
      '40',
      ...chain(),
    )
    expect(r.code, r.stderr + provider.output()).toBe(0)
    const deployed = JSON.parse(r.stdout.trim()) as {
      leaseId: string
      provider: Address
      baseUrl: string
      apiKey: string
    }
    expect(deployed.provider).toBe(devnet.accounts[PROVIDER]!.address)
    const [workload] = workloadsOf(provider.child.pid!)
    expect(workload).toBeDefined()

    // killed without a chance to clean up: the workload goes with it
    provider.child.kill('SIGKILL')
    await until('the workload to exit with its provider', () => !processAlive(workload!), 10_000)

    // restarted: the lease is still active and paid, so it is served again
    provider = await startCliProvider()
    const status = await until(
      'the lease to run again',
      async () => {
        const res = await fetch(`${provider.url}/leases/${deployed.leaseId}`).catch(() => undefined)
        const body = res?.ok ? ((await res.json()) as { state: string }) : undefined
        return body?.state === 'running' ? body : undefined
      },
      60_000,
    )
    expect(status.state).toBe('running')
    const client = new OpenAI({ baseURL: deployed.baseUrl, apiKey: deployed.apiKey })
    const answer = await client.completions.create({
      model: (await client.models.list()).data[0]!.id,
      prompt: 'And God said',
      max_tokens: 4,
      seed: 1,
    })
    expect(answer.choices[0]!.text.length).toBeGreaterThan(0)
    const [again] = workloadsOf(provider.child.pid!)
    expect(again).toBeDefined()

    // closed while the provider is down: a restart does not bring it back
    const exited = new Promise((res) => provider.child.once('exit', res))
    provider.child.kill('SIGTERM')
    await exited
    expect(processAlive(again!)).toBe(false)
    const close = await verity(
      'market',
      'close',
      deployed.leaseId,
      '--key',
      tenantKey(),
      ...chain(),
    )
    expect(close.code, close.stderr).toBe(0)
    provider = await startCliProvider()
    await until('the restarted provider to record the lease as ended', async () => {
      const res = await fetch(`${provider.url}/leases/${deployed.leaseId}`)
      return res.ok && ((await res.json()) as { state: string }).state === 'stopped'
    })
    expect(workloadsOf(provider.child.pid!)).toEqual([])
    const stopped = new Promise((res) => provider.child.once('exit', res))
    provider.child.kill('SIGTERM')
    await stopped
  }, 240_000)

  it("a workload that cannot live in its memory is given up after three tries: the lease closes as the provider's, the rest of the escrow returns", async () => {
    const path = writeSpec('tiny-memory.yaml', 'tier: community').replace(
      'tiny-memory',
      'tiny-memory',
    )
    writeFileSync(path, readFileSync(path, 'utf8').replace('size: 1Gi }', 'size: 16Mi }'))
    const r = await verity(
      'deploy',
      path,
      '--key',
      tenantKey(),
      '--json',
      '--bid-window',
      '40',
      ...chain(),
    )
    // the endpoint may come up between kills, or be seen stopped: either way the lease ends
    const leaseId =
      r.code === 0
        ? BigInt((JSON.parse(r.stdout.trim()) as { leaseId: string }).leaseId)
        : undefined
    const id =
      leaseId ??
      (await until('the lease', async () => {
        const m = /lease (\d+)/.exec(r.stderr)
        return m ? BigInt(m[1]!) : undefined
      }))
    const lease = await until(
      'the provider to give the lease up',
      async () => {
        const l = await getLease(devnet.publicClient, { address: market, leaseId: id })
        return l.state === LeaseState.CLOSED ? l : undefined
      },
      60_000,
    )
    expect([CloseReason.PROVIDER, CloseReason.PROVIDER_GONE]).toContain(lease.reason)
    expect(providers[0]!.node.workloadPids()).toEqual([])
    const order = await getOrder(devnet.publicClient, { address: market, orderId: lease.orderId })
    expect(order.escrow).toBe(0n)
    expect(lease.paid).toBe(parseEther('0.001') * (lease.closedBlock - lease.startBlock))
  }, 120_000)

  it('adversarial and concurrent orders: garbage or keyless specs get no bid; three deploys at once share out the capacity', async () => {
    const tenant = devnet.walletClients[TENANT]!
    const skippedBefore = providers.map((p) => p.node.stats.skipped)
    const bidsBefore = providers.map((p) => p.node.stats.bids)
    const order = (bytes: Uint8Array) => ({
      specHash: keccak256(bytes),
      resources: { cpuMilli: 1000, gpuUnits: 0, memoryBytes: 1n << 30n, storageBytes: 1n << 30n },
      maxPricePerBlock: parseEther('0.01'),
      bidWindow: 30n,
      requirements: { tier: 'community' },
    })
    await approveToken(tenant, {
      token: devnet.addresses.token,
      spender: market,
      amount: parseEther('3'),
    })
    const garbage = new TextEncoder().encode('{"version": "1.0", "services": {"chat": 7}}')
    const keyless = new TextEncoder().encode(
      readFileSync(writeSpec('keyless.yaml', 'tier: community'), 'utf8'),
    )
    for (const bytes of [garbage, keyless, new Uint8Array([0xff, 0xfe, 0x00])]) {
      const { orderId } = await createOrder(tenant, {
        address: market,
        order: order(bytes),
        deposit: parseEther('1'),
      })
      await publishSpec(tenant, { address: market, orderId, spec: bytes })
    }
    await until('every provider to turn the three down', () =>
      providers.every((p, i) => p.node.stats.skipped >= skippedBefore[i]! + 3) ? true : undefined,
    )
    expect(providers.map((p) => p.node.stats.bids)).toEqual(bidsBefore)

    // three tenants at once: the cheapest provider has room for two (2,000m of CPU, 1,000m each)
    for (const n of [1, 2, 3]) {
      await fundedKeyfile(`tenant-${n}`, 5 + n, parseEther('100'))
    }
    const keyOf = (n: number) => join(dir, 'wallets', `tenant-${n}`, 'coldkey.json')
    const runs = await Promise.all(
      [1, 2, 3].map((n) =>
        verity(
          'deploy',
          writeSpec(`many-${n}.yaml`, 'tier: community'),
          '--key',
          keyOf(n),
          '--json',
          '--bid-window',
          '60',
          ...chain(),
        ),
      ),
    )
    const leases = runs.map((r) => {
      expect(r.code, r.stderr).toBe(0)
      return JSON.parse(r.stdout.trim()) as {
        leaseId: string
        provider: Address
        baseUrl: string
        apiKey: string
      }
    })
    expect(new Set(leases.map((l) => l.leaseId)).size).toBe(3)
    const byProvider = (p: RunningProvider) =>
      leases.filter((l) => l.provider === p.node.address).length
    expect(byProvider(providers[0]!)).toBe(2)
    expect(byProvider(providers[1]!)).toBe(1)
    // each answers with its own key only
    for (const [i, l] of leases.entries()) {
      const other = leases[(i + 1) % 3]!
      const res = await fetch(`${l.baseUrl}/models`, {
        headers: { authorization: `Bearer ${other.apiKey}` },
      })
      expect(res.status).toBe(401)
      const ok = await fetch(`${l.baseUrl}/models`, {
        headers: { authorization: `Bearer ${l.apiKey}` },
      })
      expect(ok.status).toBe(200)
    }
    // an answer of lease A does not pass as lease B's
    const a = leases[0]!
    const client = new OpenAI({ baseURL: a.baseUrl, apiKey: a.apiKey })
    const answer = await client.completions.create({
      model: (await client.models.list()).data[0]!.id,
      prompt: 'And the earth',
      max_tokens: 3,
    })
    const file = join(dir, 'lease-a.json')
    writeFileSync(file, JSON.stringify(answer))
    expect((await verity('verify', file, '--lease', a.leaseId, ...target())).code).toBe(0)
    const asB = await verity('verify', file, '--lease', leases[2]!.leaseId, ...target())
    expect(asB.code).toBe(1)
    expect(asB.stderr).toMatch(/error: receipt\.(minerHotkey|issuedBlock): /)
    await Promise.all(
      leases.map((l, i) => verity('market', 'close', l.leaseId, '--key', keyOf(i + 1), ...chain())),
    )
    await until('every workload to be torn down', () =>
      providers.every((p) => p.node.workloadPids().length === 0) ? true : undefined,
    )
  }, 180_000)

  it('a spec whose second instance gets no bid says which lease already runs, and its key', async () => {
    const path = writeSpec('two.yaml', 'region: eu-west')
    writeFileSync(
      path,
      readFileSync(path, 'utf8')
        .replace('cpu: { units: 1 }', 'cpu: { units: 2 }')
        .replace('count: 1', 'count: 2'),
    )
    const r = await verity(
      'deploy',
      path,
      '--key',
      tenantKey(),
      '--bid-window',
      '40',
      '--bid-timeout',
      '6',
      ...chain(),
    )
    expect(r.code).toBe(1)
    const lines = r.stderr.split('\n').filter((l) => l.startsWith('error: '))
    expect(lines).toHaveLength(1)
    expect(lines[0]).toMatch(/no bids for chat\/here#1/)
    const running = /already running: lease (\d+) \(http[^)]+\); API key (vty-\S+);/.exec(r.stderr)
    expect(running, r.stderr).not.toBeNull()
    const close = await verity('market', 'close', running![1]!, '--key', tenantKey(), ...chain())
    expect(close.code, close.stderr).toBe(0)
  }, 120_000)
})
