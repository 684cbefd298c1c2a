import { BaseError, type BaseErrorParameters } from './base.ts'

/**
 * Errors of the OpenAI-compatible gateway. Each one knows the HTTP status and the OpenAI error
 * `type` / `code` / `param` it maps to; `src/gateway/errors.ts` turns any of them into the body
 * `{ error: { message, type, param, code } }`.
 */
export type GatewayErrorParameters = BaseErrorParameters & {
  /** The request field at fault (OpenAI `param`). */
  param?: string
  /** A machine-readable code (OpenAI `code`). */
  code?: string
}

export class GatewayError extends BaseError {
  override name: string = 'GatewayError'
  readonly status: number = 500
  readonly type: string = 'server_error'
  readonly param: string | null
  readonly code: string | null

  constructor(message: string, parameters: GatewayErrorParameters = {}) {
    const { param, code, ...rest } = parameters
    super(message, rest)
    this.param = param ?? null
    this.code = code ?? null
  }
}

/** A request the gateway refuses: malformed JSON, a missing or invalid field, an unsupported option. */
export class InvalidRequestError extends GatewayError {
  override name: string = 'InvalidRequestError'
  override readonly status: number = 400
  override readonly type = 'invalid_request_error'
}

/** The prompt and the requested completion do not fit in the model's context. */
export class ContextLengthError extends InvalidRequestError {
  override name = 'ContextLengthError' as const
  constructor(message: string, parameters: GatewayErrorParameters = {}) {
    super(message, { code: 'context_length_exceeded', ...parameters })
  }
}

/** A request body larger than the gateway accepts. */
export class RequestTooLargeError extends InvalidRequestError {
  override name = 'RequestTooLargeError' as const
  override readonly status = 413
  constructor(limitBytes: number) {
    super(`the request body is larger than ${limitBytes} bytes`, { code: 'request_too_large' })
  }
}

/** A model the gateway does not serve. */
export class ModelNotFoundError extends GatewayError {
  override name = 'ModelNotFoundError' as const
  override readonly status = 404
  override readonly type = 'invalid_request_error'
  constructor(model: string) {
    super(`The model \`${model}\` does not exist or is not served by this gateway.`, {
      param: 'model',
      code: 'model_not_found',
    })
  }
}

/** A path or method the gateway does not serve. */
export class RouteNotFoundError extends GatewayError {
  override name = 'RouteNotFoundError' as const
  override readonly status = 404
  override readonly type = 'invalid_request_error'
  constructor(method: string, path: string) {
    super(`Unknown request URL: ${method} ${path}`, { code: 'unknown_url' })
  }
}

/** API keys are on and the request has none, or a wrong one. */
export class AuthenticationError extends GatewayError {
  override name = 'AuthenticationError' as const
  override readonly status = 401
  override readonly type = 'invalid_request_error'
  constructor(message: string) {
    super(message, { code: 'invalid_api_key' })
  }
}

/** The limit a 429 names in its `X-RateLimit-*` headers (Reset in seconds from now). */
export type RateLimitState = { limit: number; remaining: number; resetSeconds: number }

/** Too many requests (or tokens, or concurrent requests) for one key in the current window. */
export class RateLimitError extends GatewayError {
  override name = 'RateLimitError' as const
  override readonly status = 429
  override readonly type = 'rate_limit_error'
  readonly retryAfterSeconds: number
  readonly limit: RateLimitState | undefined
  constructor(
    retryAfterSeconds: number,
    options: { message?: string; limit?: RateLimitState } = {},
  ) {
    super(options.message ?? `Rate limit reached; retry after ${retryAfterSeconds} s.`, {
      code: 'rate_limit_exceeded',
    })
    this.retryAfterSeconds = retryAfterSeconds
    this.limit = options.limit
  }
}

/** The key's prepaid credit cannot cover the request at its longest (do not retry: top up). */
export class InsufficientCreditError extends GatewayError {
  override name = 'InsufficientCreditError' as const
  override readonly status = 402
  override readonly type = 'insufficient_quota'
  constructor(message: string) {
    super(message, { code: 'insufficient_quota' })
  }
}

/** A JSON route got a body of another media type (text/plain is what a cross-site form can send). */
export class UnsupportedMediaTypeError extends InvalidRequestError {
  override name = 'UnsupportedMediaTypeError' as const
  override readonly status = 415
  constructor(contentType: string | undefined) {
    super(
      contentType
        ? `Content-Type '${contentType.slice(0, 80)}' is not accepted: send the body as application/json.`
        : 'The request has no Content-Type: send the body as application/json.',
      { code: 'unsupported_media_type' },
    )
  }
}

/** The Host header names a host this gateway does not serve (a DNS-rebinding page, a stray proxy). */
export class HostNotAllowedError extends InvalidRequestError {
  override name = 'HostNotAllowedError' as const
  override readonly status = 421
  constructor(host: string | undefined) {
    super(
      host
        ? `Host '${host.slice(0, 100)}' is not served here (the gateway's --allowed-hosts lists the names it answers to).`
        : 'The request has no Host header.',
      { code: 'host_not_allowed' },
    )
  }
}

/** An API key the account store does not hold (CLI: revoke or top up an unknown id). */
export class AccountNotFoundError extends GatewayError {
  override name = 'AccountNotFoundError' as const
  override readonly status = 404
  override readonly type = 'invalid_request_error'
  constructor(id: string) {
    super(`no API key with id '${id}' (verity gateway keys list shows them)`, {
      code: 'key_not_found',
    })
  }
}

/** The model's chat template cannot be parsed or rendered by the gateway's Jinja subset. */
export class ChatTemplateError extends GatewayError {
  override name = 'ChatTemplateError' as const
  override readonly status: number = 500
  override readonly type: string = 'server_error'
  constructor(message: string, parameters: GatewayErrorParameters = {}) {
    super(`chat template: ${message}`, { code: 'chat_template_error', ...parameters })
  }
}

/** The chat template refused the conversation (its `raise_exception`): the client's messages are at fault. */
export class ChatTemplateRejectedError extends InvalidRequestError {
  override name = 'ChatTemplateRejectedError' as const
  constructor(message: string) {
    super(`the model's chat template rejected the messages: ${message}`, {
      param: 'messages',
      code: 'invalid_messages',
    })
  }
}

/** No miner of the model is available right now. */
export class NoMinerAvailableError extends GatewayError {
  override name = 'NoMinerAvailableError' as const
  override readonly status = 503
  override readonly type = 'service_unavailable_error'
  constructor(model: string, parameters: GatewayErrorParameters = {}) {
    super(`No miner is available for model \`${model}\`; retry later.`, {
      code: 'no_miner_available',
      ...parameters,
    })
  }
}

/** Every miner tried for a request failed. */
export class MinerFailedError extends GatewayError {
  override name: string = 'MinerFailedError'
  override readonly status = 502
  override readonly type = 'upstream_error'
  constructor(message: string, parameters: GatewayErrorParameters = {}) {
    super(message, { code: 'miner_failed', ...parameters })
  }
}

/** Two miners gave different tokens for the same seeded request during a mid-stream failover. */
export class MinerMismatchError extends MinerFailedError {
  override name = 'MinerMismatchError' as const
}

/** A feature this gateway was not set up with (e.g. forwarding receipts without a network). */
export class NotImplementedError extends GatewayError {
  override name = 'NotImplementedError' as const
  override readonly status = 501
  constructor(message: string) {
    super(message, { code: 'not_implemented' })
  }
}
