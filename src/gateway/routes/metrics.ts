import type { Handler } from 'hono'
import type { GatewayState } from '../state.ts'

/** GET /metrics: Prometheus text exposition format. */
export function metrics(state: GatewayState): Handler {
  return async (c) =>
    c.body(await state.metrics.render(state.pools.values()), 200, {
      'content-type': state.metrics.contentType,
    })
}
