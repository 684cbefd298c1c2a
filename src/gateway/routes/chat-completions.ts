import type { Handler } from 'hono'
import { parseChatRequest, parseJsonBody } from '../params.ts'
import { chatRequest } from '../request.ts'
import { respond } from '../respond.ts'
import type { GatewayState } from '../state.ts'

/**
 * POST /v1/chat/completions: messages rendered with the model's chat template, then routed. The
 * request carries the messages and the render time, so a client can re-render them and check the
 * prompt tokens the miner ran.
 */
export function chatCompletions(state: GatewayState): Handler {
  return async (c) => {
    const started = performance.now()
    const input = parseChatRequest(parseJsonBody(await c.req.text()))
    const pool = state.pool(input.model)
    const request = chatRequest(pool.model, input, {
      maxTokens: state.defaultMaxTokens,
      chooseSeed: state.chooseSeed,
      now: state.now(),
    })
    return respond(c, state, pool, 'chat', input, request, started)
  }
}
