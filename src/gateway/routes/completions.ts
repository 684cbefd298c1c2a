import type { Handler } from 'hono'
import { parseCompletionRequest, parseJsonBody } from '../params.ts'
import { completionRequest } from '../request.ts'
import { respond } from '../respond.ts'
import type { GatewayState } from '../state.ts'

/** POST /v1/completions (legacy): a text prompt (or token ids) continued as is. */
export function completions(state: GatewayState): Handler {
  return async (c) => {
    const started = performance.now()
    const input = parseCompletionRequest(parseJsonBody(await c.req.text()))
    const pool = state.pool(input.model)
    const request = completionRequest(pool.model, input, { chooseSeed: state.chooseSeed })
    return respond(c, state, pool, 'text', input, request, started)
  }
}
