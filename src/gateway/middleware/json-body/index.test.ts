import { Hono } from 'hono'
import { expect, it } from 'vitest'
import { onError } from '../../errors.ts'
import { jsonBody } from './index.ts'

it('POST needs a JSON media type (415 otherwise); GET is left alone', async () => {
  const app = new Hono().use(jsonBody()).all('/', (c) => c.text('ok'))
  app.onError(onError)
  const post = (type?: string) =>
    app.request('/', { method: 'POST', body: '{}', headers: type ? { 'content-type': type } : {} })
  for (const t of [
    'application/json',
    'application/json; charset=utf-8',
    'application/merge-patch+json',
  ])
    expect((await post(t)).status, t).toBe(200)
  for (const t of [
    'text/plain',
    'application/x-www-form-urlencoded',
    'multipart/form-data',
    'json',
    undefined,
  ]) {
    const res = await post(t)
    expect(res.status, String(t)).toBe(415)
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe(
      'unsupported_media_type',
    )
  }
  expect((await app.request('/')).status).toBe(200)
})
