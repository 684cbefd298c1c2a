import { execFileSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { get } from 'node:https'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { testMiner } from './fixtures.ts'
import { MinerPool } from './pool.ts'
import { startGatewayServer } from './server.ts'

const dir = mkdtempSync(join(tmpdir(), 'verity-tls-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

const pool = () => new MinerPool(testMiner(0).describe(), { miners: [testMiner(0)] as never })

/** GET over HTTPS trusting only `ca`. */
function getJson(url: string, ca: Buffer): Promise<{ status: number; body: unknown }> {
  return new Promise((resolve, reject) => {
    get(url, { ca }, (res) => {
      let text = ''
      res.on('data', (d) => {
        text += d
      })
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) }))
    }).on('error', reject)
  })
}

describe('the gateway server', () => {
  it('serves HTTPS with the operator certificate, and plain HTTP is refused on that port', async () => {
    const cert = join(dir, 'cert.pem')
    const key = join(dir, 'key.pem')
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'ec',
        '-pkeyopt',
        'ec_paramgen_curve:prime256v1',
        '-nodes',
        '-keyout',
        key,
        '-out',
        cert,
        '-days',
        '1',
        '-subj',
        '/CN=127.0.0.1',
        '-addext',
        'subjectAltName=IP:127.0.0.1',
      ],
      { stdio: 'ignore' },
    )
    const server = startGatewayServer({
      port: 0,
      pools: [pool()],
      tls: { cert: readFileSync(cert), key: readFileSync(key) },
    })
    await server.start()
    try {
      expect(server.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/)
      const models = await getJson(`${server.url}/v1/models`, readFileSync(cert))
      expect(models.status).toBe(200)
      expect((models.body as { data: { id: string }[] }).data[0]!.id).toBe(
        testMiner(0).describe().id,
      )
      // a client that does not trust the certificate gets nothing
      await expect(getJson(`${server.url}/v1/models`, Buffer.from(''))).rejects.toThrow()
      await expect(fetch(`${server.url.replace('https', 'http')}/v1/models`)).rejects.toThrow()
    } finally {
      await server.stop()
    }
  })

  it('binds the address it is given, and names a bad one', async () => {
    const server = startGatewayServer({ port: 0, host: '127.0.0.3', pools: [pool()] })
    await server.start()
    try {
      expect(server.url).toMatch(/^http:\/\/127\.0\.0\.3:\d+$/)
      expect((await fetch(`${server.url}/v1/models`)).status).toBe(200)
      await expect(fetch(`http://127.0.0.1:${server.port}/v1/models`)).rejects.toThrow()
    } finally {
      await server.stop()
    }
    expect(() => startGatewayServer({ host: 'example.org', pools: [pool()] })).toThrow(
      /cannot listen on 'example.org': not an IP address/,
    )
  })
})
