import type { MiddlewareHandler } from 'hono'
import type { Accounts } from '../../accounts/meter.ts'

/**
 * Gateway accounts on `/v1/*`: a key from the account store (401 `invalid_api_key` when missing,
 * unknown or revoked), counted against its requests/min (429 with Retry-After and
 * X-RateLimit-Limit/Remaining/Reset). Tokens/min, concurrency and credit are checked when the
 * request's size is known (respond.ts reserves them).
 */
export function accountAuth(accounts: Accounts): MiddlewareHandler {
  return async (c, next) => {
    const { rate } = accounts.admit(c.req.raw)
    await next()
    if (rate) {
      c.res.headers.set('x-ratelimit-limit', String(rate.limit))
      c.res.headers.set('x-ratelimit-remaining', String(rate.remaining))
      c.res.headers.set('x-ratelimit-reset', String(rate.resetSeconds))
    }
  }
}
