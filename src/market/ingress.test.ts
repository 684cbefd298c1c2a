import { createServer, type Server } from 'node:http'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type IngressBackend, startProviderIngress } from './ingress.ts'
import type { DeploymentRecord } from './provider-store.ts'

// An upstream standing in for a lease's workload: it echoes what reached it and streams.
let upstream: Server
let upstreamPort: number
const seen: { method: string; url: string; host: string | undefined; body: string }[] = []

beforeAll(async () => {
  upstream = createServer((req, res) => {
    let body = ''
    req.on('data', (d) => (body += d))
    req.on('end', () => {
      seen.push({ method: req.method!, url: req.url!, host: req.headers.host, body })
      if (req.url === '/v1/stream') {
        res.writeHead(200, { 'content-type': 'text/event-stream' })
        res.write('data: 1\n\n')
        setTimeout(() => res.end('data: [DONE]\n\n'), 50)
        return
      }
      res.writeHead(req.url === '/v1/missing' ? 404 : 200, { 'content-type': 'application/json' })
      res.end(JSON.stringify({ path: req.url }))
    })
  })
  await new Promise<void>((r) => upstream.listen(0, '127.0.0.1', r))
  upstreamPort = (upstream.address() as { port: number }).port
})

afterAll(async () => {
  await new Promise((r) => upstream.close(r))
})

function record(state: DeploymentRecord['state'], reason?: string): DeploymentRecord {
  return {
    bidId: 7n,
    orderId: 3n,
    state,
    pricePerBlock: 1n,
    resources: { cpuMilli: 1000, gpuUnits: 0, memoryBytes: 1n, storageBytes: 0n },
    modelRoot: `0x${'aa'.repeat(32)}`,
    apiKeyHash: `0x${'bb'.repeat(32)}`,
    maxTokens: undefined,
    pid: undefined,
    port: undefined,
    reason,
  }
}

function backend(
  state: DeploymentRecord['state'] | undefined,
  running: boolean,
  reason?: string,
): IngressBackend {
  return {
    address: '0x0000000000000000000000000000000000000009',
    endpoint: (id) => (id === 7n && running ? { port: upstreamPort } : undefined),
    deployment: (id) => (id === 7n && state ? record(state, reason) : undefined),
    leaseSigner: async () => ({ signer: '0x01', delegation: '0x02', message: 'm' }),
  }
}

async function withIngress(b: IngressBackend, fn: (url: string) => Promise<void>) {
  const ingress = startProviderIngress(b, { port: 0 })
  await ingress.start()
  try {
    await fn(ingress.url)
  } finally {
    await ingress.stop()
  }
}

describe('provider ingress', () => {
  it('passes a running lease through: method, path, query, body, status; streams as they come', async () => {
    await withIngress(backend('running', true), async (url) => {
      const res = await fetch(`${url}/leases/7/v1/chat/completions?x=1`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: 'Bearer k' },
        body: '{"a":1}',
      })
      expect(res.status).toBe(200)
      expect(await res.json()).toEqual({ path: '/v1/chat/completions?x=1' })
      expect(seen.at(-1)).toMatchObject({
        method: 'POST',
        url: '/v1/chat/completions?x=1',
        body: '{"a":1}',
      })
      expect(seen.at(-1)!.host).toBe(`127.0.0.1:${upstreamPort}`)
      expect((await fetch(`${url}/leases/7/v1/missing`)).status).toBe(404)
      const stream = await fetch(`${url}/leases/7/v1/stream`)
      expect(stream.headers.get('content-type')).toBe('text/event-stream')
      expect(await stream.text()).toBe('data: 1\n\ndata: [DONE]\n\n')
      const status = await (await fetch(`${url}/leases/7`)).json()
      expect(status).toMatchObject({
        leaseId: '7',
        state: 'running',
        baseUrl: `${url}/leases/7/v1`,
      })
    })
  })

  it('refuses what is not a lease it serves: bad ids 400, unknown 404, starting 503, ended 410', async () => {
    await withIngress(backend('running', true), async (url) => {
      for (const id of ['abc', '0', '-1', '07', '1'.repeat(21), '1e3'])
        expect((await fetch(`${url}/leases/${id}/v1/models`)).status, id).toBe(400)
      expect((await fetch(`${url}/leases/8/v1/models`)).status).toBe(503)
      expect((await fetch(`${url}/leases/8`)).status).toBe(404)
      expect((await fetch(`${url}/nowhere`)).status).toBe(404)
    })
    await withIngress(backend('running', false), async (url) => {
      expect((await fetch(`${url}/leases/7/v1/models`)).status).toBe(503)
      expect(((await (await fetch(`${url}/leases/7`)).json()) as { state: string }).state).toBe(
        'starting',
      )
    })
    await withIngress(backend('stopped', false, 'escrow ran dry'), async (url) => {
      const res = await fetch(`${url}/leases/7/v1/models`)
      expect(res.status).toBe(410)
      expect(((await res.json()) as { error: { message: string } }).error.message).toBe(
        'lease 7 has ended (escrow ran dry)',
      )
      expect(await (await fetch(`${url}/leases/7`)).json()).toMatchObject({
        state: 'stopped',
        reason: 'escrow ran dry',
      })
    })
    await withIngress(backend('bid', false), async (url) => {
      expect((await fetch(`${url}/leases/7`)).status).toBe(404)
    })
  })
})
