import { UsageError } from '../../errors/cli.ts'
import { CapacityError, PricingError } from '../../errors/market.ts'
import { parseResources } from '../../market/match.ts'
import {
  parsePricingFlags,
  type QuotingStrategy,
  scalePricing,
  scriptPricing,
} from '../../market/pricing.ts'
import { startProvider } from '../../market/start.ts'
import { toHex } from '../../runtime/trace/merkle.ts'
import { intFlag, type ParsedArgs } from '../args.ts'
import { loadAccount, openChain, signerFor } from '../chain-session.ts'
import { DEFAULT_MODEL_PATH, loadModelFile } from '../model-file.ts'

export const PROVIDER_HELP = `usage: verity node --role provider --key <keyfile> --data-dir <dir> --rpc <url>
                  --deployment <manifest> --model <file.gguf,...> --capacity <resources>
                  (--pricing <scales> | --pricing-script <path>)
                  [--attributes k=v,...] [--host <address>] [--port P] [--host-uri <url>]
                  [--poll-ms N]

A provider rents its machine out on the compute market, as Akash's provider does: it registers
(or updates) itself with --attributes and its host URI, reads every open order and the spec its
tenant published, and bids on those it can place: the spec's model is one of --model (a comma
list of GGUF files, 'default' for the demo model), the resources fit what --capacity leaves free
(cpu=4000m,memory=8Gi,storage=20Gi,gpu=0), the placement's attributes and auditors match, and
the price its strategy sets is under the order's ceiling. --pricing scales per resource, in VTY
per block: cpu=<per millicpu>,memory=<per MiB>,storage=<per MiB>,gpu=<per GPU>; --pricing-script
runs a program with the order as JSON on stdin that prints a price (or nothing: no bid).
A won lease runs as its own child process (verity lease-serve) with the spec's CPU and memory,
at <host-uri>/leases/<id>/v1 (OpenAI-compatible, the tenant's API key only). Every --poll-ms
(default 1000) each lease is checked on chain: a closed one, or one whose escrow ran dry (which
the provider then closes), has its workload killed at once; workloads also exit with the
provider, and a restarted provider restarts only leases still paid.`

/** Parses --attributes k=v,k=v (each key and value 1..32 bytes). */
export function parseAttributes(text: string): Record<string, string> {
  const out: Record<string, string> = {}
  for (const part of text
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '')) {
    const eq = part.indexOf('=')
    if (eq <= 0 || eq === part.length - 1)
      throw new UsageError(`--attributes: '${part}' is not key=value`)
    const key = part.slice(0, eq).trim()
    const value = part.slice(eq + 1).trim()
    for (const s of [key, value])
      if (new TextEncoder().encode(s).length > 32)
        throw new UsageError(`--attributes: '${s}' is longer than 32 bytes`)
    if (key in out) throw new UsageError(`--attributes: '${key}' is given twice`)
    out[key] = value
  }
  return out
}

/** A flag's parse error is a usage error (exit 2), its message kept. */
function asUsage<T>(parse: () => T): T {
  try {
    return parse()
  } catch (error) {
    if (error instanceof PricingError || error instanceof CapacityError)
      throw new UsageError(error.shortMessage, { cause: error })
    throw error
  }
}

/** Runs `verity node --role provider` until SIGINT or SIGTERM. */
export async function runProvider(flags: ParsedArgs['flags']): Promise<number> {
  for (const f of ['key', 'data-dir', 'model', 'capacity'] as const)
    if (typeof flags[f] !== 'string') throw new UsageError(`--${f} is required for a provider`)
  const hasScale = typeof flags.pricing === 'string'
  const hasScript = typeof flags['pricing-script'] === 'string'
  if (hasScale === hasScript)
    throw new UsageError('a provider prices with exactly one of --pricing and --pricing-script')
  const pricing: QuotingStrategy = asUsage(() =>
    hasScale
      ? scalePricing(parsePricingFlags(flags.pricing as string))
      : scriptPricing({ path: flags['pricing-script'] as string }),
  )
  const capacity = asUsage(() => parseResources(flags.capacity as string))
  const attributes = parseAttributes((flags.attributes as string | undefined) ?? '')
  const port = intFlag(flags, 'port', 8443, 0, 65535)
  const pollMs = intFlag(flags, 'poll-ms', 1000, 100, 600_000)
  const hostUri = flags['host-uri'] as string | undefined
  if (hostUri !== undefined && !/^https?:\/\/[^\s]+$/.test(hostUri))
    throw new UsageError('--host-uri must be an http(s) URL')
  const host = typeof flags.host === 'string' ? flags.host : undefined
  if ((host === '0.0.0.0' || host === '::') && hostUri === undefined)
    throw new UsageError(
      '--host binds every interface: name the URL tenants reach this provider at with --host-uri',
    )
  const session = await openChain(flags)
  const market = session.deployment.contracts.market
  if (!market)
    throw new UsageError('this deployment has no compute market (its manifest names none)')
  const account = loadAccount(flags, session.chainId)
  const models = String(flags.model)
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '')
    .map((path) => {
      // one thread: only the root is needed here; workloads load with their lease's CPUs
      const model = loadModelFile(path, { threads: 1 })
      return { path: path === 'default' ? DEFAULT_MODEL_PATH : path, root: toHex(model.modelRoot) }
    })
  const provider = await startProvider({
    publicClient: session.publicClient,
    wallet: signerFor(session, account),
    account,
    rpcUrl: session.rpcUrl,
    market,
    token: session.deployment.contracts.token,
    verifyingContract: session.deployment.contracts.verity,
    attributes,
    capacity,
    models,
    pricing,
    dataDir: flags['data-dir'] as string,
    pollMs,
    fromBlock: session.deployment.block,
    ...(host ? { host } : {}),
    port,
    ...(hostUri ? { hostUri } : {}),
  })
  console.log(
    `provider ${account.address} at ${provider.ingress.url}; serving ${models.map((m) => m.root).join(', ')}`,
  )
  await new Promise<void>((resolve) => {
    process.once('SIGINT', () => resolve())
    process.once('SIGTERM', () => resolve())
  })
  await provider.stop()
  return 0
}
