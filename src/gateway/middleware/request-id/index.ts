import type { MiddlewareHandler } from 'hono'

/**
 * Sets `x-request-id` on every response: the client's own (when it is short and printable) or a
 * fresh one. openai-node exposes it as `_request_id`.
 */
export function requestId(): MiddlewareHandler {
  return async (c, next) => {
    const given = c.req.header('x-request-id')
    const id =
      given && /^[\w.:-]{1,128}$/.test(given)
        ? given
        : `req_${Array.from(crypto.getRandomValues(new Uint8Array(12)), (b) => b.toString(16).padStart(2, '0')).join('')}`
    await next()
    c.res.headers.set('x-request-id', id)
  }
}
