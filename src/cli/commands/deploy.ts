import { readFileSync } from 'node:fs'
import { formatEther, parseEther } from 'viem'
import { UsageError } from '../../errors/cli.ts'
import { type BidSelection, deploySpec } from '../../market/deploy.ts'
import { parseDeploymentSpec } from '../../market/spec.ts'
import { intFlag, parseArgs } from '../args.ts'
import { KEY_FLAGS, loadAccount, openChain, signerFor } from '../chain-session.ts'
import { CHAIN_FLAGS, CHAIN_FLAGS_HELP } from '../chain-target.ts'
import type { Command } from '../main.ts'
import { parseAddress, parseAmount } from '../values.ts'

const HELP = `usage: verity deploy <spec.yaml> --key <keyfile> [--deposit <VTY>] [--bid-window <blocks>]
                     [--provider <address>] [--bid-timeout <seconds>] [--json]
                     (and --rpc, --deployment, --passphrase-file)

Deploys a model as an OpenAI-compatible API on the compute market, in one command: for every
instance the spec plans it opens an order with --deposit VTY of escrow (default 10), publishes
the spec, waits for providers' bids (the bid window: --bid-window blocks, default 20, and at most
--bid-timeout seconds, default 60), accepts the cheapest bid that meets the spec (or the one of
--provider), and waits until the provider serves the lease. It prints the lease id, the provider,
its price per block, the base URL and the API key (shown once: only its sha256 is on chain).
With no bid the order is closed and the escrow returned. Top up with 'verity market deposit',
end with 'verity market close'. --json prints one line per lease:
{leaseId, orderId, provider, pricePerBlock, baseUrl, apiKey, receiptSigner}.

${CHAIN_FLAGS_HELP}`

const spec = {
  ...CHAIN_FLAGS,
  ...KEY_FLAGS,
  deposit: { type: 'string' },
  'bid-window': { type: 'string' },
  provider: { type: 'string' },
  'bid-timeout': { type: 'string' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const

export const command: Command = {
  summary: 'deploy a model as an API on the compute market (verity deploy spec.yaml)',
  run: async (argv) => {
    const { flags, positionals } = parseArgs(argv, spec)
    if (flags.help) {
      console.log(HELP)
      return 0
    }
    if (positionals.length !== 1) throw new UsageError('verity deploy takes one spec file')
    const path = positionals[0]!
    let text: string
    try {
      text = readFileSync(path, 'utf8')
    } catch (error) {
      throw new UsageError(
        `cannot read the spec ${path} (${(error as NodeJS.ErrnoException).code ?? 'error'})`,
      )
    }
    const parsed = parseDeploymentSpec(text, { source: path })
    const deposit =
      flags.deposit === undefined
        ? parseEther('10')
        : parseAmount(String(flags.deposit), '--deposit')
    if (deposit === 0n) throw new UsageError('--deposit must be more than 0')
    const bidWindow = BigInt(intFlag(flags, 'bid-window', 20, 1, 100_000))
    const bidTimeoutMs = intFlag(flags, 'bid-timeout', 60, 1, 86_400) * 1000
    const select: BidSelection =
      flags.provider === undefined
        ? { kind: 'cheapest' }
        : { kind: 'provider', provider: parseAddress(String(flags.provider), '--provider') }
    const session = await openChain(flags)
    const market = session.deployment.contracts.market
    if (!market)
      throw new UsageError('this deployment has no compute market (its manifest names none)')
    const account = loadAccount(flags, session.chainId)
    const json = flags.json === true
    const result = await deploySpec({
      publicClient: session.publicClient,
      wallet: signerFor(session, account),
      market,
      token: session.deployment.contracts.token,
      spec: parsed,
      deposit,
      bidWindow,
      select,
      bidTimeoutMs,
      onProgress: json ? () => {} : (line) => console.error(line),
    })
    for (const l of result.leases) {
      if (json) {
        console.log(
          JSON.stringify({
            leaseId: l.leaseId.toString(),
            orderId: l.orderId.toString(),
            provider: l.provider,
            pricePerBlock: l.pricePerBlock.toString(),
            baseUrl: l.baseUrl,
            apiKey: result.apiKey,
            receiptSigner: l.receiptSigner,
          }),
        )
      } else {
        console.log(`lease ${l.leaseId} (${l.service}) with provider ${l.provider}`)
        console.log(`  price     ${formatEther(l.pricePerBlock)} VTY per block`)
        console.log(`  base URL  ${l.baseUrl}`)
        console.log(`  receipts  signed by ${l.receiptSigner} (vouched for by the provider)`)
      }
    }
    if (!json) console.log(`API key (shown once): ${result.apiKey}`)
    return 0
  },
}
