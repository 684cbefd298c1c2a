import type { MiddlewareHandler } from 'hono'
import { RateLimitError } from '../../../errors/gateway.ts'

export type RateLimitOptions = {
  /** Requests allowed per window and client. */
  requests: number
  windowMs: number
  /** Identifies the client (default: the bearer token, else one shared bucket). */
  key?: (authorization: string | undefined) => string
  now?: () => number
}

/**
 * A fixed-window request limit per client: over the budget, a 429 `rate_limit_exceeded` with
 * `Retry-After` (seconds until the window ends).
 */
export function rateLimit(options: RateLimitOptions): MiddlewareHandler {
  const now = options.now ?? Date.now
  const keyOf = options.key ?? ((auth) => auth ?? '')
  const windows = new Map<string, { start: number; count: number }>()
  return async (c, next) => {
    const t = now()
    const key = keyOf(c.req.header('authorization'))
    let w = windows.get(key)
    if (!w || t - w.start >= options.windowMs) {
      if (windows.size > 10_000) windows.clear()
      w = { start: t, count: 0 }
      windows.set(key, w)
    }
    if (w.count >= options.requests)
      throw new RateLimitError(Math.max(1, Math.ceil((w.start + options.windowMs - t) / 1000)))
    w.count++
    await next()
  }
}
