import {
  type Chain,
  createPublicClient,
  defineChain,
  http,
  type PublicClient,
  type Transport,
} from 'viem'
import { type Deployment, parseDeployment } from '../../src/chain/deployment-manifest.ts'

/** What the gateway serves at /dashboard/config.json. */
export type DashboardConfig = {
  rpcUrl: string
  deployment: Deployment
  /** The models the gateway serves: OpenAI id and modelRoot (the GGUF is at models/<root>.gguf). */
  models: { id: string; modelRoot: `0x${string}` }[]
}

/** Reads and checks the gateway's config: the manifest goes through the CLI's own parser. */
export async function loadConfig(signal?: AbortSignal): Promise<DashboardConfig> {
  const res = await fetch('./config.json', signal ? { signal } : {})
  if (!res.ok) throw new Error(`config.json: HTTP ${res.status}`)
  const raw = (await res.json()) as { rpcUrl: unknown; deployment: unknown; models: unknown }
  if (typeof raw.rpcUrl !== 'string') throw new Error('config.json: rpcUrl is not a string')
  const deployment = parseDeployment(JSON.stringify(raw.deployment), 'config.json')
  const models = Array.isArray(raw.models) ? (raw.models as DashboardConfig['models']) : []
  return { rpcUrl: raw.rpcUrl, deployment, models }
}

/** A viem client for the chain the manifest names, straight to its RPC (no gateway in between). */
export function chainClient(config: DashboardConfig): PublicClient<Transport, Chain> {
  const chain = defineChain({
    id: config.deployment.chainId,
    name: `chain ${config.deployment.chainId}`,
    nativeCurrency: { name: 'Ether', symbol: 'ETH', decimals: 18 },
    rpcUrls: { default: { http: [config.rpcUrl] } },
  })
  return createPublicClient({ chain, transport: http(config.rpcUrl, { retryCount: 1 }) })
}
