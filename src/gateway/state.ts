import { GatewayError, ModelNotFoundError } from '../errors/gateway.ts'
import type { ReceiptBundle } from '../verify/bundle.ts'
import type { Accounts } from './accounts/meter.ts'
import { GatewayMetrics } from './metrics.ts'
import type { MinerPool } from './pool.ts'
import type { DashboardOptions } from './routes/dashboard.ts'
import type { VisionPool } from './vision/pool.ts'

export type GatewayOptions = {
  /** One pool per served model; model ids must be unique. */
  pools: readonly MinerPool[]
  /** When non-empty, `/v1/*` requires `Authorization: Bearer <key>` with one of these keys. */
  apiKeys?: readonly string[]
  /** Like apiKeys, but the keys' sha256 digests (0x hex): the server never holds the keys. */
  apiKeyHashes?: readonly string[]
  /** Largest accepted request body (default 1 MiB): larger ones get 413. */
  maxBodyBytes?: number
  /** Completion length when a chat request sets no max (default 256; capped by the context). */
  defaultMaxTokens?: number
  /** A miner silent this long is abandoned and the request fails over (default 30000 ms). */
  idleTimeoutMs?: number
  /** Miners tried per request (default: all of the model's). */
  maxAttempts?: number
  /** Per-key (or per-client when keys are off) request budget; off by default. */
  rateLimit?: { requests: number; windowMs: number }
  /**
   * Gateway accounts: API keys from an account store, per-key limits and prepaid credit charged
   * by usage. When set, `apiKeys`, `apiKeyHashes` and `rateLimit` are not used.
   */
  accounts?: Accounts
  /** Origins a browser may call the API from (CORS); none by default. `*` allows any. */
  corsOrigins?: readonly string[]
  /**
   * Host names the gateway answers to besides loopback and IP addresses (DNS-rebinding guard);
   * absent: any Host. The node passes its configured names.
   */
  allowedHosts?: readonly string[]
  /** Chooses the seed when a request has none (default: 48 random bits). */
  chooseSeed?: () => number
  /** Clock in milliseconds (default Date.now): the render time chat requests commit to. */
  now?: () => number
  /**
   * Hands a verified answer to the validators (a node gossips it). Called for every answer the
   * gateway serves and for bundles clients submit to `/v1/verity/receipts`; it may throw an
   * InvalidRequestError to refuse one (e.g. a miner that is not registered).
   */
  submitBundle?: (bundle: ReceiptBundle) => Promise<void>
  metrics?: GatewayMetrics
  /**
   * The node around the gateway, for /health (role, hotkey, uid, chain, peers): `ready` false
   * makes /health 503 even with miners available. Absent: /health reports the pools alone.
   */
  nodeStatus?: () => Promise<{ ready: boolean } & Record<string, unknown>>
  /** Serve the web dashboard at /dashboard, reading this chain (absent: no /dashboard). */
  dashboard?: DashboardOptions
  /** A proven image classifier served through chat completions (src/gateway/vision). */
  vision?: VisionPool
}

export type GatewayState = {
  pools: Map<string, MinerPool>
  metrics: GatewayMetrics
  maxBodyBytes: number
  defaultMaxTokens: number
  idleTimeoutMs: number
  maxAttempts: number | undefined
  chooseSeed: () => number
  now: () => number
  submitBundle: ((bundle: ReceiptBundle) => Promise<void>) | undefined
  nodeStatus: GatewayOptions['nodeStatus']
  accounts: Accounts | undefined
  vision: VisionPool | undefined
  pool(model: string): MinerPool
}

export function randomSeed(): number {
  const b = crypto.getRandomValues(new Uint32Array(2))
  return b[0]! * 0x10000 + (b[1]! & 0xffff)
}

export function createState(options: GatewayOptions): GatewayState {
  const pools = new Map<string, MinerPool>()
  for (const p of options.pools) pools.set(p.model.id, p)
  if (options.vision && pools.has(options.vision.name))
    throw new GatewayError(`the vision model '${options.vision.name}' has a text model's name`)
  return {
    pools,
    metrics: options.metrics ?? new GatewayMetrics(),
    maxBodyBytes: options.maxBodyBytes ?? 1 << 20,
    defaultMaxTokens: options.defaultMaxTokens ?? 256,
    idleTimeoutMs: options.idleTimeoutMs ?? 30_000,
    maxAttempts: options.maxAttempts,
    chooseSeed: options.chooseSeed ?? randomSeed,
    now: options.now ?? Date.now,
    submitBundle: options.submitBundle,
    nodeStatus: options.nodeStatus,
    accounts: options.accounts,
    vision: options.vision,
    pool(model) {
      const p = pools.get(model)
      if (!p) throw new ModelNotFoundError(model)
      return p
    },
  }
}
