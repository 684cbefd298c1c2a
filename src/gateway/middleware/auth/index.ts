import { createHash, timingSafeEqual } from 'node:crypto'
import type { MiddlewareHandler } from 'hono'
import { AuthenticationError } from '../../../errors/gateway.ts'

export type ApiKeyAuthOptions = {
  /** Accepted keys; compared in constant time. */
  keys?: readonly string[]
  /**
   * Accepted keys named by their sha256 (0x-prefixed hex): a server that must not hold the keys
   * themselves (a leased deployment learns only the hash its public spec carries).
   */
  keyHashes?: readonly string[]
}

/**
 * Requires `Authorization: Bearer <key>` with one of `keys` (OpenAI clients send their `apiKey`
 * this way). A missing or wrong key is a 401 `invalid_api_key`.
 */
export function apiKeyAuth(options: ApiKeyAuthOptions): MiddlewareHandler {
  const keys = (options.keys ?? []).map((k) => Buffer.from(k))
  const hashes = (options.keyHashes ?? []).map((h) =>
    Buffer.from(h.toLowerCase().replace(/^0x/, ''), 'hex'),
  )
  return async (c, next) => {
    const header = c.req.header('authorization')
    if (!header)
      throw new AuthenticationError(
        "You didn't provide an API key. Provide it in an Authorization header (Bearer <key>).",
      )
    const m = /^Bearer\s+(.+)$/i.exec(header.trim())
    const given = Buffer.from(m ? m[1]!.trim() : '')
    const digest = createHash('sha256').update(given).digest()
    const ok =
      keys.some((k) => k.length === given.length && timingSafeEqual(k, given)) ||
      hashes.some((h) => h.length === digest.length && timingSafeEqual(h, digest))
    if (!ok) throw new AuthenticationError('Incorrect API key provided.')
    await next()
  }
}
