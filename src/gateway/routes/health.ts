import type { Handler } from 'hono'
import type { GatewayState } from '../state.ts'

/**
 * GET /health: 200 `{ status: 'ok' }` when every served model has an available miner, else 503
 * `{ status: 'unavailable' }`; per model, the number of miners and of available ones.
 */
export function health(state: GatewayState): Handler {
  return (c) => {
    const models = [...state.pools.values()].map((p) => ({
      id: p.model.id,
      miners: p.size,
      available: p.availableCount(),
    }))
    const ok = models.length > 0 && models.every((m) => m.available > 0)
    return c.json({ status: ok ? 'ok' : 'unavailable', models }, ok ? 200 : 503)
  }
}
