import { createServer as createHttpsServer } from 'node:https'
import { type AddressInfo, isIP } from 'node:net'
import { type ServerType, serve } from '@hono/node-server'
import { GatewayError } from '../errors/gateway.ts'
import { createGateway, type Gateway } from './app.ts'
import type { GatewayOptions } from './state.ts'

export type GatewayServerOptions = GatewayOptions & {
  /** 0 = a free port (default 8080). */
  port?: number
  /**
   * The address to bind (default 127.0.0.1): an operator exposes the API with `0.0.0.0` or a
   * host's address, preferably behind a TLS-terminating reverse proxy (docs/OPERATING.md).
   */
  host?: string
  /** Serve HTTPS with this certificate chain and key (PEM); plain HTTP without. */
  tls?: GatewayTls
}

/** PEM certificate chain and private key for HTTPS. */
export type GatewayTls = { cert: string | Buffer; key: string | Buffer }

export type GatewayServer = {
  app: Gateway
  /** Set once started: `http(s)://<host>:<port>` (a wildcard host shows as 127.0.0.1). */
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
  const { port = 8080, host = '127.0.0.1', tls, ...gatewayOptions } = options
  if (!isIP(host) && host !== 'localhost')
    throw new GatewayError(`cannot listen on '${host}': not an IP address`)
  // The URL a client on this host uses: a wildcard bind is reached on loopback.
  const shown = host === '0.0.0.0' ? '127.0.0.1' : host === '::' ? '::1' : host
  const app = createGateway(gatewayOptions)
  let server: ServerType | undefined
  let actualPort = 0
  return {
    app,
    get url() {
      return `${tls ? 'https' : 'http'}://${shown.includes(':') ? `[${shown}]` : shown}:${actualPort}`
    },
    get port() {
      return actualPort
    },
    async start({ signal } = {}) {
      signal?.throwIfAborted()
      if (server) return
      await new Promise<void>((resolve, reject) => {
        const s = serve(
          {
            fetch: app.fetch,
            port,
            hostname: host,
            ...(tls ? { createServer: createHttpsServer, serverOptions: tls } : {}),
          },
          (info: AddressInfo) => {
            actualPort = info.port
            resolve()
          },
        )
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
