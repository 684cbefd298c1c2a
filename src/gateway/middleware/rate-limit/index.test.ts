import { Hono } from 'hono'
import { expect, it } from 'vitest'
import { onError } from '../../errors.ts'
import { rateLimit } from './index.ts'

// biome-ignore lint/suspicious/noExplicitAny: response bodies are checked field by field
const json = (res: Response): Promise<any> => res.json()

it('allows N requests per window and client, then 429 with Retry-After until the window ends', async () => {
  let now = 0
  const app = new Hono()
    .use(rateLimit({ requests: 2, windowMs: 10_000, now: () => now }))
    .get('/', (c) => c.text('ok'))
  app.onError(onError)
  const get = (key: string) => app.request('/', { headers: { authorization: `Bearer ${key}` } })
  expect((await get('a')).status).toBe(200)
  expect((await get('a')).status).toBe(200)
  now = 4000
  const limited = await get('a')
  expect(limited.status).toBe(429)
  expect(limited.headers.get('retry-after')).toBe('6')
  expect((await json(limited)).error.type).toBe('rate_limit_error')
  expect((await get('b')).status).toBe(200)
  now = 10_000
  expect((await get('a')).status).toBe(200)
})
