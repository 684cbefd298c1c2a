import { readFileSync } from 'node:fs'
import { dirname, isAbsolute, resolve } from 'node:path'
import { createPublicClient, http } from 'viem'
import { parse as parseYaml } from 'yaml'
import { checkDeployment, type Deployment, readDeployment } from '../chain/deployment.ts'
import { UsageError } from '../errors/cli.ts'
import type { FlagSpec, ParsedArgs } from './args.ts'

/** The flags every command that talks to a chain takes. */
export const CHAIN_FLAGS = {
  rpc: { type: 'string' },
  deployment: { type: 'string' },
  config: { type: 'string' },
} as const satisfies FlagSpec

/** Help text for CHAIN_FLAGS, shared by every command's --help. */
export const CHAIN_FLAGS_HELP = `Chain: --rpc <url> (the chain's JSON-RPC endpoint) and --deployment <manifest.json|url> (what
'verity chain deploy' or 'verity devnet' wrote: chain id and contract addresses). Either may come
from VERITY_RPC / VERITY_DEPLOYMENT, or from a YAML config file (--config <file> or VERITY_CONFIG)
with keys rpc and deployment (a path relative to the config file). Flags win over the
environment, the environment over the config file.`

/** A chain a command acts on: where to reach it, its id, and where Verity lives on it. */
export type ChainTarget = {
  rpcUrl: string
  chainId: number
  deployment: Deployment
}

type Config = { rpc?: string; deployment?: string }

function readConfig(path: string): Config {
  let text: string
  try {
    text = readFileSync(path, 'utf8')
  } catch (error) {
    throw new UsageError(`cannot read the config file ${path}`, { cause: error })
  }
  let raw: unknown
  try {
    raw = parseYaml(text)
  } catch (error) {
    throw new UsageError(`config file ${path} is not YAML`, { cause: error })
  }
  if (raw === null || raw === undefined) return {}
  if (typeof raw !== 'object' || Array.isArray(raw))
    throw new UsageError(`config file ${path} must be a mapping of keys to values`)
  const config = raw as Record<string, unknown>
  const out: Config = {}
  for (const key of ['rpc', 'deployment'] as const) {
    const value = config[key]
    if (value === undefined) continue
    if (typeof value !== 'string' || value === '')
      throw new UsageError(`config file ${path}: ${key} must be a string`)
    out[key] =
      key === 'deployment' && !/^https?:\/\//i.test(value) && !isAbsolute(value)
        ? resolve(dirname(path), value)
        : value
  }
  return out
}

/** Where the RPC and the manifest come from: flags, then environment, then the config file. */
export function chainSources(
  flags: ParsedArgs['flags'],
  env: NodeJS.ProcessEnv = process.env,
): { rpc: string | undefined; deployment: string | undefined } {
  const configPath = (flags.config as string | undefined) ?? env.VERITY_CONFIG
  const config = configPath ? readConfig(configPath) : {}
  return {
    rpc: (flags.rpc as string | undefined) ?? env.VERITY_RPC ?? config.rpc,
    deployment:
      (flags.deployment as string | undefined) ?? env.VERITY_DEPLOYMENT ?? config.deployment,
  }
}

/** The chain id behind `rpcUrl`; an unreachable RPC is one clear line. */
export async function probeChainId(
  rpcUrl: string,
  options: { signal?: AbortSignal } = {},
): Promise<number> {
  if (!/^(https?|wss?):\/\/\S+$/i.test(rpcUrl))
    throw new UsageError(`--rpc must be an http(s) or ws(s) URL, got '${rpcUrl}'`)
  const client = createPublicClient({ transport: http(rpcUrl, { timeout: 10_000, retryCount: 0 }) })
  try {
    options.signal?.throwIfAborted()
    return await client.getChainId()
  } catch (error) {
    if (options.signal?.aborted) throw error
    throw new UsageError(`cannot reach the chain at ${rpcUrl}`, { cause: error })
  }
}

/**
 * Resolves the chain a command acts on: the RPC URL and the deployment manifest (both required:
 * no command guesses an address), checked against each other (same chain id, the core's code
 * present).
 */
export async function resolveChainTarget(
  flags: ParsedArgs['flags'],
  options: { signal?: AbortSignal; env?: NodeJS.ProcessEnv } = {},
): Promise<ChainTarget> {
  const sources = chainSources(flags, options.env)
  if (!sources.rpc)
    throw new UsageError(
      '--rpc <url> is required (or VERITY_RPC, or rpc in the config file): the chain, like http://127.0.0.1:8545',
    )
  if (!sources.deployment)
    throw new UsageError(
      "--deployment <manifest> is required (or VERITY_DEPLOYMENT, or deployment in the config file): what 'verity chain deploy' or 'verity devnet' wrote",
    )
  const chainId = await probeChainId(sources.rpc, options)
  const deployment = await readDeployment(sources.deployment, options)
  const client = createPublicClient({
    transport: http(sources.rpc, { timeout: 10_000, retryCount: 0 }),
  })
  await checkDeployment(client, deployment, chainId, options)
  return { rpcUrl: sources.rpc, chainId, deployment }
}
