import type { Handler } from 'hono'
import { InvalidRequestError } from '../../errors/gateway.ts'
import type { RecentAnswers } from '../recent-answers.ts'

/**
 * GET /v1/verity/recent[?limit=N]: the gateway's latest answers (default and most: its capacity,
 * 50 unless set), newest first, each the full response its client got, so the dashboard can
 * verify one. Mounted only with the dashboard on and no API keys or accounts (see app.ts): the
 * answers carry their requests, which hold the users' prompts.
 */
export function recentAnswers(recent: RecentAnswers): Handler {
  return (c) => {
    const raw = c.req.query('limit')
    if (raw !== undefined && !/^\d{1,4}$/.test(raw))
      throw new InvalidRequestError(`limit must be an integer from 0 to ${recent.capacity}`, {
        param: 'limit',
      })
    const limit = raw === undefined ? recent.capacity : Math.min(recent.capacity, Number(raw))
    return c.json(
      {
        object: 'list',
        data: recent.list(limit).map((a) => ({
          id: a.seq,
          created: Math.floor(a.at / 1000),
          model: a.model,
          stream: a.stream,
          response: a.response,
        })),
      },
      200,
      { 'cache-control': 'no-store' },
    )
  }
}
