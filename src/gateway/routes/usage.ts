import type { Handler } from 'hono'
import { InvalidRequestError, NotImplementedError } from '../../errors/gateway.ts'
import { formatAmount } from '../accounts/price.ts'
import type { GatewayState } from '../state.ts'

/**
 * GET /v1/usage[?limit=N]: the calling key's own account: balance (micro-units, and in units as
 * text), limits, totals and its latest N requests (default 20, at most 100). No other key's.
 */
export function usage(state: GatewayState): Handler {
  return (c) => {
    const accounts = state.accounts
    const caller = accounts?.callerOf(c.req.raw)
    if (!accounts || !caller) throw new NotImplementedError('this gateway runs without accounts')
    const raw = c.req.query('limit')
    if (raw !== undefined && !/^\d{1,3}$/.test(raw))
      throw new InvalidRequestError('limit must be an integer from 0 to 100', { param: 'limit' })
    const limit = raw === undefined ? 20 : Math.min(100, Number(raw))
    const u = accounts.store.usage(caller.id, limit)
    const a = u.account
    return c.json({
      object: 'usage',
      key: { id: a.id, name: a.name, created: Math.floor(a.createdAt / 1000) },
      balance: a.balance.toString(),
      held: a.held.toString(),
      balance_units: formatAmount(a.balance),
      limits: {
        requests_per_minute: a.limits.rpm,
        tokens_per_minute: a.limits.tpm,
        max_concurrent: a.limits.concurrency,
      },
      totals: {
        requests: u.totals.requests,
        prompt_tokens: u.totals.promptTokens,
        completion_tokens: u.totals.completionTokens,
        cost: u.totals.cost.toString(),
      },
      recent: u.recent.map((r) => ({
        model: r.model,
        prompt_tokens: r.promptTokens,
        completion_tokens: r.completionTokens,
        cost: r.cost.toString(),
        outcome: r.outcome,
        created: Math.floor(r.at / 1000),
      })),
    })
  }
}
