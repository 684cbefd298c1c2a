import { afterAll, describe, expect, it } from 'vitest'
import type { NodeHealth } from './health.ts'
import { NodeMetrics } from './metrics.ts'
import { opsApp, startOpsServer } from './ops-server.ts'

const HOTKEY = '0x00000000000000000000000000000000000000aa'
const healthy: NodeHealth = {
  ready: true,
  role: 'miner',
  hotkey: HOTKEY,
  uid: 3,
  chain: { reachable: true, head: 42 },
  peers: 2,
}

const servers: { stop(): Promise<void> }[] = []
afterAll(async () => {
  for (const s of servers) await s.stop()
})

describe('ops server', () => {
  it('GET /metrics reports the counts after known traffic', async () => {
    const metrics = new NodeMetrics()
    metrics.minerRequests.inc({ outcome: 'served' })
    metrics.minerRequests.inc({ outcome: 'served' })
    metrics.minerRequests.inc({ outcome: 'busy' })
    metrics.minerTokens.inc(40)
    metrics.gauge('verity_node_peers', 'Peers.', () => 5)
    const app = opsApp({ metrics, health: async () => healthy })
    const res = await app.request('/metrics')
    expect(res.status).toBe(200)
    expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0.0.4/)
    const text = await res.text()
    expect(text).toMatch(/^verity_miner_requests_total\{outcome="served"\} 2$/m)
    expect(text).toMatch(/^verity_miner_requests_total\{outcome="busy"\} 1$/m)
    expect(text).toMatch(/^verity_miner_tokens_total 40$/m)
    expect(text).toMatch(/^verity_node_peers 5$/m)
    // nothing but the exposition: no process internals from prom-client's defaults
    expect(text).not.toMatch(/process_|nodejs_/)
  })

  it('GET /health is 200 with the report when ready, 503 when not', async () => {
    let report = healthy
    const app = opsApp({ metrics: new NodeMetrics(), health: async () => report })
    const ok = await app.request('/health')
    expect(ok.status).toBe(200)
    expect(ok.headers.get('cache-control')).toBe('no-store')
    expect(await ok.json()).toEqual({
      status: 'ok',
      role: 'miner',
      hotkey: HOTKEY,
      uid: 3,
      chain: { reachable: true, head: 42 },
      peers: 2,
    })
    report = { ...healthy, ready: false, uid: null, chain: { reachable: false, head: null } }
    const down = await app.request('/health')
    expect(down.status).toBe(503)
    expect(await down.json()).toMatchObject({ status: 'unavailable', uid: null })
  })

  it('refuses other methods (405), other paths (404), and never shows an error or a stack', async () => {
    const secret = 'http://user:s3cret@rpc.example/key'
    const app = opsApp({
      metrics: new NodeMetrics(),
      health: async () => {
        throw new Error(`cannot reach ${secret}`)
      },
    })
    for (const method of ['POST', 'PUT', 'DELETE', 'PATCH']) {
      const res = await app.request('/metrics', { method })
      expect(res.status).toBe(405)
      expect(res.headers.get('allow')).toBe('GET, HEAD')
      expect((await app.request('/health', { method })).status).toBe(405)
    }
    for (const path of [
      '/',
      '/metrics/',
      '/metrics/x',
      '/health/../metrics.json',
      '/v1/models',
      '/%2e%2e/etc/passwd',
    ])
      expect((await app.request(path)).status).toBe(404)
    const failed = await app.request('/health')
    expect(failed.status).toBe(500)
    const body = await failed.text()
    expect(JSON.parse(body)).toEqual({ error: 'internal error' })
    expect(body).not.toMatch(/s3cret|at .*\.ts/)
  })

  it('listens on the address it is given (loopback by default in the CLI), port 0 a free one', async () => {
    const metrics = new NodeMetrics()
    metrics.receiptsStored.inc()
    const server = await startOpsServer({
      host: '127.0.0.1',
      port: 0,
      metrics,
      health: async () => healthy,
    })
    servers.push(server)
    expect(server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/)
    const text = await (await fetch(`${server.url}/metrics`)).text()
    expect(text).toMatch(/^verity_miner_receipts_stored_total 1$/m)
    const res = await fetch(`${server.url}/health`, { method: 'POST' })
    expect(res.status).toBe(405)
  })
})
