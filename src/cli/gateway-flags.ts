import { UsageError } from '../errors/cli.ts'
import { fixedPriceBook, type PriceBook, parseAmount } from '../gateway/accounts/price.ts'
import type { ParsedArgs } from './args.ts'

/** The gateway role's account and browser-safety flags (verity node --role gateway). */
export const GATEWAY_FLAGS = {
  auth: { type: 'boolean' },
  'price-prompt': { type: 'string' },
  'price-completion': { type: 'string' },
  'cors-origin': { type: 'string' },
  'allowed-hosts': { type: 'string' },
} as const

export const GATEWAY_FLAGS_HELP = `Gateway accounts: --auth requires an API key from the node's account store
(<data-dir>/gateway.sqlite; verity gateway keys create) with per-key requests/min, tokens/min,
concurrency and prepaid credit; requests are charged --price-prompt and --price-completion credit
units per 1M tokens (default 0: free, limits only). Browser and host safety: --cors-origin
<origin,...> lets web pages from those origins call the API (off by default; * = any);
--allowed-hosts <name,...> are the names the API answers to besides loopback and IP addresses
(default: the DNS names in --announce); any other Host header is refused (DNS rebinding).`

export type GatewayHttpFlags = {
  auth?: { prices: PriceBook }
  corsOrigins?: string[]
  allowedHosts: string[]
}

function list(raw: string | boolean | undefined): string[] | undefined {
  if (raw === undefined) return undefined
  return String(raw)
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '')
}

function price(flags: ParsedArgs['flags'], name: string): bigint {
  const raw = flags[name]
  if (raw === undefined) return 0n
  try {
    return parseAmount(String(raw), `--${name}`)
  } catch (error) {
    throw new UsageError((error as { shortMessage: string }).shortMessage)
  }
}

/**
 * Reads the gateway's --auth, prices, --cors-origin and --allowed-hosts; `announce` (the node's
 * --announce multiaddrs) gives the default public names. Each refusal names the flag and value.
 */
export function gatewayHttpFlags(
  flags: ParsedArgs['flags'],
  role: string,
  announce: readonly string[] = [],
): GatewayHttpFlags {
  // A miner takes --price-prompt and --price-completion too: the price it advertises (VTY).
  const minerFlags = role === 'miner' ? ['price-prompt', 'price-completion'] : []
  const given = Object.keys(GATEWAY_FLAGS).filter(
    (f) => flags[f] !== undefined && !minerFlags.includes(f),
  )
  if (role !== 'gateway' && given.length > 0)
    throw new UsageError(`--${given[0]} goes with --role gateway`)
  if (!flags.auth && role === 'gateway')
    for (const f of ['price-prompt', 'price-completion'])
      if (flags[f] !== undefined)
        throw new UsageError(`--${f} goes with --auth (prices are charged to API keys)`)
  const out: GatewayHttpFlags = { allowedHosts: [] }
  if (flags.auth)
    out.auth = {
      prices: fixedPriceBook({
        promptPerMillion: price(flags, 'price-prompt'),
        completionPerMillion: price(flags, 'price-completion'),
      }),
    }
  const origins = list(flags['cors-origin'])
  if (origins !== undefined) {
    if (origins.length === 0) throw new UsageError('--cors-origin needs at least one origin')
    for (const o of origins)
      if (
        o !== '*' &&
        !/^https?:\/\/[a-z0-9.-]+(:\d{1,5})?$/i.test(o) &&
        !/^https?:\/\/\[[0-9a-f:.]+\](:\d{1,5})?$/i.test(o)
      )
        throw new UsageError(
          `--cors-origin: '${o}' is not an origin (like https://app.example.com, no path)`,
        )
    out.corsOrigins = origins
  }
  const hosts = list(flags['allowed-hosts'])
  if (hosts !== undefined) {
    if (hosts.length === 0) throw new UsageError('--allowed-hosts needs at least one name')
    for (const h of hosts)
      if (!/^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*\.?$/i.test(h))
        throw new UsageError(
          `--allowed-hosts: '${h}' is not a host name (like api.example.com, no port)`,
        )
    out.allowedHosts = hosts.map((h) => h.toLowerCase().replace(/\.$/, ''))
  } else
    out.allowedHosts = announce.flatMap((a) => {
      const m = /^\/dns(?:4|6|addr)?\/([^/]+)/.exec(a)
      return m ? [m[1]!.toLowerCase()] : []
    })
  return out
}
