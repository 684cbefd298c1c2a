import type { Handler } from 'hono'
import type { GatewayState } from '../state.ts'

/**
 * GET /health: 200 `{ status: 'ok' }` when every served model has an available miner (and the
 * node around the gateway, when there is one, is ready), else 503 `{ status: 'unavailable' }`;
 * per model, the number of miners and of available ones; the node's role, hotkey, uid, chain
 * and peers when there is a node.
 */
export function health(state: GatewayState): Handler {
  return async (c) => {
    const models = [...state.pools.values()].map((p) => ({
      id: p.model.id,
      miners: p.size,
      available: p.availableCount(),
    }))
    const node = await state.nodeStatus?.()
    const { ready = true, ...report } = node ?? {}
    const ok = ready && models.length > 0 && models.every((m) => m.available > 0)
    return c.json({ status: ok ? 'ok' : 'unavailable', ...report, models }, ok ? 200 : 503, {
      'cache-control': 'no-store',
    })
  }
}
