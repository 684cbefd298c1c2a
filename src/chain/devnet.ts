import { type ChildProcess, spawn } from 'node:child_process'
import { createRequire } from 'node:module'
import { createServer } from 'node:net'
import { dirname, join } from 'node:path'
import {
  type Address,
  type Chain,
  createPublicClient,
  createWalletClient,
  defineChain,
  getAddress,
  type Hex,
  http,
  type PublicClient,
  parseEther,
  type Transport,
  toHex,
  type WalletClient,
} from 'viem'
import { type HDAccount, mnemonicToAccount, type PrivateKeyAccount } from 'viem/accounts'
import { DevnetError } from '../errors/chain.ts'
import {
  bondsLibBytecode,
  consensusLibBytecode,
  governanceLibBytecode,
  governanceLibLinkReferences,
  protocolLibBytecode,
  registrationLibBytecode,
  stakingLibBytecode,
  subnetLibBytecode,
  subnetLibLinkReferences,
  verityAbi,
  verityBytecode,
  verityLinkReferences,
  verityScenarioHarnessBytecode,
  verityScenarioHarnessLinkReferences,
  verityTokenAbi,
  verityTokenBytecode,
  weightsLibBytecode,
  yumaLibBytecode,
} from './abis.ts'
import { ABI_VERSION, DEPLOYMENT_FORMAT, type Deployment } from './deployment.ts'
import type { ProtocolParams, VerityConfig } from './types.ts'

/** anvil's default mnemonic: its accounts are funded with ETH at genesis. */
const MNEMONIC = 'test test test test test test test test test test test junk'

export type DevnetAccount = { address: Address; privateKey: Hex; account: HDAccount }

/** The linked libraries the Verity contract needs, by contract name. */
export type VerityLibraries = {
  WeightsLib: Address
  RegistrationLib: Address
  YumaLib: Address
  BondsLib: Address
  ConsensusLib: Address
  StakingLib: Address
  ProtocolLib: Address
  SubnetLib: Address
  GovernanceLib: Address
}

export type DevnetAddresses = {
  token: Address
  verity: Address
  libraries: VerityLibraries
}

/**
 * The devnet's protocol parameters. DEVNET ONLY: the governance delay is one block (production
 * deployments use days, see docs/SECURITY.md), so a queued change can be executed in the next
 * transaction.
 */
export const DEVNET_PROTOCOL_PARAMS: ProtocolParams = {
  unstakeDelay: 10,
  governanceDelay: 1,
  epochDeadline: 50,
  keeperBps: 100,
  maxSubnets: 256,
  minLock: parseEther('1'),
  lockReductionInterval: 1000,
}

export type DevnetOptions = {
  /** Funded accounts (default 20). Account 0 deploys, owns the protocol and holds the genesis VTY. */
  accounts?: number
  /** VTY minted to account 0 at genesis (default 1,000,000 VTY). */
  genesis?: bigint
  /** The unstake delay and its floor, in blocks (default 10). */
  unstakeDelay?: number
  /** Protocol parameters (default DEVNET_PROTOCOL_PARAMS with `unstakeDelay`). */
  params?: Partial<ProtocolParams>
  /** Block gas limit (default 2^31); single transactions stay bounded by the hardfork's cap. */
  gasLimit?: bigint
  /** Transaction ordering inside a block; `fifo` keeps the send order (default). */
  order?: 'fifo' | 'fees'
  /** Milliseconds to wait for anvil to answer (default 20 s). */
  timeoutMs?: number
  signal?: AbortSignal
}

export type Devnet = {
  rpcUrl: string
  chain: Chain
  addresses: DevnetAddresses
  accounts: DevnetAccount[]
  publicClient: PublicClient<Transport, Chain>
  /** One wallet client per account, same order. */
  walletClients: WalletClient<Transport, Chain, HDAccount>[]
  /** Kills anvil and waits for it to exit. Idempotent. */
  stop(): Promise<void>
}

/** The anvil executable (or its node launcher, a .mjs file) the installed @foundry-rs package provides. */
export function anvilBinary(): string {
  const require = createRequire(import.meta.url)
  try {
    const pkg = require.resolve(`@foundry-rs/anvil-${process.platform}-${archName()}/package.json`)
    return join(dirname(pkg), 'bin', process.platform === 'win32' ? 'anvil.exe' : 'anvil')
  } catch {
    return join(dirname(require.resolve('@foundry-rs/anvil/package.json')), 'bin.mjs')
  }
}

function archName(): string {
  return process.arch === 'x64' ? 'amd64' : process.arch
}

async function freePort(): Promise<number> {
  return await new Promise((resolve, reject) => {
    const server = createServer()
    server.unref()
    server.on('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const address = server.address()
      const port = typeof address === 'object' && address ? address.port : 0
      server.close(() => resolve(port))
    })
  })
}

// Every anvil this process started, killed on exit so none outlives us.
const running = new Set<ChildProcess>()
let hooked = false
function hookExit(): void {
  if (hooked) return
  hooked = true
  process.on('exit', () => {
    for (const child of running) killGroup(child, 'SIGKILL')
  })
}

function killGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return
  try {
    process.kill(-child.pid, signal)
  } catch {
    try {
      child.kill(signal)
    } catch {
      // already gone
    }
  }
}

/**
 * Starts anvil on a free 127.0.0.1 port, waits until it answers, deploys VTY, the libraries and
 * the Verity core, and returns clients for it. anvil runs under a small shell guard that kills it
 * when our stdin pipe closes, so it also dies when this process is killed outright.
 *
 * @example
 * const devnet = await startDevnet()
 * const n = await devnet.publicClient.getBlockNumber()
 * await devnet.stop()
 */
export async function startDevnet(options: DevnetOptions = {}): Promise<Devnet> {
  const { signal } = options
  signal?.throwIfAborted()
  const count = options.accounts ?? 20
  const port = await freePort()
  const rpcUrl = `http://127.0.0.1:${port}`
  const args = [
    '--host',
    '127.0.0.1',
    '--port',
    String(port),
    '--accounts',
    String(count),
    '--balance',
    '1000000',
    '--gas-limit',
    String(options.gasLimit ?? 2n ** 31n),
    '--order',
    options.order ?? 'fifo',
    '--chain-id',
    '31337',
    '--silent',
    // Anvil writes every state past its in-memory window to ~/.foundry/anvil/tmp (a MB or so per
    // block, never removed): a dispute test that mines through a long unstake delay wrote 5 GB.
    // Old states are never read here, so none is written.
    '--max-persisted-states',
    '0',
  ]
  const bin = anvilBinary()
  const command = bin.endsWith('.mjs') ? process.execPath : bin
  const commandArgs = bin.endsWith('.mjs') ? [bin, ...args] : args
  // The background reader holds our stdin (fd 3: a background job's own stdin is /dev/null);
  // EOF means we are gone or stopping, so it kills anvil.
  const guard =
    'exec 3<&0; cmd="$1"; shift; "$cmd" "$@" & c=$!; ' +
    // the trap waits for anvil: it answers while it shuts down, and stop() must mean stopped
    "trap 'kill $c 2>/dev/null; wait $c; exit 143' TERM INT HUP; " +
    '(cat <&3 >/dev/null; kill $c 2>/dev/null) & wait $c'
  const child = spawn('sh', ['-c', guard, 'anvil-guard', command, ...commandArgs], {
    stdio: ['pipe', 'ignore', 'pipe'],
    detached: true,
  })
  hookExit()
  running.add(child)
  let stderr = ''
  child.stderr?.on('data', (d: Buffer) => {
    stderr = (stderr + d.toString()).slice(-2000)
  })
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
  let stopped = false
  const stop = async () => {
    if (stopped) return
    stopped = true
    signal?.removeEventListener('abort', onAbort)
    child.stdin?.end()
    killGroup(child, 'SIGTERM')
    const timer = setTimeout(() => killGroup(child, 'SIGKILL'), 3000)
    await exited
    clearTimeout(timer)
    running.delete(child)
  }
  const onAbort = () => void stop()
  signal?.addEventListener('abort', onAbort, { once: true })

  try {
    await waitForRpc(rpcUrl, options.timeoutMs ?? 20_000, child, () => stderr, signal)
    const chain = defineChain({
      id: 31337,
      name: 'Verity devnet',
      nativeCurrency: { name: 'Ether', symbol: 'ETH', decimals: 18 },
      rpcUrls: { default: { http: [rpcUrl] } },
    })
    const transport = http(rpcUrl, { timeout: 120_000, retryCount: 0 })
    const publicClient = createPublicClient({ chain, transport, pollingInterval: 50 })
    const accounts: DevnetAccount[] = []
    for (let i = 0; i < count; i++) {
      const account = mnemonicToAccount(MNEMONIC, { addressIndex: i })
      const key = account.getHdKey().privateKey
      if (!key) throw new DevnetError('devnet: account without a private key')
      accounts.push({ address: account.address, privateKey: toHex(key), account })
    }
    const walletClients = accounts.map((a) =>
      createWalletClient({ account: a.account, chain, transport, pollingInterval: 50 }),
    )
    const unstakeDelay = options.unstakeDelay ?? DEVNET_PROTOCOL_PARAMS.unstakeDelay
    const owner = walletClients[0]!
    const addresses = await deploy(
      publicClient,
      owner,
      options.genesis ?? parseEther('1000000'),
      {
        clockMode: 0,
        minUnstakeDelay: unstakeDelay,
        minGovernanceDelay: 1,
        params: { ...DEVNET_PROTOCOL_PARAMS, unstakeDelay, ...options.params },
        // devnet only: the owner is its own guardian
        guardian: owner.account.address,
      },
      signal,
    )
    return { rpcUrl, chain, addresses, accounts, publicClient, walletClients, stop }
  } catch (error) {
    await stop()
    if (error instanceof DevnetError) throw error
    throw new DevnetError('devnet: failed to start', {
      cause: error,
      ...(stderr ? { details: stderr } : {}),
    })
  }
}

async function waitForRpc(
  rpcUrl: string,
  timeoutMs: number,
  child: ChildProcess,
  stderr: () => string,
  signal?: AbortSignal,
): Promise<void> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    signal?.throwIfAborted()
    if (child.exitCode !== null) {
      throw new DevnetError('devnet: anvil exited at start', stderr() ? { details: stderr() } : {})
    }
    try {
      const res = await fetch(rpcUrl, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'eth_chainId', params: [] }),
        signal: AbortSignal.timeout(1000),
      })
      if (res.ok) return
    } catch {
      // not up yet
    }
    if (Date.now() > deadline) {
      throw new DevnetError(`devnet: anvil did not answer within ${timeoutMs} ms`)
    }
    await new Promise((r) => setTimeout(r, 50))
  }
}

/** Replaces each library placeholder in `bytecode` with the deployed library address. */
export function linkBytecode(
  bytecode: Hex,
  references: Record<string, Record<string, readonly { start: number; length: number }[]>>,
  libraries: Record<string, Address>,
): Hex {
  let code = bytecode.slice(2)
  for (const file of Object.values(references)) {
    for (const [name, spots] of Object.entries(file)) {
      const address = libraries[name]
      if (!address) throw new DevnetError(`devnet: no address for library ${name}`)
      for (const { start, length } of spots) {
        code =
          code.slice(0, start * 2) +
          address.slice(2).toLowerCase() +
          code.slice((start + length) * 2)
      }
    }
  }
  return `0x${code}`
}

type Deployer = WalletClient<Transport, Chain, HDAccount | PrivateKeyAccount>

async function deployed(
  publicClient: PublicClient<Transport, Chain>,
  hash: Hex,
  signal?: AbortSignal,
): Promise<Address> {
  signal?.throwIfAborted()
  const receipt = await publicClient.waitForTransactionReceipt({ hash })
  if (receipt.status !== 'success' || !receipt.contractAddress) {
    throw new DevnetError('devnet: deployment reverted')
  }
  return getAddress(receipt.contractAddress)
}

/** Deploys the libraries Verity links against (a library that calls another is linked first). */
export async function deployLibraries(
  publicClient: PublicClient<Transport, Chain>,
  wallet: Deployer,
  signal?: AbortSignal,
): Promise<VerityLibraries> {
  const lib = async (bytecode: Hex) =>
    await deployed(publicClient, await wallet.deployContract({ abi: [], bytecode }), signal)
  const RegistrationLib = await lib(registrationLibBytecode)
  const ProtocolLib = await lib(protocolLibBytecode)
  return {
    WeightsLib: await lib(weightsLibBytecode),
    RegistrationLib,
    YumaLib: await lib(yumaLibBytecode),
    BondsLib: await lib(bondsLibBytecode),
    ConsensusLib: await lib(consensusLibBytecode),
    StakingLib: await lib(stakingLibBytecode),
    ProtocolLib,
    SubnetLib: await lib(
      linkBytecode(subnetLibBytecode, subnetLibLinkReferences, { RegistrationLib }),
    ),
    GovernanceLib: await lib(
      linkBytecode(governanceLibBytecode, governanceLibLinkReferences, { ProtocolLib }),
    ),
  }
}

/**
 * Deploys a Verity contract owned by the wallet's account. `harness: true` deploys
 * VerityScenarioHarness instead: NOT FOR DEPLOYMENT, it lets scenario replays begin epochs before
 * their tempo and count stake at once.
 */
export async function deployVerity(
  publicClient: PublicClient<Transport, Chain>,
  wallet: Deployer,
  options: {
    token: Address
    libraries: VerityLibraries
    config: VerityConfig
    harness?: boolean
    signal?: AbortSignal
  },
): Promise<Address> {
  const bytecode = options.harness
    ? linkBytecode(
        verityScenarioHarnessBytecode,
        verityScenarioHarnessLinkReferences,
        options.libraries,
      )
    : linkBytecode(verityBytecode, verityLinkReferences, options.libraries)
  const { config } = options
  return await deployed(
    publicClient,
    await wallet.deployContract({
      abi: verityAbi,
      bytecode,
      args: [
        options.token,
        wallet.account.address,
        {
          clockMode: config.clockMode,
          minUnstakeDelay: config.minUnstakeDelay,
          minGovernanceDelay: config.minGovernanceDelay,
          params: config.params,
          guardian: config.guardian,
        },
      ],
    }),
    options.signal,
  )
}

/** Deploys VTY (genesis to the wallet's account) and makes `minter` its only minter. */
export async function deployToken(
  publicClient: PublicClient<Transport, Chain>,
  wallet: Deployer,
  genesis: bigint,
  signal?: AbortSignal,
): Promise<Address> {
  return await deployed(
    publicClient,
    await wallet.deployContract({
      abi: verityTokenAbi,
      bytecode: verityTokenBytecode,
      args: [wallet.account.address, genesis],
    }),
    signal,
  )
}

/** Fixes the token's minter (once). */
export async function setTokenMinter(
  publicClient: PublicClient<Transport, Chain>,
  wallet: Deployer,
  token: Address,
  minter: Address,
): Promise<void> {
  const hash = await wallet.writeContract({
    address: token,
    abi: verityTokenAbi,
    functionName: 'setMinter',
    args: [minter],
  })
  const receipt = await publicClient.waitForTransactionReceipt({ hash })
  if (receipt.status !== 'success') throw new DevnetError('devnet: setMinter reverted')
}

async function deploy(
  publicClient: PublicClient<Transport, Chain>,
  wallet: Deployer,
  genesis: bigint,
  config: VerityConfig,
  signal?: AbortSignal,
): Promise<DevnetAddresses> {
  const token = await deployToken(publicClient, wallet, genesis, signal)
  const libraries = await deployLibraries(publicClient, wallet, signal)
  const verity = await deployVerity(publicClient, wallet, {
    token,
    libraries,
    config,
    ...(signal ? { signal } : {}),
  })
  await setTokenMinter(publicClient, wallet, token, verity)
  return { token, verity, libraries }
}

/**
 * The devnet's deployment manifest (`disputeGame` once installDisputeGame has named one, `market`
 * once a compute market is deployed, `payments` once the payment channels are).
 */
export function devnetDeployment(
  devnet: Devnet,
  disputeGame?: Address,
  market?: Address,
  payments?: Address,
  competition?: Address,
  vision?: Address,
): Deployment {
  return {
    format: DEPLOYMENT_FORMAT,
    chainId: devnet.chain.id,
    abiVersion: ABI_VERSION,
    // a fresh chain: everything Verity logged is after genesis
    block: 0n,
    deployer: devnet.accounts[0]!.address,
    contracts: {
      verity: devnet.addresses.verity,
      token: devnet.addresses.token,
      ...(disputeGame ? { disputeGame } : {}),
      ...(market ? { market } : {}),
      ...(payments ? { payments } : {}),
      ...(competition ? { competition } : {}),
      ...(vision ? { vision } : {}),
      libraries: { ...devnet.addresses.libraries },
    },
  }
}
