import type { AddressInfo } from 'node:net'
import { type ServerType, serve } from '@hono/node-server'
import { Hono } from 'hono'
import type { NodeHealth } from './health.ts'
import type { NodeMetrics } from './metrics.ts'

export type OpsServer = {
  /** `http://host:port` once listening. */
  readonly url: string
  stop(): Promise<void>
}

/**
 * The operations endpoints of a miner or validator: GET /metrics (Prometheus text) and GET /health
 * (JSON; 200 when ready, else 503). Everything else is 404, other methods on these paths 405, and
 * a failure is a bare 500: nothing here echoes input, errors or stack traces.
 */
export function opsApp(options: { metrics: NodeMetrics; health: () => Promise<NodeHealth> }) {
  const app = new Hono()
  app.get('/metrics', async (c) =>
    c.body(await options.metrics.render(), 200, { 'content-type': options.metrics.contentType }),
  )
  app.get('/health', async (c) => {
    const { ready, ...report } = await options.health()
    return c.json({ status: ready ? 'ok' : 'unavailable', ...report }, ready ? 200 : 503, {
      'cache-control': 'no-store',
    })
  })
  app.all('/metrics', (c) => c.json({ error: 'method not allowed' }, 405, { allow: 'GET, HEAD' }))
  app.all('/health', (c) => c.json({ error: 'method not allowed' }, 405, { allow: 'GET, HEAD' }))
  app.notFound((c) => c.json({ error: 'not found' }, 404))
  app.onError((_error, c) => c.json({ error: 'internal error' }, 500))
  return app
}

/** Serves `opsApp` on `host:port` (port 0: a free one). */
export async function startOpsServer(options: {
  host: string
  port: number
  metrics: NodeMetrics
  health: () => Promise<NodeHealth>
}): Promise<OpsServer> {
  const app = opsApp(options)
  let server: ServerType | undefined
  const port = await new Promise<number>((resolve, reject) => {
    server = serve({ fetch: app.fetch, port: options.port, hostname: options.host }, (info) =>
      resolve((info as AddressInfo).port),
    )
    server.once('error', reject)
  })
  const host = options.host.includes(':') ? `[${options.host}]` : options.host
  return {
    url: `http://${host}:${port}`,
    stop: () =>
      new Promise<void>((resolve) => {
        if (!server) return resolve()
        ;(server as { closeAllConnections?: () => void }).closeAllConnections?.()
        server.close(() => resolve())
      }),
  }
}
