// The multi-host scenario: the chain, 3 miners, 2 validators and a gateway as separate processes on
// distinct loopback addresses inside a network namespace (test/multihost.e2e.test.ts and
// scripts/multihost.sh create it), set up from the CLI as an operator would. A miner's host is cut
// off with a firewall rule and healed; prints one JSON report on stdout. It refuses to run in the
// machine's own network namespace: the firewall rules it adds must never touch the host.
import { type ChildProcess, execFileSync, spawn } from 'node:child_process'
import { createWriteStream, mkdtempSync, readlinkSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { parseArgs } from 'node:util'
import { createPublicClient, createWalletClient, http } from 'viem'
import { mnemonicToAccount } from 'viem/accounts'
import { getWeights } from '../../src/chain/actions/getWeights.ts'
import { runEpoch } from '../../src/chain/actions/runEpoch.ts'
import { readDeployment } from '../../src/chain/deployment.ts'
import { anvilBinary } from '../../src/chain/devnet.ts'
import { readNeurons } from '../../src/node/chain.ts'

const { values: opts } = parseArgs({
  options: {
    'epoch-seconds': { type: 'string', default: '6' },
    'cut-seconds': { type: 'string', default: '60' },
    'heal-seconds': { type: 'string', default: '120' },
    load: { type: 'string', default: '2' },
    keep: { type: 'boolean', default: false },
  },
})
const EPOCH_MS = Number(opts['epoch-seconds']) * 1000
const CUT_MS = Number(opts['cut-seconds']) * 1000
const HEAL_MS = Number(opts['heal-seconds']) * 1000

const ROOT = resolve(import.meta.dirname ?? '.', '../..')
const HOSTS = {
  chain: '127.0.0.2',
  miners: ['127.0.0.3', '127.0.0.4', '127.0.0.5'],
  validators: ['127.0.0.6', '127.0.0.7'],
  gateway: '127.0.0.8',
}
const CUT = HOSTS.miners[2]!
const RPC = `http://${HOSTS.chain}:8545`
const API = `http://${HOSTS.gateway}:8080`
const PASS = 'multihost'
const MNEMONIC = 'test test test test test test test test test test test junk'

const dir = mkdtempSync(join(tmpdir(), 'verity-multihost-'))
const wallets = join(dir, 'wallets')
const manifest = join(dir, 'deployment.json')
const children: ChildProcess[] = []
const byName = new Map<string, ChildProcess>()
const logs = new Map<string, string>()
const say = (event: Record<string, unknown>) =>
  process.stderr.write(`${JSON.stringify({ t: Date.now(), ...event })}\n`)

/**
 * True inside a network namespace other than the one the launcher ran in: the launcher passes
 * its own (VERITY_OUTER_NETNS, the /proc/self/ns/net link) before `unshare --net`.
 */
function ownNetworkNamespace(): boolean {
  const outer = process.env.VERITY_OUTER_NETNS
  return outer !== undefined && outer !== '' && readlinkSync('/proc/self/ns/net') !== outer
}

/** Runs a verity command to its end; its last stdout line parsed as JSON when `json`. */
function verity(args: string[]): string {
  try {
    return execFileSync(process.execPath, [join(ROOT, 'bin/verity.js'), ...args], {
      encoding: 'utf8',
      env: { ...process.env, VERITY_PASSPHRASE: PASS },
      stdio: ['ignore', 'pipe', 'pipe'],
      timeout: 300_000,
    })
  } catch (error) {
    const e = error as { stderr?: string; stdout?: string }
    throw new Error(
      `verity ${args.slice(0, 2).join(' ')} failed: ${e.stderr ?? ''}${e.stdout ?? ''}`,
    )
  }
}

/** Starts a long-running process; resolves with the first stdout line matching `ready`. */
function start(name: string, command: string, args: string[], ready: RegExp): Promise<string> {
  const child = spawn(command, args, {
    env: { ...process.env, VERITY_PASSPHRASE: PASS },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  children.push(child)
  byName.set(name, child)
  logs.set(name, '')
  const file = createWriteStream(join(dir, `${name}.log`))
  const keep = (d: Buffer) => {
    file.write(d)
    logs.set(name, (logs.get(name)! + d.toString()).slice(-4000))
  }
  child.stderr!.on('data', keep)
  return new Promise((resolveLine, reject) => {
    let out = ''
    let found = false
    child.stdout!.on('data', (d: Buffer) => {
      keep(d)
      if (found) return
      out += d.toString()
      const line = out.split('\n').find((l) => ready.test(l) && l !== '')
      if (line) {
        found = true
        resolveLine(line)
      }
    })
    child.once('exit', (code) =>
      reject(new Error(`${name} exited (${code}) before it was ready: ${logs.get(name)}`)),
    )
  })
}

const key = (wallet: string, role: 'coldkey' | 'hotkey') =>
  role === 'coldkey'
    ? join(wallets, wallet, 'coldkey.json')
    : join(wallets, wallet, 'hotkeys', 'default.json')

const account = (i: number) => mnemonicToAccount(MNEMONIC, { addressIndex: i })

function firewall(action: '-A' | '-D', host: string): void {
  for (const rule of [
    ['INPUT', '-d', host],
    ['INPUT', '-s', host],
  ])
    execFileSync('iptables', [action, ...rule, '-j', 'DROP'])
}

type Served = { at: number; ok: boolean; miner?: string; ms: number; why?: string }
const served: Served[] = []
let loadOn = true

async function userLoop(model: string, i: number): Promise<void> {
  let n = 0
  while (loadOn) {
    const t0 = Date.now()
    try {
      const res = await fetch(`${API}/v1/chat/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          model,
          messages: [{ role: 'user', content: `Tell me about the sea, please (${i}.${n++})` }],
          max_tokens: 8,
          seed: n,
        }),
        signal: AbortSignal.timeout(60_000),
      })
      const json = (await res.json()) as {
        verity?: { receipt?: { minerHotkey?: string } }
        error?: { code?: string; message?: string }
      }
      const miner = json.verity?.receipt?.minerHotkey?.toLowerCase()
      served.push({
        at: t0,
        ok: res.status === 200,
        ...(miner ? { miner } : {}),
        ms: Date.now() - t0,
        ...(res.status === 200
          ? {}
          : { why: `${res.status} ${json.error?.code ?? ''} ${json.error?.message ?? ''}` }),
      })
    } catch (error) {
      served.push({ at: t0, ok: false, ms: Date.now() - t0, why: (error as Error).message })
    }
    await new Promise((r) => setTimeout(r, 200))
  }
}

async function main(): Promise<void> {
  if (!ownNetworkNamespace())
    throw new Error(
      'refusing to run: not inside a network namespace of its own (see multihost.e2e.test.ts)',
    )
  execFileSync('ip', ['link', 'set', 'lo', 'up'])

  // --- the chain host
  const anvil = anvilBinary()
  const anvilArgs = [
    '--host',
    HOSTS.chain,
    '--port',
    '8545',
    '--chain-id',
    '31337',
    '--accounts',
    '16',
  ]
  anvilArgs.push(
    '--balance',
    '1000000',
    '--max-persisted-states',
    '0',
    '--gas-limit',
    String(2n ** 31n),
  )
  // --silent: anvil logs every block, and mining through the governance delay is 6,000 of them
  void start(
    'chain',
    anvil.endsWith('.mjs') ? process.execPath : anvil,
    [...(anvil.endsWith('.mjs') ? [anvil] : []), ...anvilArgs, '--silent'],
    /^$/,
  ).catch(() => {}) // never 'ready' on stdout: the RPC is polled below
  for (let i = 0; ; i++) {
    const up = await fetch(RPC, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"jsonrpc":"2.0","id":1,"method":"eth_chainId","params":[]}',
    }).then(
      (r) => r.ok,
      () => false,
    )
    if (up) break
    if (i > 200) throw new Error(`the chain did not answer at ${RPC}`)
    await new Promise((r) => setTimeout(r, 100))
  }

  // --- wallets (anvil's well-known keys; coldkey at the index, hotkey at the next)
  const roles = [
    ['owner', 0],
    ['miner0', 2],
    ['miner1', 4],
    ['miner2', 6],
    ['validator0', 8],
    ['validator1', 10],
    ['gateway', 12],
  ] as const
  for (const [name, index] of roles)
    verity([
      'wallet',
      'create',
      '--name',
      name,
      '--hotkey',
      'default',
      '--dir',
      wallets,
      '--dev',
      '--chain-id',
      '31337',
      '--dev-index',
      String(index),
    ])
  const owner = key('owner', 'coldkey')
  const chainFlags = ['--rpc', RPC, '--deployment', manifest]

  // --- the operator deploys, creates the subnet, funds and registers everyone
  verity([
    'chain',
    'deploy',
    '--rpc',
    RPC,
    '--key',
    owner,
    '--out',
    manifest,
    '--devnet-params',
    '--json',
  ])
  const deployment = await readDeployment(manifest)
  const created = JSON.parse(
    verity(['subnet', 'create', '--key', owner, '--devnet-hyperparams', '--json', ...chainFlags])
      .trim()
      .split('\n')
      .pop()!,
  ) as { netuid: number }
  const netuid = created.netuid
  const net = ['--netuid', String(netuid)]
  for (const [name] of roles.slice(1)) {
    verity([
      'wallet',
      'transfer',
      '--key',
      owner,
      '--to',
      account(roles.find((r) => r[0] === name)![1]).address,
      '--amount',
      '2000',
      ...chainFlags,
    ])
    verity([
      'subnet',
      'register',
      ...net,
      '--hotkey',
      key(name, 'hotkey'),
      '--key',
      key(name, 'coldkey'),
      ...chainFlags,
    ])
  }
  for (const v of ['validator0', 'validator1']) {
    verity([
      'stake',
      'add',
      ...net,
      '--hotkey',
      key(v, 'hotkey'),
      '--amount',
      '1000',
      '--key',
      key(v, 'coldkey'),
      ...chainFlags,
    ])
    // dispute bonds come from the validator hotkey's wallet
    const hot = account(roles.find((r) => r[0] === v)![1] + 1).address
    verity([
      'wallet',
      'transfer',
      '--key',
      key(v, 'coldkey'),
      '--to',
      hot,
      '--amount',
      '100',
      ...chainFlags,
    ])
  }
  for (const m of ['miner0', 'miner1', 'miner2'])
    verity([
      'stake',
      'add',
      ...net,
      '--hotkey',
      key(m, 'hotkey'),
      '--amount',
      '100',
      '--key',
      key(m, 'coldkey'),
      ...chainFlags,
    ])
  say({ phase: 'chain ready', netuid, verity: deployment.contracts.verity })

  // --- a keeper runs the subnet's epochs (anyone may; here the owner)
  const transport = http(RPC, { timeout: 60_000, retryCount: 0 })
  const chain = {
    id: 31337,
    name: 'multihost',
    nativeCurrency: { name: 'Ether', symbol: 'ETH', decimals: 18 },
    rpcUrls: { default: { http: [RPC] } },
  } as const
  const publicClient = createPublicClient({ chain, transport, pollingInterval: 100 })
  const keeper = createWalletClient({ account: account(0), chain, transport, pollingInterval: 100 })
  const address = deployment.contracts.verity
  let keeping = true
  const keep = (async () => {
    while (keeping) {
      await runEpoch(keeper, { address, netuid }).catch((error) =>
        say({ keeper: (error as Error).message.split('\n')[0] }),
      )
      await new Promise((r) => setTimeout(r, EPOCH_MS))
    }
  })()

  // --- the hosts: the gateway (also the bootstrap peer and a relay), miners, validators
  const node = (role: string, wallet: string, host: string, extra: string[]) => [
    join(ROOT, 'bin/verity.js'),
    'node',
    '--role',
    role,
    '--key',
    key(wallet, 'hotkey'),
    '--data-dir',
    join(dir, 'data', wallet),
    ...chainFlags,
    ...net,
    '--listen',
    `/ip4/${host}/tcp/4001`,
    '--threads',
    '1',
    ...(role === 'gateway' ? [] : ['--metrics-port', '9100', '--metrics-host', host]),
    ...extra,
  ]
  const gatewayLine = await start(
    'gateway',
    process.execPath,
    node('gateway', 'gateway', HOSTS.gateway, [
      '--host',
      HOSTS.gateway,
      '--port',
      '8080',
      '--relay',
    ]),
    /^gateway /,
  )
  const bootstrap = gatewayLine.split(' on ')[1]!.trim().split(' ')[0]!
  if (!bootstrap.startsWith(`/ip4/${HOSTS.gateway}/`))
    throw new Error(`gateway published ${bootstrap}`)
  await Promise.all(
    HOSTS.miners.map((host, i) =>
      start(
        `miner${i}`,
        process.execPath,
        node('miner', `miner${i}`, host, ['--bootstrap', bootstrap]),
        /serving/,
      ),
    ),
  )
  await Promise.all(
    HOSTS.validators.map((host, i) =>
      start(
        `validator${i}`,
        process.execPath,
        node('validator', `validator${i}`, host, ['--bootstrap', bootstrap, '--gateway', API]),
        /^validator /,
      ),
    ),
  )
  const neurons = await readNeurons({ publicClient, address, netuid })
  const uidOf = (wallet: string) =>
    neurons.find(
      (n) =>
        n.hotkey.toLowerCase() ===
        account(roles.find((r) => r[0] === wallet)![1] + 1).address.toLowerCase(),
    )!
  const miners = ['miner0', 'miner1', 'miner2'].map(uidOf)
  const validators = ['validator0', 'validator1'].map(uidOf)
  const published = Object.fromEntries(
    [...miners, ...validators, uidOf('gateway')].map((n) => [n.uid, n.multiaddrs]),
  )
  say({ phase: 'hosts up', published })

  const until = async (what: string, ms: number, test: () => Promise<boolean>) => {
    const end = Date.now() + ms
    while (Date.now() < end) {
      if (await test()) return true
      await new Promise((r) => setTimeout(r, 1000))
    }
    say({ timeout: what })
    return false
  }
  // users arrive once the gateway's health check says every miner is available (a load
  // balancer's view of it)
  const healthy = await until('the gateway to know all three miners', 60_000, async () => {
    const health = (await fetch(`${API}/health`)
      .then((r) => r.json())
      .catch(() => ({}))) as { models?: { available: number }[] }
    return health.models?.[0]?.available === 3
  })
  if (!healthy) throw new Error('the gateway never found all three miners')
  const models = (await (await fetch(`${API}/v1/models`)).json()) as { data: { id: string }[] }
  const loops = Array.from({ length: Number(opts.load) }, (_, i) => userLoop(models.data[0]!.id, i))

  /** Per validator, the weight it gives each miner, as a share of its largest. */
  const shares = async () =>
    await Promise.all(
      validators.map(async (v) => {
        const [uids, values] = (await getWeights(publicClient, {
          address,
          netuid,
          uid: v.uid,
        })) as unknown as [readonly number[], readonly number[]]
        const max = Math.max(0, ...values.map(Number))
        return miners.map((m) => {
          const i = uids.map(Number).indexOf(m.uid)
          return i < 0 || max === 0 ? 0 : Number(values[i]) / max
        })
      }),
    )

  // --- warm-up: both validators weigh all three miners
  const warm = await until('every miner weighed by both validators', 240_000, async () =>
    (await shares()).every((row) => row.every((s) => s > 0)),
  )
  const tWarm = Date.now()
  const before = await shares()
  const cutHotkey = miners[2]!.hotkey.toLowerCase()
  const tCut = Date.now()
  firewall('-A', CUT)
  say({ phase: 'cut', host: CUT, before })
  // Availability drops out of every validator's weights: the failed checks count against the
  // miner and the good ones age out of the score window (a share under half its level before).
  const low = (rows: number[][]) => rows.every((row, v) => row[2]! < before[v]![2]! * 0.5)
  const dropped = await until('the cut miner weighed down by both validators', CUT_MS, async () =>
    low(await shares()),
  )
  // users' requests over a while of the cut, after the ones in flight at the cut failed over
  while (Date.now() < tCut + 30_000) await new Promise((r) => setTimeout(r, 1000))
  const during = await shares()
  const tHeal = Date.now()
  firewall('-D', CUT)
  say({ phase: 'healed', during })
  const recovered = await until('the healed miner served and weighed again', HEAL_MS, async () => {
    const rows = await shares()
    const servedAgain = served.some((s) => s.at > tHeal && s.ok && s.miner === cutHotkey)
    return servedAgain && rows.every((row, v) => row[2]! >= before[v]![2]! * 0.5)
  })
  const after = await shares()
  loadOn = false
  await Promise.all(loops)
  keeping = false
  await keep

  // infer streams still open on every miner once users and validators (whose checks go through
  // the gateway) have stopped: none may linger
  const validatorsStopped = Promise.all(
    [...byName.entries()]
      .filter(([name]) => name.startsWith('validator'))
      .map(([, child]) => {
        child.kill('SIGTERM')
        return child.exitCode === null ? new Promise((r) => child.once('exit', r)) : null
      }),
  )
  await Promise.race([validatorsStopped, new Promise((r) => setTimeout(r, 15_000))])
  await new Promise((r) => setTimeout(r, 3000))
  const openStreams = Object.fromEntries(
    await Promise.all(
      HOSTS.miners.map(async (host, i) => {
        const text = await fetch(`http://${host}:9100/metrics`).then(
          (r) => r.text(),
          () => '',
        )
        const n = /^verity_node_infer_streams (\d+)/m.exec(text)?.[1]
        return [`miner${i}`, n === undefined ? null : Number(n)]
      }),
    ),
  )
  const window = (from: number, to: number) => {
    const s = served.filter((r) => r.at >= from && r.at < to)
    const failures: Record<string, number> = {}
    for (const r of s)
      if (r.why) failures[r.why.slice(0, 300)] = (failures[r.why.slice(0, 300)] ?? 0) + 1
    return {
      requests: s.length,
      ok: s.filter((r) => r.ok).length,
      byCutMiner: s.filter((r) => r.ok && r.miner === cutHotkey).length,
      failures,
      // seconds into the window of each failure (the first 20)
      failedAt: s
        .filter((r) => !r.ok)
        .slice(0, 20)
        .map((r) => Math.round((r.at - from) / 100) / 10),
      seconds: Math.round((to - from) / 1000),
    }
  }
  const report = {
    warm,
    dropped,
    recovered,
    shares: { before, during, after },
    openStreams,
    requests: {
      beforeCut: window(tWarm - 15_000, tCut),
      // the first seconds of the cut: requests in flight to the cut miner fail over
      duringCut: window(tCut + 10_000, tHeal),
      afterHeal: window(tHeal, Date.now()),
    },
    published,
  }
  process.stdout.write(`${JSON.stringify(report)}\n`)
  if (!(warm && dropped && recovered))
    for (const [name, text] of logs) process.stderr.write(`--- ${name}\n${text.slice(-3000)}\n`)
}

async function cleanup(): Promise<void> {
  for (const c of children) c.kill('SIGTERM')
  await Promise.race([
    Promise.all(
      children.map((c) => (c.exitCode === null ? new Promise((r) => c.once('exit', r)) : null)),
    ),
    new Promise((r) => setTimeout(r, 15_000)),
  ])
  for (const c of children) if (c.exitCode === null) c.kill('SIGKILL')
  if (opts.keep) process.stderr.write(`multihost: logs and data kept in ${dir}\n`)
  else rmSync(dir, { recursive: true, force: true })
}

main()
  .then(cleanup)
  .catch(async (error) => {
    process.stderr.write(`multihost: ${(error as Error).message}\n`)
    for (const [name, text] of logs) process.stderr.write(`--- ${name}\n${text.slice(-1500)}\n`)
    await cleanup()
    process.exit(1)
  })
