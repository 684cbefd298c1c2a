import { type ProviderIngress, startProviderIngress } from './ingress.ts'
import { ProviderNode, type ProviderNodeOptions } from './provider.ts'

export type StartProviderOptions = Omit<ProviderNodeOptions, 'hostUri'> & {
  /** The ingress's bind address (default 127.0.0.1) and port (0: a free one). */
  host?: string
  port?: number
  /** The URL tenants reach the ingress at, published on chain (default: the bound address). */
  hostUri?: string
}

export type RunningProvider = {
  node: ProviderNode
  ingress: ProviderIngress
  stop(): Promise<void>
}

/**
 * A provider as one starts it: its ingress listening first (its URL is what the chain
 * publishes), then the node registered and polling.
 *
 * @example
 * const p = await startProvider({ publicClient, wallet, account, market, … , port: 0 })
 * await p.stop()
 */
export async function startProvider(options: StartProviderOptions): Promise<RunningProvider> {
  const { host, port, hostUri, ...rest } = options
  let node: ProviderNode | undefined
  const ingress = startProviderIngress(
    {
      get address() {
        return options.account.address
      },
      endpoint: (id) => node?.endpoint(id),
      deployment: (id) => node?.deployment(id),
      leaseSigner: async (id) => {
        if (!node) throw new Error('provider not started')
        return await node.leaseSigner(id)
      },
    },
    { host: host ?? '127.0.0.1', port: port ?? 0, ...(hostUri ? { publicUrl: hostUri } : {}) },
  )
  await ingress.start()
  node = new ProviderNode({ ...rest, hostUri: hostUri ?? ingress.url })
  try {
    await node.start()
  } catch (error) {
    await node.stop().catch(() => {})
    await ingress.stop()
    throw error
  }
  const started = node
  return {
    node: started,
    ingress,
    async stop() {
      await started.stop()
      await ingress.stop()
    },
  }
}
