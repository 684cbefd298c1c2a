import { readFileSync } from 'node:fs'
import { isIP } from 'node:net'
import { multiaddr } from '@multiformats/multiaddr'
import { UsageError } from '../../errors/cli.ts'
import { accountStorePath } from '../../gateway/accounts/store.ts'
import { connectChain, readDisputeGame, readEpoch } from '../../node/chain.ts'
import { CHEAT_MODES, type CheatMode } from '../../node/cheat.ts'
import { startGatewayNode } from '../../node/gateway.ts'
import { startMinerNode, startValidatorNode } from '../../node/network.ts'
import { loadKey, readPassphrase } from '../../node/wallet.ts'
import { tokenizerFromGguf } from '../../runtime/tokenizer/index.ts'
import { toHex } from '../../runtime/trace/merkle.ts'
import { pricePerMillionToWei } from '../../verify/price.ts'
import { intFlag, type ParsedArgs, parseArgs } from '../args.ts'
import { CHAIN_FLAGS, CHAIN_FLAGS_HELP, resolveChainTarget } from '../chain-target.ts'
import { GATEWAY_FLAGS, GATEWAY_FLAGS_HELP, gatewayHttpFlags } from '../gateway-flags.ts'
import type { Command } from '../main.ts'
import { loadModelFile, threadsFlag } from '../model-file.ts'
import { applyOpsFlags, OPS_FLAGS, OPS_HELP } from '../ops-flags.ts'
import {
  COMPETITION_ROLES,
  COMPETITION_ROLES_HELP,
  type CompetitionRole,
  startCompetitionRole,
} from './node-competition.ts'
import { PROVIDER_HELP, runProvider } from './node-provider.ts'

const HELP = `usage: verity node --role miner|validator|gateway|provider|model-miner|competition-validator
                  --key <hotkey.json> --data-dir <dir>
                  --rpc <url> --deployment <manifest.json|url> [--config <file.yaml>]
                  [--netuid N] [--model <file.gguf|default>] [--passphrase-file <file>]
                  [--listen <multiaddr,...>] [--announce <multiaddr,...>]
                  [--bootstrap <multiaddr,...>] [--relay] [--port P]
                  [--host <address>] [--tls-cert <pem> --tls-key <pem>] [--gateway <url>]
                  [--auth] [--price-prompt P] [--price-completion P] [--cors-origin <origin,...>]
                  [--allowed-hosts <name,...>]
                  [--pay-deposit VTY] [--credit-limit N]
                  [--cheat-mode always|selective|subtle] [--threads N]

Runs one node until Ctrl-C (or SIGTERM). The hotkey keyfile is decrypted with the passphrase from
--passphrase-file or VERITY_PASSPHRASE; the hotkey must be registered on the subnet.

${CHAIN_FLAGS_HELP}
The dispute game is the one the core names (the manifest's disputeGame must agree).

Network (libp2p): --listen: where to listen (default /ip4/127.0.0.1/tcp/<--port>; on a server
/ip4/0.0.0.0/tcp/4001; add /p2p-circuit to be reachable through a relay when behind NAT).
--announce: the addresses published on chain for the hotkey (a public IP or /dns4/<name>/tcp/4001)
when they differ from the listen addresses. --bootstrap: peers (with /p2p/<id>) dialled at start;
peers are also found through the chain (every node publishes its addresses) and the DHT.
--relay: also serve as a circuit relay for nodes behind NAT (they then hole-punch with dcutr).
Lists are comma-separated.

Miner: serves /verity/infer/1 to the subnet's registered hotkeys (--cheat-mode serves made-up
output, for devnets) and its price on /verity/price/1: --price-prompt and --price-completion in VTY
per million tokens (default 0), signed by its hotkey; gateways route by it and bind it into each
request, so the receipt commits to the price the answer was served at. Validator: re-executes a secret sample of the answers gateways gossip and
its own checks, sent through the gateway at --gateway <url> (without it, straight to miners, which
they can tell apart), and sets weights with commit-reveal. Gateway: the OpenAI-compatible HTTP API
on --host (default 127.0.0.1; 0.0.0.0 for every interface) and --port (default 8080), over HTTPS
with --tls-cert and --tls-key (PEM files), or plain HTTP behind a reverse proxy that terminates TLS
(docs/OPERATING.md); its hotkey must be registered on the subnet for miners to serve it.
${GATEWAY_FLAGS_HELP}
Miners and validators play the dispute game: a validator disputes, with a bond from its hotkey's
wallet, each wrong trace or output it re-executes; a miner answers every dispute over its receipts
from its data dir's SQLite store. Both keep their games in that store and resume them after a
restart. --threads N runs the model's products on N threads (default: all cores; results are the
same bits for every N).

Payment by voucher (needs the manifest's contracts.payments): a priced miner takes a voucher per
answer on /verity/voucher/1 and settles its channels on chain; it refuses a caller that owes it
--credit-limit N answers not paid yet (default 8). A gateway with --pay-deposit VTY opens a channel
with that deposit to each priced miner it uses (topped up by as much when a quarter is left) and
pays every answer with a voucher of exactly its tokens x the miner's price, from its hotkey's VTY.
${OPS_HELP}
${COMPETITION_ROLES_HELP}

Provider (the compute market):
${PROVIDER_HELP}`

const spec = {
  role: { type: 'string' },
  'serve-model': { type: 'string' },
  ...CHAIN_FLAGS,
  key: { type: 'string' },
  'data-dir': { type: 'string' },
  netuid: { type: 'string' },
  model: { type: 'string' },
  port: { type: 'string' },
  listen: { type: 'string' },
  announce: { type: 'string' },
  bootstrap: { type: 'string' },
  relay: { type: 'boolean' },
  host: { type: 'string' },
  'tls-cert': { type: 'string' },
  'tls-key': { type: 'string' },
  'passphrase-file': { type: 'string' },
  'cheat-mode': { type: 'string' },
  gateway: { type: 'string' },
  threads: { type: 'string' },
  capacity: { type: 'string' },
  attributes: { type: 'string' },
  pricing: { type: 'string' },
  'pricing-script': { type: 'string' },
  'host-uri': { type: 'string' },
  'poll-ms': { type: 'string' },
  'pay-deposit': { type: 'string' },
  'credit-limit': { type: 'string' },
  ...OPS_FLAGS,
  ...GATEWAY_FLAGS,
  help: { type: 'boolean', short: 'h' },
} as const

/** A comma-separated list of multiaddrs, each checked; the error names the flag and the value. */
function multiaddrList(flags: ParsedArgs['flags'], name: string): string[] | undefined {
  const raw = flags[name]
  if (raw === undefined) return undefined
  const list = String(raw)
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '')
  if (list.length === 0) throw new UsageError(`--${name} needs at least one multiaddr`)
  for (const value of list) {
    try {
      multiaddr(value)
    } catch {
      throw new UsageError(`--${name}: '${value}' is not a multiaddr (like /ip4/10.0.0.5/tcp/4001)`)
    }
  }
  return list
}

function readPem(path: string, what: string): Buffer {
  try {
    return readFileSync(path)
  } catch (error) {
    throw new UsageError(`cannot read the TLS ${what} ${path}`, { cause: error })
  }
}

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
    if (role === 'provider') {
      gatewayHttpFlags(flags, role) // refuses the gateway's own flags
      return await runProvider(flags)
    }
    const competitionRole = (COMPETITION_ROLES as readonly unknown[]).includes(role)
    if (role !== 'miner' && role !== 'validator' && role !== 'gateway' && !competitionRole)
      throw new UsageError(
        '--role must be miner, validator, gateway, provider, model-miner or competition-validator',
      )
    if (flags['serve-model'] !== undefined && role !== 'model-miner')
      throw new UsageError('--serve-model goes with --role model-miner')
    for (const f of ['capacity', 'attributes', 'pricing', 'pricing-script', 'host-uri', 'poll-ms'])
      if (flags[f] !== undefined) throw new UsageError(`--${f} goes with --role provider`)
    for (const f of ['key', 'data-dir'] as const)
      if (typeof flags[f] !== 'string') throw new UsageError(`--${f} is required`)
    const cheat = flags['cheat-mode'] as string | undefined
    if (cheat !== undefined && !(CHEAT_MODES as readonly string[]).includes(cheat))
      throw new UsageError(`--cheat-mode must be one of ${CHEAT_MODES.join(', ')}`)
    const gatewayUrl = flags.gateway as string | undefined
    if (gatewayUrl !== undefined && !/^https?:\/\/[^\s/]+$/.test(gatewayUrl))
      throw new UsageError('--gateway must be a URL like http://127.0.0.1:8080')
    const listen = multiaddrList(flags, 'listen')
    const announce = multiaddrList(flags, 'announce')
    const bootstrap = multiaddrList(flags, 'bootstrap')
    for (const addr of bootstrap ?? [])
      if (!/\/p2p\/\w+/.test(addr))
        throw new UsageError(
          `--bootstrap: '${addr}' has no /p2p/<peer id> (a bootstrap peer must be named)`,
        )
    if (listen && flags.port !== undefined && role !== 'gateway')
      throw new UsageError('--port and --listen do not go together: put the port in --listen')
    const host = flags.host as string | undefined
    if (host !== undefined && role !== 'gateway')
      throw new UsageError('--host is the gateway HTTP address: it goes with --role gateway')
    if (host !== undefined && !isIP(host) && host !== 'localhost')
      throw new UsageError(`--host must be an IP address (like 0.0.0.0 or 10.0.0.5), got '${host}'`)
    if ((flags['tls-cert'] === undefined) !== (flags['tls-key'] === undefined))
      throw new UsageError('--tls-cert and --tls-key go together')
    if (flags['tls-cert'] !== undefined && role !== 'gateway')
      throw new UsageError('--tls-cert and --tls-key go with --role gateway')
    const tls =
      flags['tls-cert'] === undefined
        ? undefined
        : {
            cert: readPem(flags['tls-cert'] as string, 'certificate'),
            key: readPem(flags['tls-key'] as string, 'key'),
          }
    const gatewayHttp = gatewayHttpFlags(flags, role as string, announce)
    const network = {
      ...(listen ? { listen } : {}),
      ...(announce ? { announce } : {}),
      ...(bootstrap ? { bootstrap } : {}),
      ...(flags.relay ? { relay: true } : {}),
    }
    const netuid = intFlag(flags, 'netuid', 1, 0, 65535)
    const port = intFlag(flags, 'port', role === 'gateway' ? 8080 : 0, 0, 65535)
    const dataDir = flags['data-dir'] as string
    const passphrase = readPassphrase({
      file: typeof flags['passphrase-file'] === 'string' ? flags['passphrase-file'] : undefined,
    })
    const target = await resolveChainTarget(flags)
    const { deployment } = target
    const hotkey = loadKey(flags.key as string, passphrase, { chainId: target.chainId })
    const connected = await connectChain({
      rpcUrl: target.rpcUrl,
      account: hotkey,
      netuid,
      address: deployment.contracts.verity,
    })
    // The game the core lets slash (governance names it); a manifest naming another is stale.
    const game = await readDisputeGame(connected)
    if (deployment.contracts.disputeGame && game && game !== deployment.contracts.disputeGame)
      throw new UsageError(
        `the manifest names dispute game ${deployment.contracts.disputeGame}, but the core names ${game}: fetch the current manifest`,
      )
    const chain = game ? { ...connected, disputeGame: game } : connected
    if (competitionRole) {
      const stopRole = await startCompetitionRole(role as CompetitionRole, {
        flags,
        chain,
        deployment,
        dataDir,
        network,
      })
      await untilSignal()
      await stopRole()
      return 0
    }
    const model = loadModelFile(flags.model as string | undefined, { threads: threadsFlag(flags) })
    // A receipt names the model it ran: one for a model the subnet does not serve counts for
    // nothing, and a validator re-executing with another model flags every honest answer.
    const served = (await readEpoch(chain)).modelRoot.toLowerCase()
    const given = toHex(model.modelRoot).toLowerCase()
    if (served !== given)
      throw new UsageError(
        `subnet ${netuid} serves model ${served}, but ${flags.model ?? 'default'} is model ${given}: pass the subnet's model with --model`,
      )
    const tokenizer = tokenizerFromGguf(model.metadata)
    const controller = new AbortController()
    const payments = deployment.contracts.payments
    if (flags['pay-deposit'] !== undefined && role !== 'gateway')
      throw new UsageError('--pay-deposit goes with --role gateway')
    if (flags['credit-limit'] !== undefined && role !== 'miner')
      throw new UsageError('--credit-limit goes with --role miner')
    if (flags['pay-deposit'] !== undefined && !payments)
      throw new UsageError('--pay-deposit needs a deployment with contracts.payments')
    const creditLimit =
      flags['credit-limit'] === undefined ? undefined : Number(flags['credit-limit'])
    if (creditLimit !== undefined && !(Number.isSafeInteger(creditLimit) && creditLimit >= 1))
      throw new UsageError(`--credit-limit must be a whole number of answers, at least 1`)
    const payDeposit =
      flags['pay-deposit'] === undefined
        ? undefined
        : pricePerMillionToWei(String(flags['pay-deposit']), '--pay-deposit') * 1_000_000n
    let stop: () => Promise<void>
    if (role === 'miner') {
      const node = await startMinerNode({
        hotkey,
        chain,
        model,
        tokenizer,
        dataDir,
        port,
        network,
        ...(cheat ? { cheat: cheat as CheatMode } : {}),
        ...(ops ? { ops } : {}),
        ...(payments ? { payments: { payments } } : {}),
        service: {
          ...(creditLimit === undefined ? {} : { creditLimit }),
          price: {
            prompt: pricePerMillionToWei(String(flags['price-prompt'] ?? '0'), '--price-prompt'),
            completion: pricePerMillionToWei(
              String(flags['price-completion'] ?? '0'),
              '--price-completion',
            ),
          },
        },
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
        network,
        ...(gatewayUrl ? { gatewayUrl } : {}),
        ...(ops ? { ops } : {}),
        ...(keepEpochs ? { retention: { keepEpochs } } : {}),
      })
      stop = node.stop
      console.log(
        `validator ${hotkey.address} on ${node.peer.getMultiaddrs().map(String).join(' ')}${node.ops ? `; /metrics and /health on ${node.ops.url}` : ''}`,
      )
    } else {
      const node = await startGatewayNode({
        hotkey,
        chain,
        model,
        dataDir,
        port,
        network,
        ...(host ? { host } : {}),
        ...(tls ? { tls } : {}),
        ...gatewayHttp,
        ...(payments && payDeposit
          ? { payments: { payments, token: deployment.contracts.token, deposit: payDeposit } }
          : {}),
      })
      stop = node.stop
      console.log(
        `gateway ${hotkey.address}: ${node.server.url}/v1 on ${node.peer.getMultiaddrs().map(String).join(' ')}`,
      )
      console.log(
        gatewayHttp.auth
          ? `accounts on: API keys from ${accountStorePath(dataDir)} (verity gateway keys create --data-dir ${dataDir})`
          : `accounts off: the API is open to anyone who reaches it (--auth turns API keys on)`,
      )
    }
    await untilSignal(controller.signal)
    await stop()
    return 0
  },
}

/** Resolves on Ctrl-C, SIGTERM or `signal`. */
async function untilSignal(signal?: AbortSignal): Promise<void> {
  await new Promise<void>((resolve) => {
    const done = () => resolve()
    process.once('SIGINT', done)
    process.once('SIGTERM', done)
    signal?.addEventListener('abort', done)
  })
}
