import { Hono } from 'hono'
import { expect, it } from 'vitest'
import { onError } from '../../errors.ts'
import { apiKeyAuth } from './index.ts'

// biome-ignore lint/suspicious/noExplicitAny: response bodies are checked field by field
const json = (res: Response): Promise<any> => res.json()

it('accepts only Bearer keys from the list, with OpenAI-shaped 401s', async () => {
  const app = new Hono().use(apiKeyAuth({ keys: ['k1', 'k2'] })).get('/', (c) => c.text('ok'))
  app.onError(onError)
  expect((await app.request('/', { headers: { authorization: 'Bearer k2' } })).status).toBe(200)
  expect((await app.request('/', { headers: { authorization: 'bearer  k1 ' } })).status).toBe(200)
  for (const headers of [{}, { authorization: 'Bearer k3' }, { authorization: 'k1' }]) {
    const res = await app.request('/', { headers })
    expect(res.status).toBe(401)
    expect((await json(res)).error.code).toBe('invalid_api_key')
  }
})

it('accepts a key named by its sha256 only; the digest itself is not a key', async () => {
  const { createHash } = await import('node:crypto')
  const digest = `0x${createHash('sha256').update('secret-key').digest('hex')}`
  const app = new Hono().use(apiKeyAuth({ keyHashes: [digest] })).get('/', (c) => c.text('ok'))
  app.onError(onError)
  expect((await app.request('/', { headers: { authorization: 'Bearer secret-key' } })).status).toBe(
    200,
  )
  for (const key of ['secret-keY', digest, digest.slice(2), '']) {
    const res = await app.request('/', { headers: { authorization: `Bearer ${key}` } })
    expect(res.status).toBe(401)
  }
})
