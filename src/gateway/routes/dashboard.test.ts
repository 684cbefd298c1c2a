import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { request as httpRequest } from 'node:http'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import {
  ABI_VERSION,
  DEPLOYMENT_FORMAT,
  type Deployment,
  parseDeployment,
} from '../../chain/deployment-manifest.ts'
import { createGateway } from '../app.ts'
import { startGatewayServer } from '../server.ts'
import { contentTypeOf, type DashboardOptions } from './dashboard.ts'

/** A fake build beside a secret the routes must never serve, whatever the path spelling. */
const root = mkdtempSync(join(tmpdir(), 'verity-dashboard-'))
const dist = join(root, 'dist')
mkdirSync(join(dist, 'assets'), { recursive: true })
writeFileSync(join(dist, 'index.html'), '<!doctype html><title>dash</title>')
writeFileSync(join(dist, 'assets', 'app-1a2b.js'), 'console.log(1)')
writeFileSync(join(dist, 'assets', 'app-1a2b.css'), 'body{}')
writeFileSync(join(dist, 'assets', 'blob.bin'), 'raw')
writeFileSync(join(root, 'secret.txt'), 'TOP-SECRET')
const modelRoot = `0x${'ab'.repeat(32)}`
const modelPath = join(root, 'model.gguf')
writeFileSync(modelPath, 'GGUF-bytes')

const deployment: Deployment = {
  format: DEPLOYMENT_FORMAT,
  chainId: 31337,
  abiVersion: ABI_VERSION,
  block: 7n,
  deployer: '0x00000000000000000000000000000000000000A1',
  contracts: {
    verity: '0x00000000000000000000000000000000000000b2',
    token: '0x00000000000000000000000000000000000000C3',
    libraries: {},
  },
}
const dashboard: DashboardOptions = {
  rpcUrl: 'http://127.0.0.1:8545',
  deployment,
  modelFiles: new Map([[modelRoot, modelPath]]),
  distDir: dist,
}
const app = createGateway({ pools: [], dashboard })

afterAll(() => rmSync(root, { recursive: true, force: true }))

describe('GET /dashboard', () => {
  it('serves the page and its assets with their content types', async () => {
    const bare = await app.request('/dashboard')
    expect(bare.status).toBe(301)
    expect(bare.headers.get('location')).toBe('/dashboard/')
    const page = await app.request('/dashboard/')
    expect(page.status).toBe(200)
    expect(page.headers.get('content-type')).toBe('text/html; charset=utf-8')
    expect(page.headers.get('x-content-type-options')).toBe('nosniff')
    expect(page.headers.get('cache-control')).toBe('no-cache')
    expect(await page.text()).toBe('<!doctype html><title>dash</title>')
    const index = await app.request('/dashboard/index.html')
    expect(await index.text()).toBe('<!doctype html><title>dash</title>')
    const js = await app.request('/dashboard/assets/app-1a2b.js')
    expect(js.headers.get('content-type')).toBe('text/javascript; charset=utf-8')
    expect(js.headers.get('cache-control')).toBe('public, max-age=31536000, immutable')
    expect(await js.text()).toBe('console.log(1)')
    const css = await app.request('/dashboard/assets/app-1a2b.css')
    expect(css.headers.get('content-type')).toBe('text/css; charset=utf-8')
    const bin = await app.request('/dashboard/assets/blob.bin')
    expect(bin.headers.get('content-type')).toBe('application/octet-stream')
  })

  it('maps extensions to content types, unknown ones to octet-stream', () => {
    expect(contentTypeOf('a.HTML')).toBe('text/html; charset=utf-8')
    expect(contentTypeOf('x.wasm')).toBe('application/wasm')
    expect(contentTypeOf('x.svg')).toBe('image/svg+xml')
    expect(contentTypeOf('noext')).toBe('application/octet-stream')
    expect(contentTypeOf('evil.js.exe')).toBe('application/octet-stream')
  })

  it('answers 404 to unknown files and to every traversal spelling', async () => {
    const paths = [
      '/dashboard/missing.js',
      '/dashboard/assets/',
      '/dashboard/assets',
      '/dashboard/..%2fsecret.txt',
      '/dashboard/..%2Fsecret.txt',
      '/dashboard/assets/..%2f..%2fsecret.txt',
      '/dashboard/%2e%2e/secret.txt',
      '/dashboard/%2e%2e%2fsecret.txt',
      '/dashboard/..%5csecret.txt',
      '/dashboard/%252e%252e%252fsecret.txt',
      '/dashboard/assets%2fapp-1a2b.js',
      '/dashboard/./index.html%00',
      '/dashboard/%E0%A4%A',
      `/dashboard/${encodeURIComponent(join(root, 'secret.txt'))}`,
    ]
    for (const path of paths) {
      const res = await app.request(path)
      expect(res.status, path).toBe(404)
      expect(await res.text(), path).not.toContain('TOP-SECRET')
    }
  })

  it('refuses raw ../ paths sent over a real socket', async () => {
    const server = startGatewayServer({ pools: [], dashboard, port: 0 })
    await server.start()
    try {
      for (const path of [
        '/dashboard/../secret.txt',
        '/dashboard/assets/../../secret.txt',
        '/dashboard/..%2f..%2fsecret.txt',
        '/dashboard/..\\secret.txt',
      ]) {
        const { status, body } = await new Promise<{ status: number; body: string }>(
          (resolve, reject) => {
            const req = httpRequest({ host: '127.0.0.1', port: server.port, path }, (res) => {
              let body = ''
              res.on('data', (d) => {
                body += d
              })
              res.on('end', () => resolve({ status: res.statusCode ?? 0, body }))
            })
            req.on('error', reject)
            req.end()
          },
        )
        // Node's HTTP parser itself rejects a backslash in the target with 400.
        expect([400, 404], path).toContain(status)
        expect(body, path).not.toContain('TOP-SECRET')
      }
    } finally {
      await server.stop()
    }
  })

  it('serves config.json: the RPC URL, a manifest the CLI parser accepts, the models', async () => {
    const res = await app.request('/dashboard/config.json')
    expect(res.status).toBe(200)
    expect(res.headers.get('content-type')).toMatch(/^application\/json/)
    const body = (await res.json()) as { rpcUrl: string; deployment: unknown; models: unknown[] }
    expect(body.rpcUrl).toBe('http://127.0.0.1:8545')
    expect(body.models).toEqual([])
    const parsed = parseDeployment(JSON.stringify(body.deployment), 'config.json')
    expect(parsed).toEqual(deployment)
  })

  it('serves a model file only by its exact lowercase modelRoot', async () => {
    const ok = await app.request(`/dashboard/models/${modelRoot}.gguf`)
    expect(ok.status).toBe(200)
    expect(ok.headers.get('content-type')).toBe('application/octet-stream')
    expect(await ok.text()).toBe('GGUF-bytes')
    for (const name of [
      `${modelRoot.toUpperCase().replace('0X', '0x')}.gguf`,
      `${modelRoot}`,
      `${modelRoot}.gguf.bak`,
      `0x${'cd'.repeat(32)}.gguf`,
      `..%2f${modelRoot}.gguf`,
      '..%2fsecret.txt',
    ]) {
      const res = await app.request(`/dashboard/models/${name}`)
      expect(res.status, name).toBe(404)
    }
  })

  it('answers concurrent requests with the right bytes, and oversized paths with 404', async () => {
    const names = ['index.html', 'assets/app-1a2b.js', 'assets/app-1a2b.css', 'missing.js']
    const results = await Promise.all(
      Array.from({ length: 64 }, async (_, i) => {
        const name = names[i % names.length]!
        const r = await app.request(`/dashboard/${name}`)
        return [name, r.status, await r.text()] as const
      }),
    )
    for (const [name, status, text] of results) {
      if (name === 'missing.js') expect(status).toBe(404)
      else {
        expect(status, name).toBe(200)
        expect(text).toBe(
          name === 'index.html'
            ? '<!doctype html><title>dash</title>'
            : name === 'assets/app-1a2b.js'
              ? 'console.log(1)'
              : 'body{}',
        )
      }
    }
    const long = await app.request(`/dashboard/${'a/'.repeat(20_000)}index.html`)
    expect(long.status).toBe(404)
    const wide = await app.request(`/dashboard/models/${'0'.repeat(100_000)}.gguf`)
    expect(wide.status).toBe(404)
  })

  it('is read-only: other methods are not served', async () => {
    for (const method of ['POST', 'PUT', 'DELETE']) {
      const res = await app.request('/dashboard/', { method })
      expect(res.status, method).toBe(404)
    }
  })

  it('says 503 until the app is built, then serves it without a restart', async () => {
    const later = join(root, 'later')
    const gateway = createGateway({ pools: [], dashboard: { ...dashboard, distDir: later } })
    const before = await gateway.request('/dashboard/')
    expect(before.status).toBe(503)
    expect(await before.text()).toMatch(/npm run build:dashboard/)
    mkdirSync(later)
    writeFileSync(join(later, 'index.html'), 'built')
    const after = await gateway.request('/dashboard/')
    expect(after.status).toBe(200)
    expect(await after.text()).toBe('built')
  })

  it('keeps the Host check and CORS policy in front of the dashboard', async () => {
    const guarded = createGateway({
      pools: [],
      dashboard,
      allowedHosts: ['verity.example'],
      corsOrigins: ['https://app.example'],
    })
    const rebound = await guarded.request('/dashboard/config.json', {
      headers: { host: 'attacker.example' },
    })
    expect(rebound.status).toBe(421)
    const named = await guarded.request('/dashboard/config.json', {
      headers: { host: 'verity.example', origin: 'https://app.example' },
    })
    expect(named.status).toBe(200)
    expect(named.headers.get('access-control-allow-origin')).toBe('https://app.example')
    const other = await guarded.request('/dashboard/config.json', {
      headers: { host: 'verity.example', origin: 'https://evil.example' },
    })
    expect(other.headers.get('access-control-allow-origin')).toBeNull()
    // No corsOrigins: no cross-origin reads at all.
    const plain = await app.request('/dashboard/config.json', {
      headers: { origin: 'https://app.example' },
    })
    expect(plain.headers.get('access-control-allow-origin')).toBeNull()
  })

  it('is absent from a gateway without dashboard options', async () => {
    const bare = createGateway({ pools: [] })
    expect((await bare.request('/dashboard/')).status).toBe(404)
    expect((await bare.request('/dashboard/config.json')).status).toBe(404)
  })
})
