import { Hono } from 'hono'
import { expect, it } from 'vitest'
import { Accounts } from '../../accounts/meter.ts'
import { FREE, fixedPriceBook } from '../../accounts/price.ts'
import { AccountStore } from '../../accounts/store.ts'
import { onError } from '../../errors.ts'
import { accountAuth } from './index.ts'

it('authenticates from the store, counts requests/min per key and sets X-RateLimit-*', async () => {
  const store = new AccountStore(':memory:')
  try {
    const accounts = new Accounts({ store, prices: fixedPriceBook(FREE) })
    const { secret } = store.create({ limits: { rpm: 2, tpm: 0, concurrency: 0 } })
    const app = new Hono()
      .use(accountAuth(accounts))
      .get('/', (c) => c.text(accounts.callerOf(c.req.raw)?.id ?? 'none'))
    app.onError(onError)
    const get = (auth?: string) =>
      app.request('/', auth === undefined ? {} : { headers: { authorization: auth } })
    const ok = await get(`Bearer ${secret}`)
    expect(await ok.text()).toBe(store.list()[0]!.id)
    expect(ok.headers.get('x-ratelimit-remaining')).toBe('1')
    expect((await get(`Bearer ${secret}`)).status).toBe(200)
    const limited = await get(`Bearer ${secret}`)
    expect(limited.status).toBe(429)
    expect(limited.headers.get('x-ratelimit-limit')).toBe('2')
    for (const auth of [undefined, '', 'Bearer', `Basic ${secret}`, `Bearer ${secret}x`])
      expect((await get(auth)).status, String(auth)).toBe(401)
  } finally {
    store.close()
  }
})
