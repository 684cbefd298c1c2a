import { UsageError } from '../../errors/cli.ts'
import { connectChain, readDisputeGame } from '../../node/chain.ts'
import { CHEAT_MODES, type CheatMode } from '../../node/cheat.ts'
import { startGatewayNode } from '../../node/gateway.ts'
import { startMinerNode, startValidatorNode } from '../../node/network.ts'
import { loadKey, readPassphrase } from '../../node/wallet.ts'
import { tokenizerFromGguf } from '../../runtime/tokenizer/index.ts'
import { intFlag, parseArgs } from '../args.ts'
import type { Command } from '../main.ts'
import { loadModelFile, threadsFlag } from '../model-file.ts'
import { applyOpsFlags, OPS_FLAGS, OPS_HELP } from '../ops-flags.ts'

const HELP = `usage: verity node --role miner|validator|gateway --chain <rpc-url> --key <hotkey.json>
                  --data-dir <dir> [--netuid N] [--contract <address>] [--model <file.gguf|default>]
                  [--port P] [--passphrase-file <file>] [--gateway <url>]
                  [--dispute-game <address>] [--cheat-mode always|selective|subtle] [--threads N]

Runs one node until Ctrl-C. The hotkey keyfile is decrypted with the passphrase from
--passphrase-file or VERITY_PASSPHRASE. The node publishes its libp2p peer id and addresses on
chain for its hotkey (it must be registered on the subnet). --contract defaults to the address the
devnet deploys Verity to. Miner: serves /verity/infer/1 to the subnet's registered hotkeys
(--port: libp2p TCP port; --cheat-mode serves made-up output, for devnets). Validator: re-executes
a secret sample of the answers gateways gossip and its own checks, sent through the gateway at
--gateway <url> (without it, straight to miners, which they can tell apart), and sets weights
with commit-reveal. Gateway: the OpenAI-compatible HTTP API on 127.0.0.1:--port (default 8080);
its hotkey must be registered on the subnet for miners to serve it.
Miners and validators play the dispute game the Verity contract names (or --dispute-game): a
validator disputes, with a bond from its hotkey's wallet, each wrong trace or output it
re-executes; a miner answers every dispute over its receipts from its data dir's SQLite store.
Both keep their games in that store and resume them after a restart.
--threads N runs the model's products on N threads (default: all cores; results are the same bits
for every N).
${OPS_HELP}`

const spec = {
  role: { type: 'string' },
  chain: { type: 'string' },
  key: { type: 'string' },
  'data-dir': { type: 'string' },
  netuid: { type: 'string' },
  contract: { type: 'string' },
  model: { type: 'string' },
  port: { type: 'string' },
  'passphrase-file': { type: 'string' },
  'cheat-mode': { type: 'string' },
  gateway: { type: 'string' },
  threads: { type: 'string' },
  'dispute-game': { type: 'string' },
  ...OPS_FLAGS,
  help: { type: 'boolean', short: 'h' },
} as const

export const command: Command = {
  summary: 'run a miner, validator or gateway node',
  run: async (argv) => {
    const { flags, positionals } = parseArgs(argv, spec)
    if (flags.help) {
      console.log(HELP)
      return 0
    }
    if (positionals.length > 0) throw new UsageError(`unexpected argument '${positionals[0]}'`)
    const { metrics: ops, keepEpochs } = applyOpsFlags(flags)
    const role = flags.role
    if (role !== 'miner' && role !== 'validator' && role !== 'gateway')
      throw new UsageError('--role must be miner, validator or gateway')
    for (const f of ['chain', 'key', 'data-dir'] as const)
      if (typeof flags[f] !== 'string') throw new UsageError(`--${f} is required`)
    const contract = flags.contract
    if (contract !== undefined && !/^0x[0-9a-fA-F]{40}$/.test(String(contract)))
      throw new UsageError('--contract must be an address')
    const cheat = flags['cheat-mode'] as string | undefined
    if (cheat !== undefined && !(CHEAT_MODES as readonly string[]).includes(cheat))
      throw new UsageError(`--cheat-mode must be one of ${CHEAT_MODES.join(', ')}`)
    const gatewayUrl = flags.gateway as string | undefined
    if (gatewayUrl !== undefined && !/^https?:\/\/[^\s/]+$/.test(gatewayUrl))
      throw new UsageError('--gateway must be a URL like http://127.0.0.1:8080')
    const disputeGame = flags['dispute-game']
    if (disputeGame !== undefined && !/^0x[0-9a-fA-F]{40}$/.test(String(disputeGame)))
      throw new UsageError('--dispute-game must be an address')
    const netuid = intFlag(flags, 'netuid', 1, 0, 65535)
    const port = intFlag(flags, 'port', role === 'gateway' ? 8080 : 0, 0, 65535)
    const dataDir = flags['data-dir'] as string
    const passphrase = readPassphrase({
      file: typeof flags['passphrase-file'] === 'string' ? flags['passphrase-file'] : undefined,
    })
    const rpcUrl = flags.chain as string
    // The chain id is needed before decrypting: dev keys load only on a devnet.
    const probe = await fetch(rpcUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'eth_chainId', params: [] }),
      signal: AbortSignal.timeout(10_000),
    }).then(
      (r) => r.json() as Promise<{ result?: string }>,
      (error) => {
        throw new UsageError(`cannot reach the chain at ${rpcUrl}`, { cause: error })
      },
    )
    const chainId = Number(probe.result)
    const hotkey = loadKey(flags.key as string, passphrase, { chainId })
    const connected = await connectChain({
      rpcUrl,
      account: hotkey,
      netuid,
      ...(contract ? { address: contract as `0x${string}` } : {}),
    })
    // The game the core lets slash (governance names it), unless named on the command line.
    const game = (disputeGame as `0x${string}` | undefined) ?? (await readDisputeGame(connected))
    const chain = game ? { ...connected, disputeGame: game } : connected
    const model = loadModelFile(flags.model as string | undefined, { threads: threadsFlag(flags) })
    const tokenizer = tokenizerFromGguf(model.metadata)
    const controller = new AbortController()
    let stop: () => Promise<void>
    if (role === 'miner') {
      const node = await startMinerNode({
        hotkey,
        chain,
        model,
        tokenizer,
        dataDir,
        port,
        ...(cheat ? { cheat: cheat as CheatMode } : {}),
        ...(ops ? { ops } : {}),
      })
      stop = node.stop
      console.log(
        `miner ${hotkey.address} serving ${node.peer.getMultiaddrs().map(String).join(' ')}${node.ops ? `; /metrics and /health on ${node.ops.url}` : ''}`,
      )
    } else if (role === 'validator') {
      const node = await startValidatorNode({
        hotkey,
        chain,
        model,
        tokenizer,
        dataDir,
        port,
        ...(gatewayUrl ? { gatewayUrl } : {}),
        ...(ops ? { ops } : {}),
        ...(keepEpochs ? { retention: { keepEpochs } } : {}),
      })
      stop = node.stop
      console.log(
        `validator ${hotkey.address} on ${node.peer.peerId.toString()}${node.ops ? `; /metrics and /health on ${node.ops.url}` : ''}`,
      )
    } else {
      const node = await startGatewayNode({ hotkey, chain, model, dataDir, port })
      stop = node.stop
      console.log(`gateway ${hotkey.address}: ${node.server.url}/v1`)
    }
    await new Promise<void>((resolve) => {
      const done = () => resolve()
      process.once('SIGINT', done)
      process.once('SIGTERM', done)
      controller.signal.addEventListener('abort', done)
    })
    await stop()
    return 0
  },
}
