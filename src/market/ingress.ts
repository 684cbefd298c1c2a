import type { AddressInfo } from 'node:net'
import { type ServerType, serve } from '@hono/node-server'
import { type Context, Hono } from 'hono'
import type { ContentfulStatusCode } from 'hono/utils/http-status'
import { MarketError } from '../errors/market.ts'
import type { LeaseSignerStatement } from './provider.ts'
import type { DeploymentRecord } from './provider-store.ts'

/** What the ingress needs of a provider node. */
export type IngressBackend = {
  readonly address: string
  endpoint(leaseId: bigint): { port: number } | undefined
  deployment(leaseId: bigint): DeploymentRecord | undefined
  leaseSigner(leaseId: bigint): Promise<LeaseSignerStatement>
}

export type ProviderIngress = {
  readonly url: string
  readonly port: number
  start(): Promise<void>
  stop(): Promise<void>
}

const LEASE_ID = /^[1-9][0-9]{0,19}$/

/** An error in the OpenAI shape clients parse. */
function fail(c: Context, status: ContentfulStatusCode, message: string, code: string) {
  return c.json({ error: { message, type: 'invalid_request_error', param: null, code } }, status)
}

/**
 * The provider's front door (its on-chain host URI): `GET /leases/<id>` tells a tenant where its
 * lease stands, `/leases/<id>/v1/...` is the lease's OpenAI-compatible API, passed through to the
 * lease's workload as it streams (the workload checks the tenant's API key).
 *
 * @example
 * const ingress = startProviderIngress(provider, { host: '127.0.0.1', port: 8443, publicUrl })
 */
export function startProviderIngress(
  backend: IngressBackend,
  options: { host?: string; port?: number; publicUrl?: string } = {},
): ProviderIngress {
  const host = options.host ?? '127.0.0.1'
  let server: ServerType | undefined
  let actualPort = 0
  const self = () => options.publicUrl ?? `http://${host}:${actualPort}`
  const app = new Hono()
  app.get('/health', (c) => c.json({ ok: true, provider: backend.address }))
  app.get('/leases/:id', async (c) => {
    const id = c.req.param('id')
    if (!LEASE_ID.test(id)) return fail(c, 400, `'${id}' is not a lease id`, 'invalid_lease')
    const d = backend.deployment(BigInt(id))
    if (!d || d.state === 'lost' || d.state === 'bid')
      return fail(c, 404, `lease ${id} is not served here`, 'lease_not_found')
    const ready = d.state === 'running' && backend.endpoint(BigInt(id)) !== undefined
    return c.json({
      leaseId: id,
      state: d.state === 'running' ? (ready ? 'running' : 'starting') : 'stopped',
      ...(d.reason && d.state === 'stopped' ? { reason: d.reason } : {}),
      modelRoot: d.modelRoot,
      baseUrl: `${self()}/leases/${id}/v1`,
      // receipts are signed by a per-lease key; the provider's signature vouches for it
      receipts: await backend.leaseSigner(BigInt(id)),
    })
  })
  app.all('/leases/:id/v1/*', async (c) => {
    const id = c.req.param('id')
    if (!LEASE_ID.test(id)) return fail(c, 400, `'${id}' is not a lease id`, 'invalid_lease')
    const target = backend.endpoint(BigInt(id))
    if (!target) {
      const d = backend.deployment(BigInt(id))
      const why =
        d?.state === 'stopped'
          ? `lease ${id} has ended (${d.reason ?? 'closed'})`
          : `lease ${id} is not running here`
      return fail(c, d?.state === 'stopped' ? 410 : 503, why, 'lease_unavailable')
    }
    const url = new URL(c.req.url)
    const rest = url.pathname.slice(`/leases/${id}`.length)
    const headers = new Headers(c.req.raw.headers)
    headers.delete('host')
    const hasBody = c.req.method !== 'GET' && c.req.method !== 'HEAD'
    try {
      const res = await fetch(`http://127.0.0.1:${target.port}${rest}${url.search}`, {
        method: c.req.method,
        headers,
        ...(hasBody ? { body: c.req.raw.body, duplex: 'half' } : {}),
        signal: c.req.raw.signal,
      } as RequestInit)
      return new Response(res.body, { status: res.status, headers: res.headers })
    } catch {
      return fail(c, 502, `lease ${id}'s workload did not answer`, 'lease_unavailable')
    }
  })
  app.notFound((c) => fail(c, 404, `no route ${c.req.method} ${c.req.path}`, 'not_found'))
  return {
    get url() {
      return self()
    },
    get port() {
      return actualPort
    },
    async start() {
      if (server) return
      await new Promise<void>((resolve, reject) => {
        const s = serve(
          { fetch: app.fetch, port: options.port ?? 0, hostname: host },
          (info: AddressInfo) => {
            actualPort = info.port
            resolve()
          },
        )
        s.once('error', (error: NodeJS.ErrnoException) =>
          reject(
            new MarketError(
              `cannot listen on ${host}:${options.port ?? 0}: ${error.code ?? error.message}`,
            ),
          ),
        )
        server = s
      })
    },
    async stop() {
      const s = server
      server = undefined
      if (!s) return
      await new Promise<void>((resolve) => {
        s.close(() => resolve())
        ;(s as { closeAllConnections?: () => void }).closeAllConnections?.()
      })
    },
  }
}
