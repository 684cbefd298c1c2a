import { Hono } from 'hono'
import { expect, it } from 'vitest'
import { requestId } from './index.ts'

it('echoes a sane client id and makes one otherwise', async () => {
  const app = new Hono().use(requestId()).get('/', (c) => c.text('ok'))
  const own = await app.request('/', { headers: { 'x-request-id': 'abc-123' } })
  expect(own.headers.get('x-request-id')).toBe('abc-123')
  const bad = await app.request('/', { headers: { 'x-request-id': 'a b\u0001' } })
  expect(bad.headers.get('x-request-id')).toMatch(/^req_[0-9a-f]{24}$/)
})
