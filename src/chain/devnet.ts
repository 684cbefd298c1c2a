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
  registrationLibBytecode,
  verityAbi,
  verityBytecode,
  verityLinkReferences,
  verityTokenAbi,
  verityTokenBytecode,
  weightsLibBytecode,
  yumaLibBytecode,
} from './abis.ts'

/** anvil's default mnemonic: its accounts are funded with ETH at genesis. */
const MNEMONIC = 'test test test test test test test test test test test junk'

export type DevnetAccount = { address: Address; privateKey: Hex; account: HDAccount }

export type DevnetAddresses = {
  token: Address
  verity: Address
  weightsLib: Address
  registrationLib: Address
  yumaLib: Address
  bondsLib: Address
  consensusLib: Address
}

export type DevnetOptions = {
  /** Funded accounts (default 20). Account 0 deploys, owns the protocol and holds the genesis VTY. */
  accounts?: number
  /** VTY minted to account 0 at genesis (default 1,000,000 VTY). */
  genesis?: bigint
  /** Unstake cooldown in blocks (default 10). */
  unstakeCooldown?: bigint
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

function anvilBinary(): string {
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
  ]
  const bin = anvilBinary()
  const command = bin.endsWith('.mjs') ? process.execPath : bin
  const commandArgs = bin.endsWith('.mjs') ? [bin, ...args] : args
  // The background reader holds our stdin (fd 3: a background job's own stdin is /dev/null);
  // EOF means we are gone or stopping, so it kills anvil.
  const guard =
    'exec 3<&0; cmd="$1"; shift; "$cmd" "$@" & c=$!; ' +
    "trap 'kill $c 2>/dev/null' TERM INT HUP; " +
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
    const addresses = await deploy(
      publicClient,
      walletClients[0]!,
      options.genesis ?? parseEther('1000000'),
      options.unstakeCooldown ?? 10n,
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

async function deploy(
  publicClient: PublicClient<Transport, Chain>,
  wallet: WalletClient<Transport, Chain, HDAccount | PrivateKeyAccount>,
  genesis: bigint,
  cooldown: bigint,
  signal?: AbortSignal,
): Promise<DevnetAddresses> {
  const owner = wallet.account.address
  const deployed = async (hash: Hex): Promise<Address> => {
    signal?.throwIfAborted()
    const receipt = await publicClient.waitForTransactionReceipt({ hash })
    if (receipt.status !== 'success' || !receipt.contractAddress) {
      throw new DevnetError('devnet: deployment reverted')
    }
    return getAddress(receipt.contractAddress)
  }
  const token = await deployed(
    await wallet.deployContract({
      abi: verityTokenAbi,
      bytecode: verityTokenBytecode,
      args: [owner, genesis],
    }),
  )
  const libs = {
    WeightsLib: await deployed(
      await wallet.deployContract({ abi: [], bytecode: weightsLibBytecode }),
    ),
    RegistrationLib: await deployed(
      await wallet.deployContract({ abi: [], bytecode: registrationLibBytecode }),
    ),
    YumaLib: await deployed(await wallet.deployContract({ abi: [], bytecode: yumaLibBytecode })),
    BondsLib: await deployed(await wallet.deployContract({ abi: [], bytecode: bondsLibBytecode })),
    ConsensusLib: await deployed(
      await wallet.deployContract({ abi: [], bytecode: consensusLibBytecode }),
    ),
  }
  const verity = await deployed(
    await wallet.deployContract({
      abi: verityAbi,
      bytecode: linkBytecode(verityBytecode, verityLinkReferences, libs),
      args: [token, owner, cooldown],
    }),
  )
  const hash = await wallet.writeContract({
    address: token,
    abi: verityTokenAbi,
    functionName: 'setMinter',
    args: [verity],
  })
  await publicClient.waitForTransactionReceipt({ hash })
  return {
    token,
    verity,
    weightsLib: libs.WeightsLib,
    registrationLib: libs.RegistrationLib,
    yumaLib: libs.YumaLib,
    bondsLib: libs.BondsLib,
    consensusLib: libs.ConsensusLib,
  }
}
