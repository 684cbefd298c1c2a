import type { Handler } from 'hono'
import type { GatewayState } from '../state.ts'

/** GET /metrics: Prometheus text exposition format. */
export function metrics(state: GatewayState): Handler {
  return (c) =>
    c.body(state.metrics.render(state.pools.values()), 200, {
      'content-type': 'text/plain; version=0.0.4; charset=utf-8',
    })
}
