import { type ChildProcess, spawn } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { toHex } from 'viem'
import { readContract } from 'viem/actions'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { modelCompetitionAbi } from '../chain/abis.ts'
import { readDeployment } from '../chain/deployment.ts'
import { anvilBinary } from '../chain/devnet.ts'
import { createWallet } from '../node/wallet.ts'
import { clientsAt } from './chain-session.ts'

const root = join(import.meta.dirname, '../..')
const dir = mkdtempSync(join(tmpdir(), 'verity-chain-'))
const pass = join(dir, 'pass')
const owner = join(dir, 'wallets', 'owner', 'coldkey.json')
let anvil: ChildProcess
let rpc: string

function verity(
  ...args: string[]
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [join(root, 'bin/verity.js'), ...args])
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (d) => (stdout += d))
    child.stderr.on('data', (d) => (stderr += d))
    child.on('close', (code) => resolve({ code, stdout, stderr }))
  })
}

async function rpcCall(method: string, params: unknown[] = []): Promise<unknown> {
  const res = await fetch(rpc, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method, params }),
  })
  return ((await res.json()) as { result: unknown }).result
}

async function freePort(): Promise<number> {
  return await new Promise((resolve) => {
    const server = createServer()
    server.listen(0, '127.0.0.1', () => {
      const address = server.address()
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0))
    })
  })
}

/** A bare anvil, as an operator (or another test) starts one: nothing deployed on it. */
function spawnAnvil(port: number, chainId: string): ChildProcess {
  const bin = anvilBinary()
  const args = ['--host', '127.0.0.1', '--port', String(port), '--chain-id', chainId, '--silent']
  // anvil otherwise writes every old state to ~/.foundry (a MB or so per block, never removed)
  args.push('--max-persisted-states', '0')
  return bin.endsWith('.mjs')
    ? spawn(process.execPath, [bin, ...args], { stdio: 'ignore' })
    : spawn(bin, args, { stdio: 'ignore' })
}

async function waitForAnvil(url: string): Promise<void> {
  for (let i = 0; ; i++) {
    try {
      const res = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'eth_chainId', params: [] }),
      })
      if (res.ok) return
    } catch {
      // not up yet
    }
    if (i > 200) throw new Error('anvil did not start')
    await new Promise((r) => setTimeout(r, 100))
  }
}

beforeAll(async () => {
  const port = await freePort()
  rpc = `http://127.0.0.1:${port}`
  anvil = spawnAnvil(port, '31337')
  await waitForAnvil(rpc)
  writeFileSync(pass, 'deployer\n')
  createWallet({
    dir: join(dir, 'wallets'),
    wallet: 'owner',
    passphrase: 'deployer',
    dev: { chainId: 31337, index: 0 },
  })
}, 60_000)

afterAll(async () => {
  if (anvil?.exitCode === null) {
    const exited = new Promise((r) => anvil.once('exit', r))
    anvil.kill('SIGTERM')
    await exited
  }
  rmSync(dir, { recursive: true, force: true })
})

describe('verity chain', () => {
  it('deploy --devnet-params on a bare anvil leaves a ready network', async () => {
    const out = join(dir, 'deployment.json')
    const r = await verity(
      'chain',
      'deploy',
      '--rpc',
      rpc,
      '--key',
      owner,
      '--passphrase-file',
      pass,
      '--out',
      out,
      '--devnet-params',
    )
    expect(r.code, r.stderr).toBe(0)
    const deployment = await readDeployment(out)
    expect(deployment.chainId).toBe(31337)
    expect(deployment.contracts.disputeGame).toMatch(/^0x[0-9a-fA-F]{40}$/)
    expect(JSON.parse(r.stdout)).toEqual(JSON.parse(readFileSync(out, 'utf8')))
    const show = await verity('chain', 'show', '--rpc', rpc, '--deployment', out, '--json')
    expect(show.code, show.stderr).toBe(0)
    const { chain } = JSON.parse(show.stdout)
    expect(chain.disputeGame).toBe(deployment.contracts.disputeGame)
    expect(chain.protocolParams).toMatchObject({ unstakeDelay: 1416, governanceDelay: 1 })
    // the compute market, against the deployed VTY, with the default deposits
    expect(deployment.contracts.market).toMatch(/^0x[0-9a-fA-F]{40}$/)
    expect(await rpcCall('eth_getCode', [deployment.contracts.market, 'latest'])).toMatch(
      /^0x[0-9a-f]{100,}$/,
    )
    expect(chain.market).toEqual({
      address: deployment.contracts.market,
      bidDeposit: '5',
      minEscrow: '1',
    })
    const text = await verity('chain', 'show', '--rpc', rpc, '--deployment', out)
    expect(text.stdout).toContain(
      `compute market: ${deployment.contracts.market} (bid deposit 5 VTY, min escrow 1 VTY)`,
    )
    const markets = await verity('market', 'orders', '--rpc', rpc, '--deployment', out, '--json')
    expect(markets.code, markets.stderr).toBe(0)
    expect(JSON.parse(markets.stdout)).toEqual([])
    // the payment channels, against the deployed dispute game, with the devnet's windows
    expect(chain.payments).toEqual({
      address: deployment.contracts.payments,
      challengePeriod: 100,
      settleGrace: 100,
      disputeGame: deployment.contracts.disputeGame,
    })
    expect(text.stdout).toContain(
      `payment channels: ${deployment.contracts.payments} (challenge period 100 blocks, settle grace 100 blocks)`,
    )
    // the model competition contract, reading the deployed core
    expect(
      await readContract(clientsAt(rpc, 31337).publicClient, {
        address: deployment.contracts.competition!,
        abi: modelCompetitionAbi,
        functionName: 'core',
      }),
    ).toBe(deployment.contracts.verity)
    expect(text.stdout).toContain(`model competition: ${deployment.contracts.competition}`)
    // ready: a subnet can be created at once
    const subnet = await verity(
      'subnet',
      'create',
      '--key',
      owner,
      '--passphrase-file',
      pass,
      '--devnet-hyperparams',
      '--rpc',
      rpc,
      '--deployment',
      out,
      '--json',
    )
    expect(subnet.code, subnet.stderr).toBe(0)
    expect(JSON.parse(subnet.stdout).netuid).toBe(1)
  }, 180_000)

  it('deploy --params queues the dispute game; chain enact names it after the delay', async () => {
    const params = join(dir, 'params.yaml')
    writeFileSync(
      params,
      [
        'genesis: 5000',
        'minUnstakeDelay: 200',
        'minGovernanceDelay: 5',
        'protocol: { unstakeDelay: 200, governanceDelay: 5, minLock: 10 }',
        'dispute: { window: 2, maxValidity: 10 }',
      ].join('\n'),
    )
    const out = join(dir, 'queued.json')
    const r = await verity(
      'chain',
      'deploy',
      '--rpc',
      rpc,
      '--key',
      owner,
      '--passphrase-file',
      pass,
      '--out',
      out,
      '--params',
      params,
      '--bid-deposit',
      '2.5',
      '--min-escrow',
      '0.5',
    )
    expect(r.code, r.stderr).toBe(0)
    expect(r.stderr).toMatch(/names the dispute game after block \d+: then run 'verity chain enact/)
    expect((await readDeployment(out)).contracts.disputeGame).toBeUndefined()
    const chainFlags = ['--rpc', rpc, '--deployment', out]
    const early = await verity(
      'chain',
      'enact',
      '--key',
      owner,
      '--passphrase-file',
      pass,
      ...chainFlags,
    )
    expect(early.code).toBe(1)
    expect(early.stderr).toMatch(
      /^error: the change naming the dispute game is not ready: block \d+ now, ready after block \d+/,
    )
    const eta = Number(/ready after block (\d+)/.exec(early.stderr)![1])
    const head = Number(await rpcCall('eth_blockNumber'))
    await rpcCall('anvil_mine', [toHex(eta - head + 1)])
    const enacted = await verity(
      'chain',
      'enact',
      '--key',
      owner,
      '--passphrase-file',
      pass,
      ...chainFlags,
      '--json',
    )
    expect(enacted.code, enacted.stderr).toBe(0)
    const game = (await readDeployment(out)).contracts.disputeGame
    expect(game).toMatch(/^0x[0-9a-fA-F]{40}$/)
    const show = JSON.parse((await verity('chain', 'show', ...chainFlags, '--json')).stdout)
    expect(show.chain.disputeGame).toBe(game)
    expect(show.chain.protocolParams).toMatchObject({ unstakeDelay: 200, minLock: '10' })
    expect(show.chain.market).toMatchObject({ bidDeposit: '2.5', minEscrow: '0.5' })
    expect(show.chain.market.address).toBe((await readDeployment(out)).contracts.market)
  }, 180_000)

  it('refuses bad parameters and bad targets in one line', async () => {
    const bad = (name: string, text: string) => {
      const path = join(dir, name)
      writeFileSync(path, text)
      return path
    }
    const deploy = (...extra: string[]) =>
      verity(
        'chain',
        'deploy',
        '--rpc',
        rpc,
        '--key',
        owner,
        '--passphrase-file',
        pass,
        '--out',
        join(dir, 'x.json'),
        ...extra,
      )
    const cases: [Promise<Awaited<ReturnType<typeof verity>>>, number, RegExp][] = [
      [
        deploy('--params', bad('a.yaml', 'protocl: {}')),
        2,
        /params file .*a\.yaml: the file must NOT have additional properties 'protocl'/,
      ],
      [
        deploy('--params', bad('b.yaml', 'protocol: { keeperBps: 9000 }')),
        2,
        /protocol\.keeperBps must be <= 500/,
      ],
      [
        deploy('--params', bad('c.yaml', 'dispute: { window: 1000 }')),
        2,
        /the longest dispute .* must end within minUnstakeDelay/,
      ],
      [deploy('--params', bad('d.yaml', 'genesis: -5')), 2, /genesis must not be negative/],
      [deploy('--params', bad('e.yaml', 'x: [')), 2, /is not YAML/],
      [deploy('--devnet-params', '--params', join(dir, 'a.yaml')), 2, /exclude each other/],
      [deploy('--bid-deposit', '-1'), 2, /--bid-deposit must not be negative/],
      [deploy('--min-escrow', '0'), 2, /--min-escrow must be more than 0/],
      [deploy('--min-escrow', 'one'), 2, /--min-escrow must be a decimal number/],
      [
        verity('chain', 'deploy', '--rpc', rpc, '--key', owner, '--passphrase-file', pass),
        2,
        /--out <manifest.json> is required/,
      ],
      [
        verity('chain', 'show', '--rpc', rpc, '--deployment', join(dir, 'none.json')),
        1,
        /does not exist/,
      ],
    ]
    // --devnet-params on a chain that is not a devnet
    const port = await freePort()
    const mainnetLike = spawnAnvil(port, '12345')
    try {
      await waitForAnvil(`http://127.0.0.1:${port}`)
      cases.push([
        verity(
          'chain',
          'deploy',
          '--rpc',
          `http://127.0.0.1:${port}`,
          '--key',
          owner,
          '--passphrase-file',
          pass,
          '--out',
          join(dir, 'y.json'),
          '--devnet-params',
        ),
        2,
        /--devnet-params is for devnets only \(chain id 31337 or 1337\); this chain is 12345/,
      ])
      await cases.at(-1)![0]
    } finally {
      const exited = new Promise((r) => mainnetLike.once('exit', r))
      mainnetLike.kill('SIGTERM')
      await exited
    }
    for (const [pending, code, message] of cases) {
      const r = await pending
      expect(r.code, r.stderr).toBe(code)
      const lines = r.stderr.split('\n').filter((l) => l.startsWith('error: '))
      expect(lines, r.stderr).toHaveLength(1)
      expect(lines[0]).toMatch(message)
      expect(r.stderr).not.toMatch(/at .*\.ts:/)
    }
  }, 60_000)
})
