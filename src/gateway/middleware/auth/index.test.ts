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
