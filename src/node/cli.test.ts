import { type ChildProcess, spawn, spawnSync } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { type LocalAccount, privateKeyToAccount } from 'viem/accounts'
import { afterAll, describe, expect, it } from 'vitest'
import { trainedModelBytes } from '../../test/trained-model.ts'
import { createSubnet } from '../chain/actions/createSubnet.ts'
import { registerModel } from '../chain/actions/registerModel.ts'
import { registerNeuron } from '../chain/actions/registerNeuron.ts'
import { setSubnetModel } from '../chain/actions/setSubnetModel.ts'
import { writeDeployment } from '../chain/deployment.ts'
import { type Devnet, devnetDeployment, startDevnet } from '../chain/devnet.ts'
import { testModel } from '../runtime/test-model.ts'
import { tokenizerFromGguf } from '../runtime/tokenizer/index.ts'
import { toHex } from '../runtime/trace/merkle.ts'
import { readNeurons } from './chain.ts'
import { collect, Libp2pMinerClient } from './client.ts'
import { DEVNET_HYPERPARAMS, setupSubnet } from './network.ts'
import { createPeer } from './peer.ts'
import { createWallet } from './wallet.ts'

const dir = mkdtempSync(join(tmpdir(), 'verity-node-cli-'))
let devnet: Devnet | undefined
let child: ChildProcess | undefined
afterAll(async () => {
  if (child && child.exitCode === null) child.kill('SIGKILL')
  await devnet?.stop()
  rmSync(dir, { recursive: true, force: true })
})

describe('verity node', () => {
  it('runs a miner from a dev keyfile, publishes it on chain, serves, and stops on SIGINT', async () => {
    devnet = await startDevnet({ accounts: 4 })
    // dev wallet: coldkey = account 1, hotkey = account 2
    const [, hot] = createWallet({
      dir,
      wallet: 'm',
      hotkey: 'h',
      passphrase: 'pw',
      dev: { chainId: 31337, index: 1 },
    })
    expect(hot!.address).toBe(devnet.accounts[2]!.address)
    const model = testModel()
    const netuid = await setupSubnet(devnet, {
      model,
      ggufBytes: trainedModelBytes(),
      miners: [devnet.walletClients[2]!],
      validators: [],
      gateways: [devnet.walletClients[3]!],
    })
    const manifest = join(dir, 'deployment.json')
    writeDeployment(manifest, devnetDeployment(devnet))
    // it listens on two addresses and announces one: only that one is published
    const announced = `/ip4/127.0.0.2/tcp/${await freePort('127.0.0.2')}`
    child = spawn(
      'node',
      [
        'bin/verity.js',
        'node',
        '--role',
        'miner',
        '--rpc',
        devnet.rpcUrl,
        '--deployment',
        manifest,
        '--key',
        hot!.path,
        '--data-dir',
        join(dir, 'data'),
        '--netuid',
        String(netuid),
        '--listen',
        `/ip4/127.0.0.1/tcp/0,${announced}`,
        '--announce',
        announced,
        '--metrics-port',
        '0',
        '--log-level',
        'debug',
        '--log-format',
        'pretty',
      ],
      { env: { ...process.env, VERITY_PASSPHRASE: 'pw' }, stdio: ['ignore', 'pipe', 'pipe'] },
    )
    let stderr = ''
    child.stderr!.on('data', (d) => {
      stderr += d
    })
    const exited = new Promise<number | null>((resolve) =>
      child!.once('exit', (code) => resolve(code)),
    )
    const ops = await new Promise<string>((resolve, reject) => {
      child!.stdout!.on('data', (d: Buffer) => {
        const url = /serving .*\/metrics and \/health on (http:\/\/127\.0\.0\.1:\d+)/.exec(
          String(d),
        )
        if (url) resolve(url[1]!)
      })
      child!.once('exit', () => reject(new Error(`node exited: ${stderr}`)))
    })
    const [neuron] = await readNeurons({
      publicClient: devnet.publicClient,
      address: devnet.addresses.verity,
      netuid,
    })
    expect(neuron!.peerId).toBeDefined()
    expect(neuron!.multiaddrs).toEqual([`${announced}/p2p/${neuron!.peerId}`])
    const peer = await createPeer()
    try {
      const tokenizer = tokenizerFromGguf(model.metadata)
      const clientAs = (caller: LocalAccount) =>
        new Libp2pMinerClient({
          peer,
          hotkey: neuron!.hotkey,
          peerId: neuron!.peerId!,
          multiaddrs: neuron!.multiaddrs,
          caller,
        })
      const request = {
        modelRoot: toHex(model.modelRoot),
        promptTokens: tokenizer.encode('Hi'),
        maxTokens: 6,
        params: { temperatureMilli: 0, topK: 0, topPMilli: 1000 },
        seed: 1,
        stopTokens: [],
        stop: [],
      }
      // The subnet's registered gateway is served; a key from nowhere is not.
      const answer = await collect(clientAs(devnet.accounts[3]!.account as never), request)
      expect(answer.receipt.minerHotkey).toBe(hot!.address)
      expect(answer.receipt.chainId).toBe(31337)
      expect(answer.receipt.verifyingContract).toBe(devnet.addresses.verity)
      expect(answer.receipt.issuedBlock).toBeGreaterThan(0)
      await expect(
        collect(clientAs(privateKeyToAccount(`0x${'aa'.repeat(32)}`)), request),
      ).rejects.toMatchObject({ code: 'unauthorized' })
    } finally {
      await peer.stop()
    }
    // The same traffic on /metrics; /health names the node.
    const metrics = await (await fetch(`${ops}/metrics`)).text()
    expect(metrics).toMatch(/^verity_miner_requests_total\{outcome="served"\} 1$/m)
    expect(metrics).toMatch(/^verity_miner_requests_total\{outcome="unauthorized"\} 1$/m)
    expect(metrics).toMatch(/^verity_chain_calls_total\{method="eth_sendRawTransaction"\} 1$/m)
    const health = await fetch(`${ops}/health`)
    expect(health.status).toBe(200)
    expect(await health.json()).toMatchObject({
      status: 'ok',
      role: 'miner',
      hotkey: hot!.address,
      uid: 0,
      chain: { reachable: true },
      peers: expect.any(Number),
    })
    expect((await fetch(`${ops}/health`, { method: 'POST' })).status).toBe(405)
    expect((await fetch(`${ops}/`)).status).toBe(404)
    // --log-format pretty: readable lines with the module's name, on stderr
    expect(stderr).toMatch(/^\d\d:\d\d:\d\d\.\d{3} DEBUG node:miner: request 0x/m)
    child.kill('SIGINT')
    expect(await exited).toBe(0)
  })
})

function freePort(host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(0, host, () => {
      const { port } = server.address() as { port: number }
      server.close(() => resolve(port))
    })
  })
}

describe('verity node refuses what it cannot run', () => {
  const node = (...args: string[]) =>
    spawnSync(process.execPath, ['bin/verity.js', 'node', ...args], {
      encoding: 'utf8',
      env: { ...process.env, VERITY_PASSPHRASE: 'pw' },
    })
  const base = ['--role', 'miner', '--key', join(dir, 'none.json'), '--data-dir', join(dir, 'd')]
  it.each([
    [['--listen', '127.0.0.1:4001'], /^error: --listen: '127.0.0.1:4001' is not a multiaddr/],
    [
      ['--announce', '/ip4/1.2.3.4/tcp'],
      /^error: --announce: '\/ip4\/1.2.3.4\/tcp' is not a multiaddr/,
    ],
    [['--bootstrap', '/ip4/127.0.0.1/tcp/4001'], /^error: --bootstrap: .* has no \/p2p\/<peer id>/],
    [
      ['--listen', '/ip4/127.0.0.1/tcp/1', '--port', '5'],
      /^error: --port and --listen do not go together/,
    ],
    [['--host', '0.0.0.0'], /^error: --host is the gateway HTTP address/],
    [['--rpc', 'http://127.0.0.1:1'], /^error: --deployment <manifest> is required/],
    [['--deployment', join(dir, 'missing.json')], /^error: --rpc <url> is required/],
    [
      ['--rpc', 'http://127.0.0.1:1', '--deployment', 'x.json'],
      /^error: cannot reach the chain at http:\/\/127.0.0.1:1/,
    ],
  ])('%j: one line, no stack', (args, message) => {
    const r = node(...base, ...args)
    expect(r.status).toBeGreaterThan(0)
    expect(r.stderr).toMatch(message)
    expect(r.stderr).not.toMatch(/at .*\.ts:\d+/)
  })
})

describe('verity node on a subnet it cannot serve', () => {
  it('refuses a model that is not the subnet’s, and a subnet that does not exist', async () => {
    // runs after the first describe: its devnet, keyfiles and subnet 1 (the default model)
    const owner = devnet!.walletClients[0]!
    const address = devnet!.addresses.verity
    const otherRoot = `0x${'ab'.repeat(32)}` as const
    await registerModel(owner, {
      address,
      modelRoot: otherRoot,
      name: 'another-model',
      ggufHash: `0x${'cd'.repeat(32)}`,
    })
    const { netuid } = await createSubnet(owner, { address, params: DEVNET_HYPERPARAMS })
    await setSubnetModel(owner, { address, netuid, modelRoot: otherRoot })
    await registerNeuron(devnet!.walletClients[2]!, { address, netuid, maxBurn: 0n })
    const manifest = join(dir, 'deployment.json')
    const run = (id: number) =>
      spawnSync(
        process.execPath,
        [
          'bin/verity.js',
          'node',
          '--role',
          'miner',
          '--key',
          join(dir, 'm', 'hotkeys', 'h.json'),
          '--data-dir',
          join(dir, `other-${id}`),
          '--rpc',
          devnet!.rpcUrl,
          '--deployment',
          manifest,
          '--netuid',
          String(id),
        ],
        { encoding: 'utf8', env: { ...process.env, VERITY_PASSPHRASE: 'pw' } },
      )
    const wrong = run(netuid)
    expect(wrong.status).toBe(2)
    expect(wrong.stderr).toMatch(
      new RegExp(
        `^error: subnet ${netuid} serves model ${otherRoot}, but default is model 0x[0-9a-f]{64}`,
      ),
    )
    const missing = run(99)
    expect(missing.status).toBeGreaterThan(0)
    expect(missing.stderr).toMatch(/^error: .*(subnet|99)/)
    expect(missing.stderr).not.toMatch(/internal/)
    expect(`${wrong.stderr}${missing.stderr}`).not.toMatch(/at .*\.ts:\d+/)
  })
})
