import { readFileSync, writeFileSync } from 'node:fs'
import type { Chain, Client, Transport } from 'viem'
import { getCode } from 'viem/actions'
import { DeploymentError } from '../errors/chain.ts'
import { type Deployment, formatDeployment, parseDeployment } from './deployment-manifest.ts'

export {
  ABI_VERSION,
  DEPLOYMENT_FORMAT,
  type Deployment,
  formatDeployment,
  parseDeployment,
} from './deployment-manifest.ts'
/** Writes the manifest to `path`. */
export function writeDeployment(path: string, deployment: Deployment): void {
  writeFileSync(path, formatDeployment(deployment))
}

/**
 * Reads a manifest from a file or an http(s) URL.
 *
 * @example
 * const deployment = await readDeployment('deployment.json')
 */
export async function readDeployment(
  source: string,
  options: { signal?: AbortSignal } = {},
): Promise<Deployment> {
  options.signal?.throwIfAborted()
  if (/^https?:\/\//i.test(source)) {
    const signal = AbortSignal.any([
      AbortSignal.timeout(10_000),
      ...(options.signal ? [options.signal] : []),
    ])
    let text: string
    try {
      const res = await fetch(source, { signal })
      if (!res.ok) throw new DeploymentError(`deployment manifest ${source}: HTTP ${res.status}`)
      text = await res.text()
    } catch (error) {
      if (error instanceof DeploymentError) throw error
      throw new DeploymentError(`cannot fetch the deployment manifest ${source}`, { cause: error })
    }
    return parseDeployment(text, source)
  }
  let text: string
  try {
    text = readFileSync(source, 'utf8')
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code
    throw new DeploymentError(
      code === 'ENOENT'
        ? `deployment manifest ${source} does not exist`
        : `cannot read the deployment manifest ${source} (${code ?? 'error'})`,
      { cause: error },
    )
  }
  return parseDeployment(text, source)
}

/**
 * Checks that a manifest belongs to the chain a client is connected to: the same chain id, and
 * contract code at the core's address.
 */
export async function checkDeployment(
  client: Client<Transport, Chain | undefined>,
  deployment: Deployment,
  chainId: number,
  options: { signal?: AbortSignal } = {},
): Promise<void> {
  if (deployment.chainId !== chainId)
    throw new DeploymentError(
      `the deployment manifest is for chain ${deployment.chainId}, but the RPC serves chain ${chainId}`,
    )
  options.signal?.throwIfAborted()
  const code = await getCode(client, { address: deployment.contracts.verity })
  if (!code || code === '0x')
    throw new DeploymentError(
      `no contract at ${deployment.contracts.verity} on chain ${chainId}: the manifest does not match this chain's state (was it reset?)`,
    )
}
