import { createHash } from 'node:crypto'
import { Hono } from 'hono'
import { bodyLimit } from 'hono/body-limit'
import { cors } from 'hono/cors'
import { RequestTooLargeError } from '../errors/gateway.ts'
import { notFound, onError } from './errors.ts'
import { accountAuth } from './middleware/accounts/index.ts'
import { apiKeyAuth } from './middleware/auth/index.ts'
import { hostCheck } from './middleware/host-check/index.ts'
import { jsonBody } from './middleware/json-body/index.ts'
import { rateLimit } from './middleware/rate-limit/index.ts'
import { requestId } from './middleware/request-id/index.ts'
import { RecentAnswers, recordAnswers } from './recent-answers.ts'
import { chatCompletions } from './routes/chat-completions.ts'
import { completions } from './routes/completions.ts'
import { dashboardRoutes } from './routes/dashboard.ts'
import { health } from './routes/health.ts'
import { metrics } from './routes/metrics.ts'
import { getModel, listModels } from './routes/models.ts'
import { submitReceipt } from './routes/receipts.ts'
import { recentAnswers } from './routes/recent.ts'
import { usage } from './routes/usage.ts'
import { createState, type GatewayOptions, type GatewayState } from './state.ts'

export type Gateway = Hono & { state: GatewayState }

/** Routes whose body is JSON: any other media type is a 415 (middleware/json-body). */
const JSON_ROUTES = ['/v1/chat/completions', '/v1/completions', '/v1/verity/receipts']

/**
 * The OpenAI-compatible gateway as a hono app: the route table only; handlers live in routes/.
 * `/health` and `/metrics` are public; `/v1/*` goes through body limit, JSON-only bodies, then
 * accounts (keys, limits, credit) when set, else API keys and the rate limit when set; with
 * `dashboard` set, the web app is served at `/dashboard/` (routes/dashboard). Before all of it:
 * the Host check (when `allowedHosts` is set) and CORS (only for `corsOrigins`).
 *
 * @example
 * const app = createGateway({ pools: [new MinerPool(miner.describe(), { miners: [miner] })] })
 * const res = await app.request('/v1/models')
 */
export function createGateway(options: GatewayOptions): Gateway {
  const state = createState(options)
  const app = new Hono()
  app.use(requestId())
  app.use('*', async (c, next) => {
    state.metrics.inFlight++
    try {
      await next()
    } finally {
      state.metrics.inFlight--
      const endpoint = c.req.routePath === '/*' ? 'unmatched' : c.req.routePath
      state.metrics.requests.inc({ endpoint, method: c.req.method, status: String(c.res.status) })
      if (c.res.status >= 400) {
        const type = c.res.status >= 500 ? 'server' : 'client'
        state.metrics.errors.inc({ type, status: String(c.res.status) })
      }
    }
  })
  if (options.allowedHosts) app.use(hostCheck(options.allowedHosts))
  if (options.corsOrigins?.length) {
    const origins = [...options.corsOrigins]
    app.use(
      '*',
      cors({
        origin: origins.includes('*') ? '*' : origins,
        allowMethods: ['GET', 'POST', 'OPTIONS'],
        allowHeaders: ['authorization', 'content-type', 'x-request-id'],
        exposeHeaders: [
          'x-request-id',
          'x-verity-receipt',
          'x-verity-miner',
          'retry-after',
          'x-ratelimit-limit',
          'x-ratelimit-remaining',
          'x-ratelimit-reset',
        ],
        maxAge: 600,
      }),
    )
  }
  app.use(
    '/v1/*',
    bodyLimit({
      maxSize: state.maxBodyBytes,
      onError: () => {
        throw new RequestTooLargeError(state.maxBodyBytes)
      },
    }),
  )
  for (const path of JSON_ROUTES) app.use(path, jsonBody())
  const keysOn = Boolean(options.apiKeys?.length || options.apiKeyHashes?.length)
  if (options.accounts) app.use('/v1/*', accountAuth(options.accounts))
  else {
    if (keysOn)
      app.use(
        '/v1/*',
        apiKeyAuth({ keys: options.apiKeys ?? [], keyHashes: options.apiKeyHashes ?? [] }),
      )
    // Keyed on the key's digest once keys are checked (a made-up bearer never gets here); without
    // keys a bearer proves nothing, so all callers share one budget.
    if (options.rateLimit)
      app.use(
        '/v1/*',
        rateLimit({
          ...options.rateLimit,
          key: keysOn
            ? (auth) =>
                createHash('sha256')
                  .update(auth ?? '')
                  .digest('hex')
            : () => '',
        }),
      )
  }

  // The dashboard's receipts picker: only on an open gateway (no keys, no accounts), where the
  // answers are anyone's to read anyway; with keys they would leak one key's prompts to all.
  const keepRecent = options.dashboard?.recentAnswers ?? 50
  const open = !options.accounts && !keysOn
  const recent =
    options.dashboard && open && keepRecent > 0 ? new RecentAnswers(keepRecent) : undefined
  if (recent)
    for (const path of ['/v1/chat/completions', '/v1/completions'])
      app.use(path, recordAnswers(recent, state.now))

  app.post('/v1/chat/completions', chatCompletions(state))
  app.post('/v1/completions', completions(state))
  app.get('/v1/models', listModels(state))
  app.get('/v1/models/:model{.+}', getModel(state))
  app.post('/v1/verity/receipts', submitReceipt(state))
  app.get('/v1/usage', usage(state))
  if (recent) app.get('/v1/verity/recent', recentAnswers(recent))
  app.get('/health', health(state))
  app.get('/metrics', metrics(state))
  if (options.dashboard) app.route('/dashboard', dashboardRoutes(state, options.dashboard))
  // Read-only endpoints: any other method is 405, not a 404 that hides that the path exists.
  app.on(
    ['POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS'],
    ['/health', '/metrics', ...(recent ? ['/v1/verity/recent'] : [])],
    (c) =>
      c.json(
        {
          error: {
            message: `${c.req.routePath} accepts GET only`,
            type: 'invalid_request_error',
            param: null,
            code: 'method_not_allowed',
          },
        },
        405,
        { allow: 'GET, HEAD' },
      ),
  )

  app.notFound(notFound)
  app.onError(onError)
  return Object.assign(app, { state })
}
