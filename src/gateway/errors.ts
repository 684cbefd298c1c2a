import type { Context } from 'hono'
import { HTTPException } from 'hono/http-exception'
import type { ContentfulStatusCode } from 'hono/utils/http-status'
import { BaseError } from '../errors/base.ts'
import {
  GatewayError,
  NoMinerAvailableError,
  RateLimitError,
  RouteNotFoundError,
} from '../errors/gateway.ts'
import { GenerationError, TokenizerError } from '../errors/runtime.ts'

/** OpenAI's error envelope (market-and-api.md B.4): `code` is a string, never the HTTP status. */
export type OpenAIErrorBody = {
  error: { message: string; type: string; param: string | null; code: string | null }
}

export type MappedError = {
  status: ContentfulStatusCode
  body: OpenAIErrorBody
  headers: Record<string, string>
}

/**
 * Maps any thrown value to an OpenAI error: GatewayError subclasses carry their own status, type,
 * code and param; runtime refusals of a request are 400s; anything else is a 500 whose message
 * reveals nothing (no stack, no internal message).
 */
export function mapError(error: unknown): MappedError {
  const headers: Record<string, string> = {}
  if (error instanceof GatewayError) {
    if (error instanceof RateLimitError) {
      headers['retry-after'] = String(error.retryAfterSeconds)
      if (error.limit) {
        headers['x-ratelimit-limit'] = String(error.limit.limit)
        headers['x-ratelimit-remaining'] = String(error.limit.remaining)
        headers['x-ratelimit-reset'] = String(error.limit.resetSeconds)
      }
    }
    if (error instanceof NoMinerAvailableError) headers['retry-after'] = '1'
    return {
      status: error.status as ContentfulStatusCode,
      body: {
        error: {
          message: error.shortMessage,
          type: error.type,
          param: error.param,
          code: error.code,
        },
      },
      headers,
    }
  }
  if (error instanceof GenerationError || error instanceof TokenizerError)
    return {
      status: 400,
      body: {
        error: {
          message: error.shortMessage,
          type: 'invalid_request_error',
          param: null,
          code: null,
        },
      },
      headers,
    }
  if (error instanceof HTTPException && error.status < 500)
    return {
      status: error.status as ContentfulStatusCode,
      body: {
        error: {
          message: error.message || 'invalid request',
          type: 'invalid_request_error',
          param: null,
          code: null,
        },
      },
      headers,
    }
  return {
    status: 500,
    body: {
      error: {
        message:
          error instanceof BaseError
            ? `The server had an error while processing your request (${error.name}).`
            : 'The server had an error while processing your request.',
        type: 'server_error',
        param: null,
        code: null,
      },
    },
    headers,
  }
}

/** The gateway's one `onError`: handlers and middleware just throw. */
export function onError(error: unknown, c: Context): Response {
  const mapped = mapError(error)
  return c.json(mapped.body, mapped.status, mapped.headers)
}

export function notFound(c: Context): Response {
  return onError(new RouteNotFoundError(c.req.method, c.req.path), c)
}
