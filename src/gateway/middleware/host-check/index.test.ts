import { Hono } from 'hono'
import { expect, it } from 'vitest'
import { onError } from '../../errors.ts'
import { hostCheck, hostName } from './index.ts'

it('passes loopback, IP literals and the allowed names; 421 for any other Host', async () => {
  const app = new Hono().use(hostCheck(['api.example.com'])).get('/', (c) => c.text('ok'))
  app.onError(onError)
  const get = (host?: string) => app.request('/', host === undefined ? {} : { headers: { host } })
  for (const h of ['localhost:8080', '127.0.0.1', '[::1]:1', '192.168.1.9:80', 'API.example.com'])
    expect((await get(h)).status, h).toBe(200)
  for (const h of [
    'evil.example',
    'api.example.com.evil',
    'example.com',
    'localhost@evil',
    undefined,
  ]) {
    const res = await get(h)
    expect(res.status, String(h)).toBe(421)
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe('host_not_allowed')
  }
})

it('hostName parses Host headers strictly', () => {
  expect(hostName('Example.COM:80')).toBe('example.com')
  expect(hostName('[::1]:80')).toBe('::1')
  expect(hostName('example.com.')).toBe('example.com')
  for (const bad of ['a b', 'x:y', 'a@b', '[::1', 'host:999999', 'é.com', ''])
    expect(hostName(bad), bad).toBeUndefined()
})
