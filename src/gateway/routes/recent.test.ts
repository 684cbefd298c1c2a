import { describe, expect, it } from 'vitest'
import { ABI_VERSION, DEPLOYMENT_FORMAT } from '../../chain/deployment-manifest.ts'
import { verifyBundle } from '../../verify/bundle.ts'
import { parseSavedResponses } from '../../verify/response.ts'
import { createGateway } from '../app.ts'
import { HangingMiner, testMiner } from '../fixtures.ts'
import { MinerPool } from '../pool.ts'
import type { GatewayOptions } from '../state.ts'
import type { DashboardOptions } from './dashboard.ts'

const MODEL = 'verity-tiny-random'
const miner = testMiner(0)
const dashboard: DashboardOptions = {
  rpcUrl: 'http://127.0.0.1:8545',
  deployment: {
    format: DEPLOYMENT_FORMAT,
    chainId: 31337,
    abiVersion: ABI_VERSION,
    block: 1n,
    deployer: '0x00000000000000000000000000000000000000A1',
    contracts: {
      verity: '0x00000000000000000000000000000000000000b2',
      token: '0x00000000000000000000000000000000000000C3',
      libraries: {},
    },
  },
  distDir: '/nonexistent-dashboard-build',
}

function gateway(options: Partial<GatewayOptions> = {}, miners = [miner]) {
  return createGateway({
    pools: [new MinerPool(miner.describe(), { miners })],
    dashboard,
    ...options,
  })
}

type App = ReturnType<typeof gateway>
const ask = (app: App, extra: Record<string, unknown> = {}, headers = {}) =>
  app.request('/v1/chat/completions', {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify({
      model: MODEL,
      messages: [{ role: 'user', content: 'Say hello.' }],
      max_tokens: 6,
      seed: 3,
      ...extra,
    }),
  })

type Listed = { id: number; created: number; model: string; stream: boolean; response: string }
async function recent(app: App, query = ''): Promise<{ status: number; data: Listed[] }> {
  const res = await app.request(`/v1/verity/recent${query}`)
  if (res.status !== 200) return { status: res.status, data: [] }
  const body = (await res.json()) as { object: string; data: Listed[] }
  expect(body.object).toBe('list')
  expect(res.headers.get('cache-control')).toBe('no-store')
  return { status: 200, data: body.data }
}

describe('GET /v1/verity/recent', () => {
  it('lists the answers served, newest first, exactly as their clients got them', async () => {
    const app = gateway({ now: () => 1_700_000_000_000 })
    expect((await recent(app)).data).toEqual([])
    const plain = await (await ask(app)).text()
    const stream = await (await ask(app, { stream: true, seed: 4 })).text()
    expect(stream.endsWith('data: [DONE]\n\n')).toBe(true)
    const { data } = await recent(app)
    expect(data.map((a) => [a.id, a.stream, a.model, a.created])).toEqual([
      [2, true, MODEL, 1_700_000_000],
      [1, false, MODEL, 1_700_000_000],
    ])
    expect(data[0]!.response).toBe(stream)
    expect(data[1]!.response).toBe(plain)
    // each is a verifiable saved response: the miner's signature over its request and tokens
    for (const a of data)
      for (const saved of parseSavedResponses(a.response)) await verifyBundle(saved.bundle)
  })

  it('bounds the list: limit, capacity, and refuses bad limits', async () => {
    const app = gateway({ dashboard: { ...dashboard, recentAnswers: 2 } })
    for (const seed of [1, 2, 3]) expect((await ask(app, { seed })).status).toBe(200)
    expect((await recent(app)).data.map((a) => a.id)).toEqual([3, 2])
    expect((await recent(app, '?limit=1')).data.map((a) => a.id)).toEqual([3])
    expect((await recent(app, '?limit=0')).data).toEqual([])
    expect((await recent(app, '?limit=1000')).data.map((a) => a.id)).toEqual([3, 2])
    for (const bad of ['-1', 'abc', '1.5', '99999', '', '0x10'])
      expect((await recent(app, `?limit=${bad}`)).status, bad).toBe(400)
  })

  it('keeps no failed, cut-off or error answers', async () => {
    const app = gateway()
    expect((await ask(app, { model: 'no-such-model' })).status).toBe(404)
    expect((await ask(app, { max_tokens: -1 })).status).toBe(400)
    // a stream the client leaves after its first chunk
    const res = await ask(app, { stream: true, max_tokens: 40 })
    const reader = res.body!.getReader()
    expect((await reader.read()).done).toBe(false)
    await reader.cancel()
    // a miner that fails: the stream ends with an error event
    const hanging = new HangingMiner(miner.hotkey)
    const slow = gateway({ idleTimeoutMs: 50 }, [hanging as never])
    expect((await ask(slow, { stream: true })).status).toBeGreaterThanOrEqual(400)
    await new Promise((r) => setTimeout(r, 100))
    expect((await recent(app)).data).toEqual([])
    expect((await recent(slow)).data).toEqual([])
    expect(hanging.aborted).toBe(1)
  })

  it('keeps concurrent answers whole and apart, within its capacity', async () => {
    const app = gateway({ dashboard: { ...dashboard, recentAnswers: 5 } })
    const bodies = await Promise.all(
      Array.from({ length: 8 }, (_, i) => ask(app, { seed: 100 + i, stream: i % 2 === 0 })),
    )
    const texts = await Promise.all(bodies.map((b) => b.text()))
    const { data } = await recent(app)
    expect(data.length).toBe(5)
    expect(data.map((a) => a.id)).toEqual([8, 7, 6, 5, 4])
    // each kept answer is one client's answer, byte for byte
    for (const a of data) expect(texts).toContain(a.response)
    expect(new Set(data.map((a) => a.response)).size).toBe(5)
  })

  it('passes a stream through: a client that hangs up still frees the miner', async () => {
    const app = gateway()
    const res = await ask(app, { stream: true, n: 4, max_tokens: 64 })
    const reader = res.body!.getReader()
    expect((await reader.read()).done).toBe(false)
    await reader.cancel()
    const pool = app.state.pools.get(MODEL)!
    await expect.poll(() => pool.status()[0]!.inFlight, { timeout: 2000 }).toBe(0)
    expect((await recent(app)).data).toEqual([])
  })

  it('accepts GET only', async () => {
    const app = gateway()
    for (const method of ['POST', 'PUT', 'DELETE', 'PATCH']) {
      const res = await app.request('/v1/verity/recent', { method })
      expect(res.status, method).toBe(405)
      expect(res.headers.get('allow')).toBe('GET, HEAD')
    }
  })

  it('does not exist without the dashboard, with API keys, or when set to 0', async () => {
    const off = createGateway({ pools: [new MinerPool(miner.describe(), { miners: [miner] })] })
    const keyed = gateway({ apiKeys: ['sk-test'] })
    const zero = gateway({ dashboard: { ...dashboard, recentAnswers: 0 } })
    const auth = { authorization: 'Bearer sk-test' }
    for (const app of [off, keyed, zero]) {
      expect((await ask(app, {}, auth)).status).toBe(200)
      const res = await app.request('/v1/verity/recent', { headers: auth })
      expect(res.status).toBe(404)
      expect(await res.text()).not.toContain('Say hello')
    }
  })
})
