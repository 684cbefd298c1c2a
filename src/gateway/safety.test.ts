import { request as httpRequest } from 'node:http'
import { afterEach, describe, expect, it } from 'vitest'
import { testMiner } from './fixtures.ts'
import { MinerPool } from './pool.ts'
import { type GatewayServer, startGatewayServer } from './server.ts'
import type { GatewayOptions } from './state.ts'

const MODEL = 'verity-tiny-random'
let servers: GatewayServer[] = []
afterEach(async () => {
  await Promise.all(servers.map((s) => s.stop()))
  servers = []
})

async function serve(options: Partial<GatewayOptions> = {}) {
  const pool = new MinerPool(testMiner(0).describe(), { miners: [testMiner(0)] })
  const server = startGatewayServer({ port: 0, host: '127.0.0.1', pools: [pool], ...options })
  servers.push(server)
  await server.start()
  return server
}

/** A raw HTTP request (fetch cannot set Host). */
function raw(
  server: GatewayServer,
  options: { method?: string; path: string; headers?: Record<string, string>; body?: string },
): Promise<{
  status: number
  headers: Record<string, string | string[] | undefined>
  body: string
}> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      {
        host: '127.0.0.1',
        port: server.port,
        method: options.method ?? 'GET',
        path: options.path,
        headers: options.headers ?? {},
      },
      (res) => {
        let body = ''
        res.setEncoding('utf8')
        res.on('data', (d) => {
          body += d
        })
        res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body }))
      },
    )
    req.on('error', reject)
    req.end(options.body)
  })
}

const chatBody = JSON.stringify({
  model: MODEL,
  messages: [{ role: 'user', content: 'Hi' }],
  max_tokens: 2,
  seed: 1,
})

describe('Host check (DNS rebinding)', () => {
  it('answers loopback names, IP literals and the configured names; anything else is a 421', async () => {
    const server = await serve({ allowedHosts: ['api.example.com'] })
    for (const host of [
      `127.0.0.1:${server.port}`,
      `localhost:${server.port}`,
      'LOCALHOST',
      '[::1]:8080',
      '10.1.2.3',
      'api.example.com',
      'API.Example.com.:443',
    ]) {
      const r = await raw(server, { path: '/v1/models', headers: { host } })
      expect({ host, status: r.status }).toEqual({ host, status: 200 })
    }
    for (const host of ['evil.example', 'api.example.com.evil.example', 'localhost.evil', 'a b']) {
      const r = await raw(server, { path: '/v1/models', headers: { host } })
      // Node's parser already refuses a Host that is not a host (400)
      expect({ host, status: r.status }).toEqual({
        host,
        status: /^[\w.-]+$/.test(host) ? 421 : 400,
      })
      if (r.status === 421) {
        const e = JSON.parse(r.body).error
        expect(e.code).toBe('host_not_allowed')
        expect(e.message).toMatch(/--allowed-hosts/)
      }
    }
    // no Host at all (HTTP/1.0, a hand-made request): refused too
    const none = await server.app.request('/v1/models')
    expect(none.status).toBe(421)
    expect(((await none.json()) as { error: { message: string } }).error.message).toMatch(
      /no Host header/,
    )
    // a rebinding page POSTing to the API is refused before anything runs
    const post = await raw(server, {
      method: 'POST',
      path: '/v1/chat/completions',
      headers: { host: 'evil.example', 'content-type': 'application/json' },
      body: chatBody,
    })
    expect(post.status).toBe(421)
  })
})

describe('CORS', () => {
  it('off by default: no Access-Control-Allow-Origin, preflight not granted', async () => {
    const server = await serve()
    const pre = await fetch(`${server.url}/v1/chat/completions`, {
      method: 'OPTIONS',
      headers: { origin: 'https://app.example', 'access-control-request-method': 'POST' },
    })
    expect(pre.headers.get('access-control-allow-origin')).toBeNull()
    const get = await fetch(`${server.url}/v1/models`, {
      headers: { origin: 'https://app.example' },
    })
    expect(get.status).toBe(200)
    expect(get.headers.get('access-control-allow-origin')).toBeNull()
  })

  it('on for the listed origins only; the preflight passes without a key, the call still needs one', async () => {
    const server = await serve({ corsOrigins: ['https://app.example'], apiKeys: ['k'] })
    const pre = await fetch(`${server.url}/v1/chat/completions`, {
      method: 'OPTIONS',
      headers: {
        origin: 'https://app.example',
        'access-control-request-method': 'POST',
        'access-control-request-headers': 'authorization, content-type',
      },
    })
    expect(pre.status).toBe(204)
    expect(pre.headers.get('access-control-allow-origin')).toBe('https://app.example')
    expect(pre.headers.get('access-control-allow-headers')).toMatch(/authorization/)
    const other = await fetch(`${server.url}/v1/models`, {
      headers: { origin: 'https://evil.example', authorization: 'Bearer k' },
    })
    expect(other.headers.get('access-control-allow-origin')).toBeNull()
    const ok = await fetch(`${server.url}/v1/chat/completions`, {
      method: 'POST',
      headers: {
        origin: 'https://app.example',
        authorization: 'Bearer k',
        'content-type': 'application/json',
      },
      body: chatBody,
    })
    expect(ok.status).toBe(200)
    expect(ok.headers.get('access-control-allow-origin')).toBe('https://app.example')
    expect(ok.headers.get('access-control-expose-headers')).toMatch(/x-verity-receipt/)
    const noKey = await fetch(`${server.url}/v1/models`, {
      headers: { origin: 'https://app.example' },
    })
    expect(noKey.status).toBe(401)
  })
})

describe('JSON bodies only', () => {
  it('text/plain, forms, multipart and no content type are a 415 on JSON routes; JSON passes', async () => {
    const server = await serve()
    for (const path of ['/v1/chat/completions', '/v1/completions', '/v1/verity/receipts'])
      for (const type of [
        'text/plain',
        'text/plain;charset=UTF-8',
        'application/x-www-form-urlencoded',
        'multipart/form-data; boundary=x',
        'application/jsonp',
        undefined,
      ]) {
        const r = await raw(server, {
          method: 'POST',
          path,
          headers: type === undefined ? {} : { 'content-type': type },
          body: chatBody,
        })
        expect({ path, type, status: r.status }).toEqual({ path, type, status: 415 })
        expect(JSON.parse(r.body).error.code).toBe('unsupported_media_type')
      }
    for (const type of [
      'application/json',
      'Application/JSON; charset=utf-8',
      'application/vnd.x+json',
    ]) {
      const r = await raw(server, {
        method: 'POST',
        path: '/v1/chat/completions',
        headers: { 'content-type': type },
        body: chatBody,
      })
      expect({ type, status: r.status }).toEqual({ type, status: 200 })
    }
  })
})
