import type { MiddlewareHandler } from 'hono'
import { UnsupportedMediaTypeError } from '../../../errors/gateway.ts'

/**
 * Refuses a POST body that is not `application/json` (or `+json`) with 415. A web page can send
 * text/plain, form and multipart bodies to any origin without a CORS preflight; requiring JSON
 * makes every cross-site call go through CORS, which the gateway denies unless configured.
 */
export function jsonBody(): MiddlewareHandler {
  return async (c, next) => {
    if (c.req.method === 'POST') {
      const type = c.req.header('content-type')
      const media = type?.split(';')[0]?.trim().toLowerCase()
      if (!media || !(media === 'application/json' || /^application\/[\w.+-]+\+json$/.test(media)))
        throw new UnsupportedMediaTypeError(type)
    }
    await next()
  }
}
