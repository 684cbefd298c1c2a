import type { AddressInfo } from 'node:net'
import { type ServerType, serve } from '@hono/node-server'
import { GatewayError } from '../errors/gateway.ts'
import { createGateway, type Gateway } from './app.ts'
import type { GatewayOptions } from './state.ts'

export type GatewayServerOptions = GatewayOptions & {
  /** 0 = a free port (default 8080). */
  port?: number
  /** Loopback only (default 127.0.0.1). */
  host?: '127.0.0.1' | 'localhost' | '::1'
}

export type GatewayServer = {
  app: Gateway
  /** Set once started: `http://127.0.0.1:<port>`. */
  readonly url: string
  readonly port: number
  start(options?: { signal?: AbortSignal }): Promise<void>
  /** Stops listening, ends open connections, and resolves once the server is closed. */
  stop(options?: { signal?: AbortSignal }): Promise<void>
}

/**
 * Serves the gateway over HTTP on loopback.
 *
 * @example
 * const server = startGatewayServer({ port: 0, pools })
 * await server.start()
 * const client = new OpenAI({ baseURL: `${server.url}/v1`, apiKey: 'none' })
 * await server.stop()
 */
export function startGatewayServer(options: GatewayServerOptions): GatewayServer {
  const { port = 8080, host = '127.0.0.1', ...gatewayOptions } = options
  const app = createGateway(gatewayOptions)
  let server: ServerType | undefined
  let actualPort = 0
  return {
    app,
    get url() {
      return `http://${host.includes(':') ? `[${host}]` : host}:${actualPort}`
    },
    get port() {
      return actualPort
    },
    async start({ signal } = {}) {
      signal?.throwIfAborted()
      if (server) return
      await new Promise<void>((resolve, reject) => {
        const s = serve({ fetch: app.fetch, port, hostname: host }, (info: AddressInfo) => {
          actualPort = info.port
          resolve()
        })
        s.once('error', (error: NodeJS.ErrnoException) => {
          const why =
            error.code === 'EADDRINUSE'
              ? 'the port is in use (choose another with --port)'
              : (error.code ?? error.message)
          reject(new GatewayError(`cannot listen on ${host}:${port}: ${why}`, { cause: error }))
        })
        server = s
      })
    },
    async stop({ signal } = {}) {
      const s = server
      server = undefined
      if (!s) return
      await new Promise<void>((resolve) => {
        const onAbort = () => resolve()
        signal?.addEventListener('abort', onAbort, { once: true })
        s.close(() => resolve())
        const anyServer = s as { closeAllConnections?: () => void }
        anyServer.closeAllConnections?.()
      })
    },
  }
}
